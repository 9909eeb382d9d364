"""LangChain: the registry's standard VectorStore suite (langchain-tests), unmodified, on
the embedded store and on a real node, plus a retriever round trip."""

from __future__ import annotations

from typing import Iterator

import pytest

pytest.importorskip("langchain_core")
pytest.importorskip("langchain_tests")

from langchain_core.documents import Document  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402
from langchain_tests.integration_tests import VectorStoreIntegrationTests  # noqa: E402

import engram  # noqa: E402
from engram.sdk.langchain import EngramEmbeddings, EngramVectorStore, new_namespace  # noqa: E402


class TestEmbeddedStandard(VectorStoreIntegrationTests):
    """The standard suite on the embedded store (a fresh data directory per test)."""

    @staticmethod
    def get_embeddings() -> Embeddings:
        # The suite's hook for the embeddings a store is used with: Engram's own model.
        return EngramEmbeddings()

    @pytest.fixture()
    def vectorstore(self, tmp_path) -> Iterator[EngramVectorStore]:  # type: ignore[override]
        store = EngramVectorStore(data_dir=str(tmp_path / "lc"), embeddings=self.get_embeddings())
        yield store
        store._client.close()


class TestNodeStandard(VectorStoreIntegrationTests):
    """The standard suite against `engram serve`, each test in a fresh private namespace
    owned by a keypair (public memories on a node are permanent, so deletes need one)."""

    @staticmethod
    def get_embeddings() -> Embeddings:
        return EngramEmbeddings()

    @pytest.fixture()
    def vectorstore(self, node) -> Iterator[EngramVectorStore]:  # type: ignore[override]
        yield EngramVectorStore(
            node.url,
            self.get_embeddings(),
            namespace=new_namespace(),
            keypair=engram.Keypair.from_uri("//LangChain"),
        )


def test_retriever_and_mmr_and_filters(tmp_path):
    store = EngramVectorStore.from_texts(
        [
            "Engram miners store vectors in an HNSW index.",
            "Engram miners keep vectors in a persistent HNSW index.",
            "Validators score miners with storage proofs.",
            "Bananas are rich in potassium.",
        ],
        metadatas=[{"kind": "miner"}, {"kind": "miner"}, {"kind": "validator"}, {"kind": "food"}],
        data_dir=str(tmp_path / "r"),
    )
    docs = store.as_retriever(search_kwargs={"k": 1}).invoke("how do validators check miners?")
    assert docs[0].page_content == "Validators score miners with storage proofs."
    assert docs[0].metadata == {"kind": "validator"}
    only_food = store.similarity_search("miners", k=3, filter={"kind": "food"})
    assert [d.metadata["kind"] for d in only_food] == ["food"]
    # Words: keyword search finds the one text with the term; hybrid fuses it with meaning.
    assert [d.page_content for d in store.similarity_search("potassium", k=3, mode="keyword")] == [
        "Bananas are rich in potassium."
    ]
    hybrid = store.similarity_search("fruit potassium", k=1, mode="hybrid", keyword_weight=2.0)
    assert hybrid[0].metadata == {"kind": "food"}
    scored = store.similarity_search_with_relevance_scores("HNSW index", k=2)
    assert all(0.0 <= s <= 1.0 for _, s in scored) and scored[0][1] >= scored[1][1]
    diverse = store.max_marginal_relevance_search("Engram miners HNSW", k=2, fetch_k=4, lambda_mult=0.1)
    assert len(diverse) == 2 and "HNSW" in diverse[0].page_content
    assert "HNSW" not in diverse[1].page_content, "MMR skips the near-duplicate"
    store._client.close()


def test_foreign_embeddings_of_the_wrong_size_are_refused(tmp_path):
    from langchain_core.embeddings import DeterministicFakeEmbedding

    store = EngramVectorStore(data_dir=str(tmp_path / "f"), embeddings=DeterministicFakeEmbedding(size=6))
    with pytest.raises(ValueError, match="384"):
        store.add_documents([Document(page_content="x")])
    store._client.close()
