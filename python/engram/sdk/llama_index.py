"""LlamaIndex: ``EngramVectorStore`` (a ``BasePydanticVectorStore``) and ``EngramEmbedding``
(our embedder as a LlamaIndex ``BaseEmbedding``).

``EngramVectorStore(miner_url=…)`` stores nodes on an Engram node, as the original's does;
``EngramVectorStore(data_dir=…)`` in the embedded store. Each node is one memory: its vector
(the one LlamaIndex computed), its text, and its metadata with LlamaIndex's own node record
(``node_to_metadata_dict``), so a query returns the nodes as they were added. Deleting by
``ref_doc_id`` removes every node of that document (a private namespace on a node, where
public memories are permanent).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.schema import BaseNode, MetadataMode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    FilterCondition,
    FilterOperator,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

import engram
from engram.sdk.client import DEFAULT_MINER_URL, EngramClient


class EngramEmbedding(BaseEmbedding):
    """all-MiniLM-L6-v2 in Rust (384 dimensions, identical bytes on every CPU), no PyTorch."""

    model_name: str = "sentence-transformers/all-MiniLM-L6-v2"

    @classmethod
    def class_name(cls) -> str:
        return "EngramEmbedding"

    def _get_query_embedding(self, query: str) -> List[float]:
        return [float(x) for x in engram.embed(query)]

    async def _aget_query_embedding(self, query: str) -> List[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> List[float]:
        return [float(x) for x in engram.embed(text)]

    def _get_text_embeddings(self, texts: List[str]) -> List[List[float]]:
        return [list(map(float, v)) for v in engram.embed(texts)]


def _filters(filters: Optional[MetadataFilters]) -> Optional[Dict[str, Any]]:
    """LlamaIndex filters as Engram's metadata equality filters (all must hold)."""
    if filters is None or not filters.filters:
        return None
    if filters.condition not in (None, FilterCondition.AND):
        raise NotImplementedError("Engram filters are conjunctions of equalities (AND)")
    out: Dict[str, Any] = {}
    for f in filters.filters:
        if isinstance(f, MetadataFilters) or f.operator != FilterOperator.EQ:
            raise NotImplementedError("Engram filters are metadata equalities (FilterOperator.EQ)")
        out[f.key] = f.value
    return out


class EngramVectorStore(BasePydanticVectorStore):
    """Engram memories as a LlamaIndex vector store (node or embedded)."""

    stores_text: bool = True
    is_embedding_query: bool = True
    flat_metadata: bool = False
    miner_url: Optional[str] = None

    _client: Any = PrivateAttr()

    def __init__(
        self,
        miner_url: Optional[str] = None,
        timeout: float = 30.0,
        *,
        data_dir: Optional[str] = None,
        namespace: Optional[str] = None,
        keypair: Any = None,
        encryption: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.miner_url = None if data_dir is not None else (miner_url or DEFAULT_MINER_URL)
        if data_dir is not None:
            self._client = engram.Engram(data_dir, namespace=namespace, encryption=encryption)
        else:
            self._client = EngramClient(
                self.miner_url or DEFAULT_MINER_URL,
                timeout,
                namespace=namespace,
                keypair=keypair,
                encryption=encryption,
            )

    @classmethod
    def class_name(cls) -> str:
        return "EngramVectorStore"

    @property
    def client(self) -> Any:
        return self._client

    def add(self, nodes: Sequence[BaseNode], **add_kwargs: Any) -> List[str]:
        ids = []
        for node in nodes:
            text = node.get_content(metadata_mode=MetadataMode.NONE)
            meta = node_to_metadata_dict(node, remove_text=True, flat_metadata=self.flat_metadata)
            embedding = node.get_embedding() if node.embedding is not None else None
            if embedding is not None and len(embedding) == engram.EMBEDDING_DIM:
                self._client.ingest_embedding(embedding, meta, text=text)
            else:
                self._client.ingest(text, meta)
            ids.append(node.node_id)
        return ids

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        while True:
            rows = self._client.list(filter={"ref_doc_id": ref_doc_id}, limit=200)
            if not rows:
                return
            self._client.delete_many([r["cid"] for r in rows])

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        k = query.similarity_top_k or 4
        where = _filters(query.filters)
        words = _word_mode(query)
        if words is not None and query.query_str:
            # Keyword and hybrid ranking match the words on the node; `alpha` (LlamaIndex:
            # 1 = dense only, 0 = sparse only) becomes the keyword ranking's weight.
            mode, weight = words
            results = self._client.query(query.query_str, top_k=k, filter=where, mode=mode, keyword_weight=weight)
        elif query.query_embedding is not None:
            results = self._client.query_by_vector(query.query_embedding, top_k=k, filter=where)
        elif query.query_str:
            results = self._client.query(query.query_str, top_k=k, filter=where)
        else:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        nodes, scores, ids = [], [], []
        for r in results:
            meta = dict(r.get("metadata") or {})
            node = metadata_dict_to_node(meta, text=r.get("text") or "")
            nodes.append(node)
            scores.append(float(r["score"]))
            ids.append(node.node_id)
        return VectorStoreQueryResult(nodes=nodes, similarities=scores, ids=ids)


__all__ = ["EngramVectorStore", "EngramEmbedding"]


def _word_mode(query: VectorStoreQuery) -> Optional[tuple[str, Optional[float]]]:
    """Engram's mode and keyword weight for LlamaIndex's sparse, text and hybrid modes;
    ``None`` for dense ones."""
    if query.mode in (VectorStoreQueryMode.SPARSE, VectorStoreQueryMode.TEXT_SEARCH):
        return ("keyword", None)
    if query.mode == VectorStoreQueryMode.HYBRID:
        alpha = query.alpha
        if alpha is None:
            return ("hybrid", None)
        if not 0.0 < alpha < 1.0:
            return ("dense", None) if alpha >= 1.0 else ("keyword", None)
        return ("hybrid", min(100.0, max(0.01, (1.0 - alpha) / alpha)))
    return None
