"""The exceptions of ``engram.sdk``: the original SDK's classes, names and messages.

``EngramError`` is the base of every error the SDK raises for a node or the embedded store.
Bad input gets the exception of the method it was given to (``IngestError`` for ingest,
``QueryError`` for a query) with the reason, and nothing is stored.
"""

from __future__ import annotations


class EngramError(Exception):
    """Base class of every Engram SDK error."""


class MinerOfflineError(EngramError):
    """The node could not be reached, or did not answer in time."""

    def __init__(self, url: str, cause: BaseException | str | None = None) -> None:
        self.url = url
        self.cause = cause
        super().__init__(f"Can't reach the miner at {url}. Is it running? Start it with: engram serve")


class IngestError(EngramError):
    """A memory could not be stored (the reason is in the message)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"Couldn't store your data: {message}")


class QueryError(EngramError):
    """A search failed (the reason is in the message)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"Search failed: {message}")


class InvalidCIDError(EngramError):
    """A node answered a content identifier that does not parse."""

    def __init__(self, cid: str) -> None:
        self.cid = cid
        super().__init__(
            f"The miner returned a malformed content ID ({cid!r}). This is a miner-side "
            "issue — try a different miner or report it."
        )


__all__ = [
    "EngramError",
    "MinerOfflineError",
    "IngestError",
    "QueryError",
    "InvalidCIDError",
]
