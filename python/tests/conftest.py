"""Fixtures: real `engram serve` processes on 127.0.0.1, temporary data directories, the
conformance vectors. The `engram` binary is the one `make test` built (target/debug), or
`ENGRAM_BIN`."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "crates" / "engram-core" / "tests" / "vectors"


def engram_bin() -> str:
    path = os.environ.get("ENGRAM_BIN") or str(ROOT / "target" / "debug" / "engram")
    if not os.path.exists(path):
        raise RuntimeError(f"no engram binary at {path}: run `make test` (or set ENGRAM_BIN)")
    return path


def vectors(name: str) -> Dict[str, Any]:
    return json.loads((VECTORS / name).read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    """A running `engram serve`; `stop()` checks it was still alive."""

    def __init__(self, data_dir: Path, env: Optional[Dict[str, str]] = None) -> None:
        self.log = data_dir / "node.log"
        # The node binds a port of its own and writes which: no race for a probed free port.
        addr_file = data_dir / "node.addr"
        addr_file.unlink(missing_ok=True)
        full_env = dict(os.environ, ENGRAM_INGEST_RATE_PER_MINUTE="0", **(env or {}))
        self.proc = subprocess.Popen(
            [
                engram_bin(),
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--addr-file",
                str(addr_file),
                "--data-dir",
                str(data_dir),
            ],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            env=full_env,
        )
        self.url = ""
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"engram serve exited ({self.proc.returncode}):\n{self.log.read_text()}")
            if not self.url and addr_file.exists():
                self.url = f"http://{addr_file.read_text().strip()}"
            try:
                if not self.url:
                    raise OSError("not listening yet")
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"engram serve did not answer within 60 s:\n{self.log.read_text()}")
            time.sleep(0.1)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        assert self.alive(), f"the node died during the tests:\n{self.log.read_text()}"
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    n = Node(tmp_path_factory.mktemp("node"))
    yield n
    n.stop()


@contextlib.contextmanager
def running_devnet(d: str, validators: int = 0, miners: int = 3, killed: int = 0) -> Iterator[str]:
    """A devnet of `miners` real nodes and `validators` validators (`engram devnet up`) in
    `d`, brought down at the end, every process but the `killed` ones checked to be still
    running then."""
    subprocess.run(
        [engram_bin(), "--json", "devnet", "up", "--dir", d, "--miners", str(miners), "--validators", str(validators)],
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    )
    try:
        yield d
    finally:
        out = subprocess.run(
            [engram_bin(), "--json", "devnet", "down", "--dir", d], check=True, capture_output=True, text=True
        ).stdout
        assert json.loads(out)["stopped"] == miners + validators - killed, "every process was still running at the end"


@pytest.fixture(scope="session")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A devnet of three real nodes."""
    with running_devnet(str(tmp_path_factory.mktemp("net") / "devnet")) as d:
        yield d


@pytest.fixture(scope="session")
def strict_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A node that takes only signed requests."""
    n = Node(tmp_path_factory.mktemp("strict"), {"ENGRAM_REQUIRE_HOTKEY_SIG": "true"})
    yield n
    n.stop()
