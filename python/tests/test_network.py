"""engram.Network over a devnet of real `engram serve` processes (`engram devnet up`)."""

from __future__ import annotations

import pytest

import engram
from engram.sdk import EngramClient, IngestError


def test_replicated_write_fan_out_read_and_verified_get(devnet):
    net = engram.Network(devnet)
    live = net.live_nodes()
    assert len(live) == 3
    placed = net.ingest("Replicated across the devnet.", {"n": 1})
    assert placed["cid"] == engram.cid(engram.embed("Replicated across the devnet."), {"n": 1})
    assert len(placed["holders"]) >= 2 and placed["failed"] == []
    [hit] = net.query("replicated devnet", top_k=1)
    assert hit["cid"] == placed["cid"]
    rec = net.get(placed["cid"])
    assert rec["metadata"] == {"n": 1} and rec["holder"] in placed["holders"]
    with pytest.raises(KeyError):
        net.get("v1::" + "2" * 64)
    with pytest.raises(IngestError, match="384"):
        net.ingest_embedding([0.1, 0.2])


def test_from_subnet_finds_a_live_node_of_the_devnet(devnet):
    c = EngramClient.from_subnet(network=devnet, probe_timeout=2.0)
    assert c.is_online()
    assert c.miner_url in {n["url"] for n in engram.Network(devnet).live_nodes()}


def test_a_missing_network_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        engram.Network(tmp_path / "nothing-here")
