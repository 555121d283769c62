"""Printed documents anyone can verify (验证): each printed certificate, slip, letter or
statement is recorded with an unguessable code; the public page ``/verify/<code>`` says
whether the document is genuine and whether it is still valid, from the live object."""
