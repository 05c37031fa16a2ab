"""Errors of the collectors: `ExitkitError`s, so the CLI prints `error: …` and exits 2."""

from __future__ import annotations

from exitkit.errors import ExitkitError


class CollectError(ExitkitError):
    """A collection that cannot go on; the message says what to do next."""


class CredentialError(CollectError):
    """Missing, expired or refused credentials; the message names where they come from."""
