"""``AsyncEngramClient``: :class:`EngramClient`'s methods as coroutines.

Each call runs the synchronous client in a worker thread; the native call releases the GIL
while it waits on the node, so many calls overlap truly (the Rust client underneath keeps a
connection pool and its retries).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from engram.sdk.client import DEFAULT_MINER_URL, EngramClient


class AsyncEngramClient:
    """The original client's constructor and methods, awaitable."""

    def __init__(
        self,
        miner_url: str = DEFAULT_MINER_URL,
        timeout: float = 30.0,
        namespace: Optional[str] = None,
        namespace_key: Optional[str] = None,
        encryption: Any = None,
        keypair: Any = None,
    ) -> None:
        self._sync = EngramClient(miner_url, timeout, namespace, namespace_key, encryption, keypair)
        self.miner_url = self._sync.miner_url

    def __repr__(self) -> str:
        return f"AsyncEngramClient(miner_url={self.miner_url!r}, timeout={self._sync.timeout})"

    async def ingest(self, text: str, metadata: Optional[Dict[str, Any]] = None, *, ttl_s: Optional[int] = None) -> str:
        return await asyncio.to_thread(lambda: self._sync.ingest(text, metadata, ttl_s=ttl_s))

    async def ingest_embedding(
        self,
        embedding: Sequence[float],
        metadata: Optional[Dict[str, Any]] = None,
        *,
        text: Optional[str] = None,
        ttl_s: Optional[int] = None,
    ) -> str:
        return await asyncio.to_thread(lambda: self._sync.ingest_embedding(embedding, metadata, text=text, ttl_s=ttl_s))

    async def query(
        self,
        text: str,
        top_k: int = 10,
        filter: Optional[Dict[str, Any]] = None,
        *,
        mode: str = "dense",
        keyword_weight: Optional[float] = None,
    ) -> List[Dict[str, Any]]:
        return await asyncio.to_thread(
            lambda: self._sync.query(text, top_k, filter, mode=mode, keyword_weight=keyword_weight)
        )

    async def query_by_vector(
        self, vector: Sequence[float], top_k: int = 10, filter: Optional[Dict[str, Any]] = None
    ) -> List[Dict[str, Any]]:
        return await asyncio.to_thread(self._sync.query_by_vector, vector, top_k, filter)

    async def list(
        self, filter: Optional[Dict[str, Any]] = None, limit: int = 50, offset: int = 0
    ) -> List[Dict[str, Any]]:
        return await asyncio.to_thread(self._sync.list, filter, limit, offset)

    async def batch_ingest_file(
        self, path: Union[str, Path], return_errors: bool = False
    ) -> Union[List[str], Tuple[List[str], List[str]]]:
        return await asyncio.to_thread(self._sync.batch_ingest_file, path, return_errors)

    async def ingest_conversation(
        self,
        messages: Iterable[Dict[str, str]],
        *,
        session_id: Optional[str] = None,
        metadata: Optional[Dict[str, Any]] = None,
    ) -> List[str]:
        return await asyncio.to_thread(
            self._sync.ingest_conversation, list(messages), session_id=session_id, metadata=metadata
        )

    async def get(self, cid: str) -> Dict[str, Any]:
        return await asyncio.to_thread(self._sync.get, cid)

    async def delete(self, cid: str) -> bool:
        return await asyncio.to_thread(self._sync.delete, cid)

    async def delete_many(self, cids: Sequence[str]) -> Dict[str, Any]:
        return await asyncio.to_thread(self._sync.delete_many, list(cids))

    async def delete_document(self, cid: str) -> Dict[str, Any]:
        return await asyncio.to_thread(self._sync.delete_document, cid)

    async def health(self) -> Dict[str, Any]:
        return await asyncio.to_thread(self._sync.health)

    async def is_online(self) -> bool:
        return await asyncio.to_thread(self._sync.is_online)
