"""engram.sdk.EngramClient against real `engram serve` processes on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request

import pytest
from bittensor_wallet import Keypair as BtKeypair

import engram
from engram.sdk import (
    AsyncEngramClient,
    EngramClient,
    EngramError,
    IngestError,
    InvalidCIDError,
    MinerOfflineError,
    QueryError,
)
from engram.sdk.encryption import HybridEncryption, generate_keypair

from conftest import free_port


def stats(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/stats", timeout=5) as r:
        return json.loads(r.read())


def test_round_trip_with_the_originals_shapes(node):
    c = EngramClient(node.url)
    assert repr(c) == f"EngramClient(miner_url='{node.url}', timeout=30.0)"
    assert c.health()["status"] == "ok" and c.is_online()
    assert isinstance(c.health()["vectors"], int)
    cid = c.ingest("The mitochondria is the powerhouse of the cell.", {"topic": "biology"})
    assert cid.startswith("v1::") and len(cid) == 68
    assert cid == engram.cid(engram.embed("The mitochondria is the powerhouse of the cell."), {"topic": "biology"})
    c.ingest("Paris is the capital of France.", {"topic": "geography"})
    hits = c.query("what produces energy in cells?", top_k=2)
    assert hits[0]["cid"] == cid
    assert {"cid", "score", "metadata", "trust_tier"} <= set(hits[0])
    geo = c.query("what produces energy in cells?", top_k=2, filter={"topic": "geography"})
    assert [h["metadata"]["topic"] for h in geo] == ["geography"]
    v = engram.embed("Paris is the capital of France.").tolist()
    assert c.query_by_vector(v, top_k=1)[0]["metadata"] == {"topic": "geography"}
    own = c.ingest_embedding(v, {"kind": "raw"})
    assert own == engram.cid(v, {"kind": "raw"})
    rec = c.get(own)
    assert rec["cid"] == own and rec["embedding"] == pytest.approx(v)
    with pytest.raises(KeyError):
        c.get("v1::" + "1" * 64)


def test_keyword_and_hybrid_search_over_the_wire(node):
    c = EngramClient(node.url)
    rare = c.ingest("Firmware fault QX-7731 means the pump's seal has worn out.", {"topic": "maintenance"})
    near = c.ingest("Routine care keeps industrial pumps running for years.", {"topic": "maintenance"})
    # The rare code is found by its words, whatever its meaning.
    assert c.query("QX-7731", top_k=1, mode="keyword")[0]["cid"] == rare
    words = c.query("qx-7731 pump", top_k=5, mode="keyword", filter={"topic": "maintenance"})
    assert {h["cid"] for h in words} == {rare, near}
    hybrid = c.query("what does QX-7731 mean for pump care?", top_k=2, mode="hybrid")
    assert rare in {h["cid"] for h in hybrid}
    heavy = c.query("looking after pumps QX-7731", top_k=1, mode="hybrid", keyword_weight=100)
    assert heavy[0]["cid"] == rare
    assert c.query("the of and", top_k=3, mode="keyword") == []
    # Same through the async client.
    assert asyncio.run(AsyncEngramClient(node.url).query("QX-7731", top_k=1, mode="keyword"))[0]["cid"] == rare
    with pytest.raises(QueryError, match="dense, keyword or hybrid"):
        c.query("pump", mode="bm25")
    with pytest.raises(QueryError, match="keyword_weight"):
        c.query("pump", mode="hybrid", keyword_weight=0)
    with pytest.raises(QueryError, match="keyword_weight"):
        c.query("pump", mode="hybrid", keyword_weight="heavy")  # type: ignore[arg-type]
    # The wire refuses a keyword query by vector, and an unknown mode, with a 400.
    for body in (
        {"query_vector": [0.1] * 384, "mode": "keyword"},
        {"query_text": "pump", "mode": "fuzzy"},
        {"query_text": "pump", "mode": "hybrid", "keyword_weight": 1000},
    ):
        req = urllib.request.Request(
            f"{node.url}/QuerySynapse", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 400, body


def test_bad_input_gets_the_originals_exception_and_stores_nothing(node):
    c = EngramClient(node.url)
    before = stats(node.url)["memories"]
    with pytest.raises(IngestError, match="(?i)empty|blank"):
        c.ingest("")
    with pytest.raises(IngestError, match="8192"):
        c.ingest("x" * 8193)
    with pytest.raises(IngestError, match="(?i)metadata"):
        c.ingest("ok text", {"blob": "z" * 5000})
    with pytest.raises(IngestError, match="384"):
        c.ingest_embedding([0.5] * 10)
    with pytest.raises(QueryError, match="top_k"):
        c.query("hello", top_k=0)
    with pytest.raises(QueryError, match="top_k"):
        c.query("hello", top_k=101)
    with pytest.raises(InvalidCIDError):
        c.get("not-a-cid")
    assert stats(node.url)["memories"] == before
    assert isinstance(IngestError("x"), EngramError)


def test_an_offline_node_is_miner_offline(node):
    dead = f"http://127.0.0.1:{free_port()}"
    c = EngramClient(dead, timeout=2.0)
    with pytest.raises(MinerOfflineError) as e:
        c.health()
    assert e.value.url == f"{dead}/health"
    assert not c.is_online()
    with pytest.raises(MinerOfflineError):
        c.ingest("nobody is listening")


def test_signed_requests_with_a_bittensor_wallet_keypair(strict_node):
    unsigned = EngramClient(strict_node.url)
    with pytest.raises(IngestError, match="(?i)sign"):
        unsigned.ingest("unsigned writes are refused here")
    for key in (BtKeypair.create_from_uri("//Alice"), engram.Keypair.from_uri("//Bob")):
        c = EngramClient(strict_node.url, keypair=key)
        cid = c.ingest(f"signed by {key.ss58_address}")
        assert c.query(f"signed by {key.ss58_address}", top_k=1)[0]["cid"] == cid


class BrokenKey:
    ss58_address = BtKeypair.create_from_uri("//Eve").ss58_address

    def sign(self, message: bytes) -> bytes:
        raise RuntimeError("the hardware wallet is unplugged")


def test_a_signer_that_fails_is_reraised_as_itself(strict_node):
    c = EngramClient(strict_node.url, keypair=BrokenKey())
    with pytest.raises(RuntimeError, match="unplugged"):
        c.ingest("never sent")
    with pytest.raises(TypeError):
        EngramClient(strict_node.url, keypair=object())


def test_private_namespaces_with_signatures_and_encryption(node):
    alice = BtKeypair.create_from_uri("//Alice")
    mallory = BtKeypair.create_from_uri("//Mallory")
    private, public = generate_keypair()
    owner = EngramClient(node.url, namespace="alice_notes", keypair=alice, encryption=HybridEncryption(private))
    cid = owner.ingest("The safe code is in the blue book.", {"room": "study"})
    [hit] = owner.query("where is the safe code?", top_k=1)
    assert hit["cid"] == cid and hit["metadata"] == {"room": "study"}
    # A writer with only the public key cannot read back what it wrote.
    writer = EngramClient(
        node.url, namespace="alice_notes", keypair=alice, encryption=HybridEncryption(public_key=public)
    )
    writer.ingest("Another sealed note.")
    # The node holds only ciphertext, and only Alice may ask.
    raw = EngramClient(node.url, namespace="alice_notes", keypair=alice)
    assert set(raw.get(cid)["metadata"]) == {"_enc"}
    with pytest.raises(QueryError, match="(?i)403|owner|forbidden"):
        EngramClient(node.url, namespace="alice_notes", keypair=mallory).query("safe code")
    with pytest.raises(QueryError, match="(?i)401|sign"):
        EngramClient(node.url, namespace="alice_notes").query("safe code")
    assert all(h["cid"] != cid for h in EngramClient(node.url).query("safe code blue book", top_k=10))
    assert owner.delete(cid) is True
    assert owner.delete(cid) is False
    # Many at once: one request, one pass of the store; absent CIDs are skipped.
    notes = [owner.ingest(f"Sealed note number {i}.") for i in range(3)]
    gone = owner.delete_many(notes + [cid])
    assert gone["deleted"] == notes and gone["blobs"] == []
    with urllib.request.urlopen(f"{node.url}/commitment") as r:
        assert gone["commitment"] == json.loads(r.read())
    with pytest.raises(EngramError, match="1 to 1000"):
        owner.delete_many([])
    with pytest.raises(InvalidCIDError):
        owner.delete_many(["v1::nothex"])
    with pytest.raises(EngramError, match="(?i)403|owner"):
        EngramClient(node.url, namespace="alice_notes", keypair=mallory).delete_many(notes)


def test_private_memories_expire_on_the_node(node):
    bob = BtKeypair.create_from_uri("//Bob")
    c = EngramClient(node.url, namespace="bob_scratch", keypair=bob)
    kept = c.ingest("Bob's standing order: oat milk.")
    brief = c.ingest("Bob's parking spot today is C-17.", ttl_s=1)
    assert brief in {h["cid"] for h in c.query("parking spot C-17", top_k=5, mode="keyword")}
    assert c.get(brief)["expires_ms"] > 0
    with pytest.raises(IngestError, match="permanent"):
        EngramClient(node.url).ingest("public and fleeting", ttl_s=60)
    for bad in (0, -5, True, 1.5):
        with pytest.raises(IngestError, match="ttl_s"):
            c.ingest("never stored", ttl_s=bad)  # type: ignore[arg-type]
    time.sleep(1.2)
    # Due: in no answer at once; swept out of the node by its next index pass.
    assert brief not in {h["cid"] for h in c.query("parking spot C-17", top_k=5, mode="keyword")}
    deadline = time.time() + 30
    while True:
        try:
            c.get(brief)
        except KeyError:
            break
        assert time.time() < deadline, "the node never swept the expired memory"
        time.sleep(0.2)
    assert c.get(kept)["cid"] == kept


def test_legacy_namespace_key(node):
    c = EngramClient(node.url, namespace="legacy_ns", namespace_key="a sixteen+ char password")
    cid = c.ingest("kept with the old password scheme", {"v": 1})
    [hit] = c.query("old password scheme", top_k=1)
    assert hit["cid"] == cid and hit["metadata"] == {"v": 1}
    wrong = EngramClient(node.url, namespace="legacy_ns", namespace_key="another sixteen+ chars")
    with pytest.raises(QueryError):
        wrong.query("old password scheme")


def test_async_client_overlaps_calls(node):
    async def main():
        c = AsyncEngramClient(node.url)
        cids = await asyncio.gather(*(c.ingest(f"async memory number {i}") for i in range(8)))
        hits = await asyncio.gather(*(c.query(f"async memory number {i}", top_k=1) for i in range(8)))
        return cids, hits

    cids, hits = asyncio.run(main())
    assert len(set(cids)) == 8
    assert [h[0]["cid"] for h in hits] == cids


def test_from_subnet_takes_urls_and_refuses_finney(node):
    c = EngramClient.from_subnet(urls=[f"http://127.0.0.1:{free_port()}", node.url], probe_timeout=1.0)
    assert c.miner_url == node.url
    with pytest.raises(RuntimeError, match="devnet"):
        EngramClient.from_subnet()


def test_list_pages_filters_and_limits(node):
    c = EngramClient(node.url, namespace="lister", keypair=engram.Keypair.from_uri("//Lister"))
    cids = [c.ingest(f"listed memory {i}", {"parity": i % 2}) for i in range(5)]
    page = c.list(limit=200)
    assert sorted(r["cid"] for r in page) == sorted(cids)
    assert {"cid", "metadata"} <= set(page[0])
    evens = c.list(filter={"parity": 0})
    assert len(evens) == 3 and all(r["metadata"]["parity"] == 0 for r in evens)
    first, rest = c.list(limit=2), c.list(limit=200, offset=2)
    assert len(first) == 2 and len(rest) == 3
    assert {r["cid"] for r in first} | {r["cid"] for r in rest} == set(cids)
    for limit, offset in ((0, 0), (201, 0), (10, -1)):
        with pytest.raises(EngramError, match="limit"):
            c.list(limit=limit, offset=offset)
    with pytest.raises(EngramError, match="(?i)401|sign"):
        EngramClient(node.url, namespace="lister").list()
