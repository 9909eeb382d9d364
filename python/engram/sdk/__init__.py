"""``engram.sdk``: the original Engram SDK's public names, on the Rust core."""

from __future__ import annotations

from typing import Any

from engram.sdk.client import EngramClient
from engram.sdk.exceptions import (
    EngramError,
    IngestError,
    InvalidCIDError,
    MinerOfflineError,
    QueryError,
)

__all__ = [
    "EngramClient",
    "AsyncEngramClient",
    "EngramError",
    "MinerOfflineError",
    "IngestError",
    "QueryError",
    "InvalidCIDError",
    "EngramVectorStore",
]


def __getattr__(name: str) -> Any:
    if name == "AsyncEngramClient":
        from engram.sdk.async_client import AsyncEngramClient

        return AsyncEngramClient
    if name == "EngramVectorStore":
        try:
            from engram.sdk.langchain import EngramVectorStore
        except ImportError:
            try:
                from engram.sdk.llama_index import EngramVectorStore  # type: ignore[assignment]
            except ImportError as e:
                raise ImportError(
                    "EngramVectorStore requires langchain-core or llama-index-core. "
                    "Install one: pip install langchain-core (or llama-index-core)"
                ) from e
        return EngramVectorStore
    raise AttributeError(f"module 'engram.sdk' has no attribute {name!r}")
