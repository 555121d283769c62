"""The pages (the people's face of Yibao): server-rendered, Chinese first, over the same
services as the API. :func:`yibao.web.app.install_pages` adds them to the app."""
