"""Threshold keys: the original SDK's distribute_key_shares / collect_key_shares against real
nodes, and `engram keys split|recover` over a devnet, placing shares by the DHT rule and
re-dealing after a node is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from bittensor_wallet import Keypair as BtKeypair

from engram.sdk import EngramClient
from conftest import Node, engram_bin, running_devnet


@pytest.fixture(scope="module")
def three_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Node]]:
    nodes = []
    for i in range(3):
        d = tmp_path_factory.mktemp(f"share{i}")
        nodes.append(Node(d))
    yield nodes
    for n in nodes:
        n.stop()


def test_the_original_sdk_deals_and_collects_a_key(three_nodes: list[Node]) -> None:
    owner = BtKeypair.create_from_mnemonic(BtKeypair.generate_mnemonic())
    urls = [n.url for n in three_nodes]
    secret = os.urandom(32)
    c = EngramClient(urls[0], namespace="vault", keypair=owner)
    c.distribute_key_shares(secret, urls, threshold=2)
    assert c.collect_key_shares(urls) == secret
    assert c.collect_key_shares(urls[1:]) == secret, "any two of three"
    with pytest.raises(ValueError, match="needs 2"):
        c.collect_key_shares(urls[:1])
    # Someone else, signing for the same namespace, gets nothing.
    thief = EngramClient(urls[0], namespace="vault", keypair=BtKeypair.create_from_uri("//Mallory"))
    with pytest.raises(ValueError, match="No key shares"):
        thief.collect_key_shares(urls)
    with pytest.raises(ValueError, match="requires a keypair"):
        EngramClient(urls[0], namespace="vault").distribute_key_shares(secret, urls)


def engram(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([engram_bin(), *args], capture_output=True, text=True, timeout=120)


def split_key(net: list[str], key: Path, shares: str) -> subprocess.CompletedProcess[str]:
    return engram(
        *net,
        "keys",
        "split",
        "--key",
        str(key),
        "--namespace",
        "journal",
        "--wallet",
        "owner",
        "--threshold",
        "2",
        "--shares",
        shares,
    )


def test_keys_split_and_recover_on_a_devnet_with_a_lost_node(tmp_path: Path) -> None:
    with running_devnet(str(tmp_path / "devnet"), miners=4, killed=1) as d:
        net = ["--network", d, "--json"]
        assert engram(*net, "wallet", "new", "owner").returncode == 0
        key = tmp_path / "ns.key"
        assert engram("keys", "new", "--out", str(key)).returncode == 0
        split = split_key(net, key, shares="3")
        assert split.returncode == 0, split.stderr
        holders = json.loads(split.stdout)["holders"]
        assert len(holders) == 3 and len(set(holders)) == 3
        back = tmp_path / "back.key"
        rec = engram(*net, "keys", "recover", "--namespace", "journal", "--wallet", "owner", "--out", str(back))
        assert rec.returncode == 0, rec.stderr
        assert back.read_text() == key.read_text()

        # Lose the nearest holder: K of the rest still recover, and a new deal re-places all N.
        manifest = json.loads((Path(d) / "devnet.json").read_text())
        lost = next(p for p in manifest["processes"] if p["hotkey"] == holders[0])
        os.kill(lost["pid"], signal.SIGKILL)
        again = tmp_path / "again.key"
        rec = engram(*net, "keys", "recover", "--namespace", "journal", "--wallet", "owner", "--out", str(again))
        assert rec.returncode == 0, rec.stderr
        assert again.read_text() == key.read_text()
        redeal = split_key(net, again, shares="3")
        assert redeal.returncode == 0, redeal.stderr
        new_holders = json.loads(redeal.stdout)["holders"]
        assert holders[0] not in new_holders and len(new_holders) == 3

        # Refusals: no wallet, more shares than live nodes, a stranger's wallet.
        no_wallet = engram(*net, "keys", "recover", "--namespace", "journal", "--out", str(tmp_path / "x.key"))
        assert no_wallet.returncode == 2 and "--wallet" in no_wallet.stderr
        too_many = split_key(net, key, shares="5")
        assert too_many.returncode == 1 and "5 shares need 5 live nodes" in too_many.stderr
        assert engram(*net, "wallet", "new", "stranger").returncode == 0
        stolen = engram(
            *net,
            "keys",
            "recover",
            "--namespace",
            "journal",
            "--wallet",
            "stranger",
            "--out",
            str(tmp_path / "stolen.key"),
        )
        assert stolen.returncode == 1 and not (tmp_path / "stolen.key").exists()
