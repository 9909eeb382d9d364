"""Every Python example in docs/python.md and README.md runs as written: the node address,
the devnet directory and /tmp paths are pointed at the test's own node, devnet and
temporary directory, nothing else changes."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT

BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def examples():
    for doc in ("docs/python.md", "README.md"):
        for i, code in enumerate(BLOCK.findall((ROOT / doc).read_text())):
            yield pytest.param(code, id=f"{doc}#{i}")


@pytest.mark.parametrize("code", list(examples()))
def test_example_runs(code, node, devnet, tmp_path):
    code = code.replace("http://127.0.0.1:8091", node.url).replace("/tmp/devnet", "\0DEVNET\0")
    code = code.replace("/tmp/", f"{tmp_path}/").replace("\0DEVNET\0", devnet)
    exec(compile(code, "<doc example>", "exec"), {"__name__": "__doc_example__"})
