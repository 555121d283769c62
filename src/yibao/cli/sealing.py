"""Every command's output sealed as the HTTP answers are (:mod:`yibao.api.sealing`).

A command that works on the platform's data (a token's listings, the operator's commands)
prints through :class:`SealedText`: each line written to standard output or standard error
has its identity numbers masked with :func:`yibao.identity.mask_identity_numbers`, except
the numbers :func:`yibao.registry.access.identity_number_for` allowed in this command's
answer (its :func:`yibao.identity.answer_scope`, whose ``why`` — ``yibao filings
certificate`` — is recorded with every full number read). Free text stored as written (a
reason, a note, a name) is sealed here on the way out, as the pages and the API seal it.

The file-only commands (``settle``, ``synth``, ``simulate``) read no personal data from the
platform and print the contract's output as it is; the server's commands (``serve``,
``demo``) seal each HTTP answer themselves.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from yibao.identity import AnswerScope, answer_scope, mask_identity_numbers

# the long-running commands: their HTTP answers are sealed by the app, per request
UNSEALED = frozenset({"serve", "demo"})


class SealedText:
    """A text stream whose lines reach ``stream`` with identity numbers masked. A line is
    held until its end (or a flush), so a number written in two pieces is still seen
    whole. It offers no ``buffer``: nothing can write around it."""

    def __init__(self, stream: TextIO, answer: AnswerScope) -> None:
        self._stream = stream
        self._answer = answer
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text  # bytes raise TypeError, as a text stream does
        if "\n" in self._pending:
            lines, _, self._pending = self._pending.rpartition("\n")
            self._stream.write(mask_identity_numbers(lines + "\n", keep=self._answer.shown))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(mask_identity_numbers(self._pending, keep=self._answer.shown))
            self._pending = ""
        self._stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._stream.isatty()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str:
        return getattr(self._stream, "errors", None) or "strict"

    def fileno(self) -> int:
        return self._stream.fileno()


@contextmanager
def sealed_output(why: str) -> Iterator[AnswerScope]:
    """Standard output and standard error sealed for one command, ``why`` its name."""
    with answer_scope(why) as answer:
        out, err = sys.stdout, sys.stderr
        sealed_out, sealed_err = SealedText(out, answer), SealedText(err, answer)
        sys.stdout, sys.stderr = sealed_out, sealed_err
        try:
            yield answer
        finally:
            try:
                sealed_out.flush()
                sealed_err.flush()
            finally:
                sys.stdout, sys.stderr = out, err


def sealing(name: str, invoke: Callable[[Any], Any], subcommands: Any = None) -> Any:
    """``invoke`` of the root's command ``name`` run inside :func:`sealed_output`; a group's
    answer is named by the subcommand too (command names only, never an argument)."""

    def sealed_invoke(ctx: Any) -> Any:
        words = ["yibao", name]
        protected = list(getattr(ctx, "_protected_args", None) or [])
        if subcommands is not None and protected and protected[0] in subcommands:
            words.append(protected[0])
        with sealed_output(" ".join(words)):
            return invoke(ctx)

    return sealed_invoke
