"""LangChain: ``EngramVectorStore`` (a real ``langchain_core`` ``VectorStore``) and
``EngramEmbeddings`` (our embedder as LangChain ``Embeddings``).

``EngramVectorStore(miner_url=…, embeddings=…)`` talks to a node, as the original's does;
``EngramVectorStore(data_dir=…)`` keeps the memories in the embedded store. Documents are
memories: ``page_content`` is the stored text, ``metadata`` the memory's metadata, and ``id``
the memory's CID — or, when the caller names ids, that id, kept in the reserved metadata key
``_doc_id`` (adding a document under an existing id replaces it).

Public memories on a node are permanent, so deleting or replacing by id needs a private
namespace (``namespace=`` with ``keypair=``); the embedded store deletes in any namespace.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Type

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

import engram
from engram import _engram
from engram.sdk.client import DEFAULT_MINER_URL, EngramClient

MAX_DELETE_BATCH: int = _engram.MAX_DELETE_BATCH

DOC_ID = "_doc_id"
"""Reserved metadata key holding a caller-chosen document id."""


class EngramEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 in Rust (384 dimensions, identical bytes on every CPU), no PyTorch."""

    def __init__(self, model_dir: Optional[str] = None) -> None:
        self.model_dir = model_dir

    def embed_documents(self, texts: List[str]) -> List[List[float]]:
        if not texts:
            return []
        return [list(map(float, v)) for v in engram.embed(list(texts), self.model_dir)]

    def embed_query(self, text: str) -> List[float]:
        return [float(x) for x in engram.embed(text, self.model_dir)]


def _is_cid(value: str) -> bool:
    try:
        _engram.parse_cid(value)
    except (_engram.InvalidInput, TypeError):
        return False
    return True


class EngramVectorStore(VectorStore):
    """Engram memories as a LangChain vector store (node or embedded)."""

    def __init__(
        self,
        miner_url: Optional[str] = None,
        embeddings: Optional[Embeddings] = None,
        timeout: float = 30.0,
        *,
        data_dir: Optional[str] = None,
        namespace: Optional[str] = None,
        keypair: Any = None,
        encryption: Any = None,
        client: Any = None,
    ) -> None:
        if client is not None:
            self._client = client
        elif data_dir is not None:
            if miner_url is not None:
                raise ValueError("give miner_url (a node) or data_dir (embedded), not both")
            self._client = engram.Engram(data_dir, namespace=namespace, encryption=encryption)
        else:
            self._client = EngramClient(
                miner_url or DEFAULT_MINER_URL,
                timeout,
                namespace=namespace,
                keypair=keypair,
                encryption=encryption,
            )
        self._embeddings = embeddings
        self.miner_url = getattr(self._client, "miner_url", None)

    def __repr__(self) -> str:
        where = self.miner_url or getattr(self._client, "path", None)
        return f"EngramVectorStore({where!r})"

    @property
    def embeddings(self) -> Optional[Embeddings]:
        return self._embeddings

    def _own_model(self) -> bool:
        return self._embeddings is None or isinstance(self._embeddings, EngramEmbeddings)

    # -- writes ------------------------------------------------------------------------

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: Optional[List[Dict[str, Any]]] = None,
        *,
        ids: Optional[List[str]] = None,
        **kwargs: Any,
    ) -> List[str]:
        texts = list(texts)
        metas = [dict(m or {}) for m in (metadatas or [{}] * len(texts))]
        wanted: List[Optional[str]] = list(ids) if ids is not None else [None] * len(texts)
        if not (len(metas) == len(texts) == len(wanted)):
            raise ValueError("texts, metadatas and ids must have the same length")
        vectors: Optional[List[List[float]]] = None
        if not self._own_model():
            assert self._embeddings is not None
            vectors = self._embeddings.embed_documents(texts)
            if vectors and len(vectors[0]) != engram.EMBEDDING_DIM:
                raise ValueError(
                    f"Engram stores {engram.EMBEDDING_DIM}-dimensional vectors; these embeddings "
                    f"have {len(vectors[0])} (leave embeddings unset to use Engram's own model)"
                )
        if any(DOC_ID in meta for meta in metas):
            raise ValueError(f"metadata key {DOC_ID!r} is reserved for document ids")
        # A document stored again under its id replaces the old one: all go in one delete.
        replaced = [str(d) for d in wanted if d is not None]
        if replaced:
            self.delete(replaced)
        out: List[str] = []
        for i, (text, meta, doc_id) in enumerate(zip(texts, metas, wanted)):
            if doc_id is not None:
                meta[DOC_ID] = str(doc_id)
            if vectors is None:
                cid = self._client.ingest(text, meta)
            else:
                meta.setdefault("text", text)
                cid = self._client.ingest_embedding(vectors[i], meta)
            out.append(str(doc_id) if doc_id is not None else cid)
        return out

    def add_documents(self, documents: List[Document], **kwargs: Any) -> List[str]:
        ids = kwargs.pop("ids", None)
        if ids is None:
            ids = [d.id for d in documents]
        return self.add_texts([d.page_content for d in documents], [d.metadata for d in documents], ids=ids, **kwargs)

    def _records_of(self, doc_id: str) -> List[str]:
        found = [r["cid"] for r in self._client.list(filter={DOC_ID: doc_id}, limit=200)]
        if not found and _is_cid(doc_id):
            try:
                self._client.get(doc_id)
                found = [doc_id]
            except KeyError:
                pass
        return found

    def delete(self, ids: Optional[List[str]] = None, **kwargs: Any) -> Optional[bool]:
        """Deletes the documents with these ids (missing ones are not an error), all their
        memories in one request per thousand (one pass of the node's store each)."""
        if ids is None:
            raise ValueError("name the ids to delete (Engram never deletes everything at once)")
        found = [self._records_of(str(i)) for i in ids]
        cids = [c for group in found for c in group]
        for start in range(0, len(cids), MAX_DELETE_BATCH):
            self._client.delete_many(cids[start : start + MAX_DELETE_BATCH])
        return all(found)

    # -- reads -------------------------------------------------------------------------

    def _document(self, record: Dict[str, Any]) -> Document:
        meta = dict(record.get("metadata") or {})
        doc_id = meta.pop(DOC_ID, None) or record["cid"]
        text = record.get("text")
        if text is None:
            text = meta.pop("text", "")
        return Document(page_content=text, metadata=meta, id=str(doc_id))

    def get_by_ids(self, ids: Sequence[str], /) -> List[Document]:
        docs = []
        for doc_id in ids:
            rows = self._client.list(filter={DOC_ID: doc_id}, limit=1)
            if rows:
                docs.append(self._document(rows[0]))
            elif _is_cid(doc_id):
                try:
                    docs.append(self._document(self._client.get(doc_id)))
                except KeyError:
                    pass
        return docs

    def _search(
        self, query: str, k: int, filter: Optional[Dict[str, Any]], mode: str = "dense", **kwargs: Any
    ) -> List[Dict[str, Any]]:
        if mode != "dense":
            # Keyword and hybrid search match the words on the node, whatever embeds them.
            weight = kwargs.get("keyword_weight")
            return list(self._client.query(query, top_k=k, filter=filter, mode=mode, keyword_weight=weight))
        if self._own_model():
            return list(self._client.query(query, top_k=k, filter=filter))
        assert self._embeddings is not None
        return self._search_by_vector(self._embeddings.embed_query(query), k, filter)

    def _search_by_vector(self, vector: List[float], k: int, filter: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
        return list(self._client.query_by_vector(vector, top_k=k, filter=filter))

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: Optional[Dict[str, Any]] = None, **kwargs: Any
    ) -> List[Tuple[Document, float]]:
        """``mode="keyword"`` or ``"hybrid"`` (and ``keyword_weight``) in ``kwargs`` rank by
        the query's words too (see :meth:`engram.EngramClient.query`)."""
        return [(self._document(r), float(r["score"])) for r in self._search(query, k, filter, **kwargs)]

    def similarity_search(
        self, query: str, k: int = 4, filter: Optional[Dict[str, Any]] = None, **kwargs: Any
    ) -> List[Document]:
        return [d for d, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    def similarity_search_by_vector(
        self, embedding: List[float], k: int = 4, filter: Optional[Dict[str, Any]] = None, **kwargs: Any
    ) -> List[Document]:
        return [self._document(r) for r in self._search_by_vector(embedding, k, filter)]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        # Scores are cosine similarities; negative ones mean unrelated.
        return lambda score: max(0.0, min(1.0, score))

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> List[Document]:
        embedder = self._embeddings or EngramEmbeddings()
        return self.max_marginal_relevance_search_by_vector(
            embedder.embed_query(query), k, fetch_k, lambda_mult, filter=filter
        )

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: List[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> List[Document]:
        import numpy as np

        candidates = self._search_by_vector(embedding, max(fetch_k, k), filter)
        if not candidates:
            return []
        vectors = [self._client.get(r["cid"])["embedding"] for r in candidates]
        chosen = maximal_marginal_relevance(
            np.array(embedding, dtype=np.float32), vectors, lambda_mult=lambda_mult, k=k
        )
        return [self._document(candidates[i]) for i in chosen]

    @classmethod
    def from_texts(
        cls: Type["EngramVectorStore"],
        texts: List[str],
        embedding: Optional[Embeddings] = None,
        metadatas: Optional[List[Dict[str, Any]]] = None,
        *,
        ids: Optional[List[str]] = None,
        miner_url: Optional[str] = None,
        **kwargs: Any,
    ) -> "EngramVectorStore":
        store = cls(miner_url, embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)  # type: ignore[arg-type]
        return store

    def health(self) -> bool:
        """True when the node (or the embedded store) answers."""
        return bool(self._client.is_online())


def new_namespace() -> str:
    """A fresh private namespace name (for per-session or per-test stores)."""
    return "lc_" + uuid.uuid4().hex[:16]


__all__ = ["EngramVectorStore", "EngramEmbeddings", "DOC_ID"]
