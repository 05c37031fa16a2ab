"""Errors a user can cause. The CLI prints `error: <message>` and exits 2; never a traceback."""

from __future__ import annotations

from pathlib import Path


class ExitkitError(Exception):
    """Base of every user-facing error; the message is one line that says what to do next."""

    exit_code = 2


def shown_path(path: str | Path) -> str:
    """A path as text anyone can print and store: a name that is not UTF-8 (held by Python as
    surrogate escapes) shows its bad bytes as `\\xNN`; every other name is as it is."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


class BadExport(ExitkitError):
    """An export file that cannot be read: names the file, the line when known, and what was expected."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = shown_path(path)
        self.line = line
        self.message = " ".join(str(message).split())  # always one line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {self.message}")


class BadWorkload(ExitkitError):
    """A workload file that does not validate: names the file and the field."""

    def __init__(self, path: str | Path, field: str | None, message: str) -> None:
        self.path = str(path)
        self.field = field
        self.message = " ".join(str(message).split())
        where = f"{self.path}: {field}" if field else self.path
        super().__init__(f"{where}: {self.message}")


class StoreError(ExitkitError):
    """The DuckDB store cannot be opened or used (missing, locked, not an exitkit store)."""


class BadPrice(ExitkitError):
    """A price catalog entry or price override that is not usable."""


class IngestFailed(ExitkitError):
    """One or more files were bad; nothing from this call was kept (one line per bad file)."""

    def __init__(self, errors: list[BadExport]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class CollectError(ExitkitError):
    """A collection that cannot go on; the message says what to do next."""


class CredentialError(CollectError):
    """Missing, expired or refused credentials; the message names where they come from."""


class OutputError(ExitkitError):
    """An output that cannot be written: the folder is read-only or in use, or a value in it is not a
    finite number (an input out of range got through; nothing is written rather than a wrong number)."""
