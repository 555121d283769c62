"""Every HTTP answer sealed: no full identity number leaves in a body unless the service
layer decided this caller may see it.

One ASGI middleware over the whole app — REST (``/api/v1``), the pages, FHIR and the
national interface — opens an :func:`yibao.identity.answer_scope` for each request (its
``why`` is the method and path, recorded with every full number read) and masks every
identity number in JSON, HTML and CSV bodies and in every answer's headers (a download's
file name) with :func:`yibao.identity.mask_identity_numbers`, except the numbers
:func:`yibao.registry.access.identity_number_for` allowed in this answer. Other bodies (PDF
printouts, uploaded scans and files) are passed as they are.
Free text (reasons, notes, names, audit entries, stored idempotent replies) is stored as
written and sealed here, on the way out, whatever route or template shows it.

A page may also echo what its own caller typed (the window's search box, the registration
form): numbers sent in the request's query string or form are that caller's own input and
stay whole in an HTML answer; a JSON answer echoes nothing.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yibao.identity import answer_scope, identity_numbers_in, mask_identity_numbers

_SEALED = ("json", "text/html", "text/csv")
_FORM = "application/x-www-form-urlencoded"
_FORM_LIMIT = 64 * 1024  # a form larger than this is not searched for echoed numbers


def _sealed_type(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return any(marker in kind for marker in _SEALED)


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return "utf-8"


def _sealed_header(value: bytes, keep: set[str]) -> bytes:
    """A header's value (a download's ``Content-Disposition`` file name, a ``Location``)
    with its numbers masked; headers are latin-1, their non-ASCII percent-encoded."""
    text = value.decode("latin-1")
    masked = mask_identity_numbers(text, keep=keep)
    return value if masked == text else masked.encode("latin-1")


class IdentitySeal:
    """The middleware; see the module."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        why = f"{scope['method']} {scope.get('root_path', '')}{scope['path']}"
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        form = bytearray()
        is_form = any(
            name.lower() == b"content-type" and value.lower().startswith(_FORM.encode())
            for name, value in scope.get("headers", [])
        )

        async def receive_and_keep() -> Message:
            message = await receive()
            if is_form and message["type"] == "http.request" and len(form) < _FORM_LIMIT:
                form.extend(message.get("body", b""))
            return message

        with answer_scope(why) as answer:
            start: Message | None = None
            started = False
            charset = "utf-8"
            html = False
            carry = b""

            def seal(body: bytes) -> bytes:
                keep = set(answer.shown)
                if html:  # the caller's own input may be echoed to them (see the module)
                    keep |= identity_numbers_in(query)
                    keep |= identity_numbers_in(bytes(form).decode("utf-8", "replace"))
                text = body.decode(charset, "surrogateescape")
                return mask_identity_numbers(text, keep=keep).encode(charset, "surrogateescape")

            async def send_sealed(message: Message) -> None:
                nonlocal start, started, charset, html, carry
                if message["type"] == "http.response.start":
                    message["headers"] = [
                        (name, _sealed_header(value, answer.shown))
                        for name, value in message.get("headers", [])
                    ]
                    content_type = MutableHeaders(raw=message["headers"]).get("content-type", "")
                    if not _sealed_type(content_type):
                        await send(message)
                        return
                    start, charset = message, _charset(content_type)
                    html = "html" in content_type.lower()
                    return
                if start is None or message["type"] != "http.response.body":
                    await send(message)
                    return
                body = carry + message.get("body", b"")
                more = bool(message.get("more_body", False))
                headers = MutableHeaders(raw=start["headers"])
                if not started and not more:
                    out = seal(body) if body else body
                    if body:
                        headers["content-length"] = str(len(out))
                    started = True
                    await send(start)
                    await send({"type": "http.response.body", "body": out, "more_body": False})
                    return
                if not started:  # a stream: its length is unknown until its end
                    if "content-length" in headers:
                        del headers["content-length"]
                    started = True
                    await send(start)
                # numbers never span lines: a stream is sealed line by line
                cut = body.rfind(b"\n") + 1 if more else len(body)
                carry = body[cut:]
                await send(
                    {"type": "http.response.body", "body": seal(body[:cut]), "more_body": more}
                )

            await self.app(scope, receive_and_keep, send_sealed)
