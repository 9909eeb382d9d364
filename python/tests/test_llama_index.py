"""LlamaIndex: VectorStoreIndex over EngramVectorStore, embedded and against a real node."""

from __future__ import annotations

import pytest

pytest.importorskip("llama_index.core")

from llama_index.core import Document, StorageContext, VectorStoreIndex  # noqa: E402
from llama_index.core.llms import MockLLM  # noqa: E402
from llama_index.core.vector_stores.types import ExactMatchFilter, MetadataFilters  # noqa: E402

import engram  # noqa: E402
from engram.sdk.langchain import new_namespace  # noqa: E402
from engram.sdk.llama_index import EngramEmbedding, EngramVectorStore  # noqa: E402

DOCS = [
    Document(
        text="Engram miners keep vectors in an HNSW index and answer storage challenges.",
        metadata={"topic": "miners"},
        doc_id="doc-miners",
    ),
    Document(
        text="Validators score miners on recall, latency and proof success, then set weights.",
        metadata={"topic": "validators"},
        doc_id="doc-validators",
    ),
    Document(
        text="Sourdough bread rises because of wild yeast and lactic acid bacteria.",
        metadata={"topic": "bread"},
        doc_id="doc-bread",
    ),
]


def exercise(store: EngramVectorStore) -> None:
    index = VectorStoreIndex.from_documents(
        DOCS, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=EngramEmbedding()
    )
    engine = index.as_query_engine(llm=MockLLM(), similarity_top_k=1)
    response = engine.query("How are miners scored by validators?")
    [source] = response.source_nodes
    assert source.node.get_content() == DOCS[1].text
    assert source.node.metadata["topic"] == "validators"
    assert source.node.ref_doc_id == "doc-validators"
    filtered = index.as_retriever(
        similarity_top_k=3, filters=MetadataFilters(filters=[ExactMatchFilter(key="topic", value="bread")])
    ).retrieve("miners and validators")
    assert [n.node.ref_doc_id for n in filtered] == ["doc-bread"]
    # LlamaIndex's sparse and hybrid modes map onto Engram's keyword and hybrid search.
    for mode, alpha in (("sparse", None), ("text_search", None), ("hybrid", 0.3), ("hybrid", None)):
        kwargs = {} if alpha is None else {"alpha": alpha}
        hits = index.as_retriever(similarity_top_k=1, vector_store_query_mode=mode, **kwargs).retrieve(
            "sourdough lactic"
        )
        assert [n.node.ref_doc_id for n in hits] == ["doc-bread"], mode
    store.delete("doc-validators")
    after = index.as_retriever(similarity_top_k=3).retrieve("How are miners scored by validators?")
    assert "doc-validators" not in {n.node.ref_doc_id for n in after}
    assert len(after) == 2


def test_index_and_query_engine_embedded(tmp_path):
    store = EngramVectorStore(data_dir=str(tmp_path / "li"))
    exercise(store)
    store.client.close()


def test_index_and_query_engine_on_a_node(node):
    exercise(EngramVectorStore(node.url, namespace=new_namespace(), keypair=engram.Keypair.from_uri("//Llama")))
