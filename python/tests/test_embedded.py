"""engram.Engram (the embedded store), engram.embed and engram.cid, with the real model."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

import engram
from engram.sdk import IngestError, InvalidCIDError, QueryError
from engram.sdk.encryption import HybridEncryption

from conftest import engram_bin


def test_embed_shapes_and_determinism():
    one = engram.embed("The sky is blue.")
    assert one.shape == (384,) and one.dtype == np.float32
    many = engram.embed(["The sky is blue.", "Grass is green."])
    assert many.shape == (2, 384)
    assert np.array_equal(many[0], one), "batching does not change a vector"
    assert abs(float(np.linalg.norm(one)) - 1.0) < 1e-5
    with pytest.raises(ValueError):
        engram.embed([""])
    with pytest.raises(ValueError):
        engram.embed(["x" * 8193])


def test_ingest_query_get_and_same_cid_as_the_rule(tmp_path):
    with engram.Engram(tmp_path / "store") as mem:
        cid = mem.ingest("Validators score miners by recall and proofs.", {"source": "doc", "n": 3})
        assert cid == engram.cid(
            engram.embed("Validators score miners by recall and proofs."), {"source": "doc", "n": 3}
        )
        mem.ingest("Bananas are yellow.", {"source": "fruit"})
        hits = mem.query("how are miners scored?", top_k=2)
        assert [h["cid"] for h in hits][0] == cid
        assert set(hits[0]) >= {"cid", "score", "metadata", "trust_tier"}
        assert hits[0]["score"] > hits[1]["score"]
        only_fruit = mem.query("how are miners scored?", top_k=2, filter={"source": "fruit"})
        assert [h["metadata"]["source"] for h in only_fruit] == ["fruit"]
        rec = mem.get(cid)
        assert rec["cid"] == cid and rec["metadata"] == {"source": "doc", "n": 3}
        assert len(rec["embedding"]) == 384
        assert mem.query_by_vector(rec["embedding"], top_k=1)[0]["cid"] == cid
        with pytest.raises(KeyError):
            mem.get("v1::" + "0" * 64)
        with pytest.raises(InvalidCIDError):
            mem.get("v1::tooshort")
        assert mem.health()["status"] == "ok" and mem.is_online()


def test_bad_input_raises_the_methods_error_and_stores_nothing(tmp_path):
    with engram.Engram(tmp_path / "store") as mem:
        mem.ingest("one good memory")
        before = mem.status()["count"]
        for bad in ["", "   ", "x" * 8193]:
            with pytest.raises(IngestError, match="(?i)empty|blank|8192|long"):
                mem.ingest(bad)
        with pytest.raises(IngestError, match="metadata"):
            mem.ingest("fine text", {"big": "y" * 5000})
        with pytest.raises(IngestError, match="metadata must be a dict"):
            mem.ingest("fine text", ["not", "a", "dict"])  # type: ignore[arg-type]
        with pytest.raises(IngestError, match="384"):
            mem.ingest_embedding([0.1] * 383)
        with pytest.raises(IngestError):
            mem.ingest_embedding([float("nan")] * 384)
        for k in (0, 101, -1):
            with pytest.raises(QueryError, match="top_k"):
                mem.query("anything", top_k=k)
        with pytest.raises(QueryError):
            mem.query("")
        assert mem.status()["count"] == before


def test_batch_file_and_conversation(tmp_path):
    f = tmp_path / "m.jsonl"
    f.write_text(
        '{"text": "first memory", "metadata": {"i": 1}}\n\nnot json\n{"text": ""}\n[1, 2]\n{"text": "second memory"}\n'
    )
    with engram.Engram(tmp_path / "store") as mem:
        cids, errors = mem.batch_ingest_file(f, return_errors=True)
        assert len(cids) == 2
        assert [e.split(":")[0] for e in errors] == ["line 3", "line 4", "line 5"]
        assert "JSON parse error" in errors[0] and "missing or empty 'text'" in errors[1]
        assert mem.batch_ingest_file(f) == cids, "idempotent: same CIDs"
        with pytest.raises(FileNotFoundError):
            mem.batch_ingest_file(tmp_path / "missing.jsonl")
        convo = mem.ingest_conversation(
            [
                {"role": "user", "content": "I like green tea"},
                {"role": "assistant", "content": ""},
                {"role": "assistant", "content": "Noted: green tea"},
            ],
            session_id="s1",
        )
        assert len(convo) == 2
        rec = mem.get(convo[0])
        assert rec["metadata"]["role"] == "user" and rec["metadata"]["session"] == "s1"


def test_private_namespace_and_encryption_in_the_embedded_store(tmp_path):
    enc = HybridEncryption(private_key=bytes(range(32)))
    with engram.Engram(tmp_path / "store", namespace="diary", encryption=enc) as mine:
        cid = mine.ingest("my secret plan", {"mood": "calm"})
        [hit] = mine.query("secret plan", top_k=1)
        assert hit["cid"] == cid and hit["metadata"] == {"mood": "calm"}
        assert mine.get(cid)["metadata"] == {"mood": "calm"}
    with engram.Engram(tmp_path / "store") as public:
        assert public.query("secret plan", top_k=5) == [], "private memories stay out of public queries"
    with engram.Engram(tmp_path / "store", namespace="diary") as no_key:
        [raw] = no_key.query("secret plan", top_k=1)
        assert set(raw["metadata"]) == {"_enc"}, "only the sealed payload is stored"
        assert no_key.delete(cid) is True and no_key.delete(cid) is False


def test_cli_and_python_share_a_data_directory(tmp_path):
    store = tmp_path / "shared"
    with engram.Engram(store) as mem:
        cid = mem.ingest("Shared between the CLI and Python.")
    out = subprocess.run(
        [engram_bin(), "--data-dir", str(store), "--json", "query", "shared between cli and python", "--top-k", "1"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert cid in out
    cli = subprocess.run(
        [engram_bin(), "--data-dir", str(store), "--json", "ingest", "Written by the CLI."],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    cli_cid = json.loads(cli)["cid"] if cli.strip().startswith("{") else cli.split()[0]
    with engram.Engram(store) as mem:
        assert mem.get(cli_cid)["cid"] == cli_cid
        assert cli_cid == engram.cid(engram.embed("Written by the CLI."), {})


def test_a_store_is_held_by_one_process_at_a_time(tmp_path):
    with engram.Engram(tmp_path / "store"):
        with pytest.raises(engram.sdk.EngramError, match="in use by another engram process"):
            engram.Engram(tmp_path / "store")
