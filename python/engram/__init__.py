"""Engram: permanent, content-addressed semantic memory — Python package on the Rust core.

- ``engram.sdk.EngramClient``: the original SDK's client of a node (drop-in).
- :class:`Engram`: the embedded store in-process, with the client's methods.
- :class:`Network`: replicated writes and fan-out reads over a network's registry.
- :func:`embed`, :func:`cid`, :class:`Keypair`: the embedder, the CID rule and hotkeys.

Everything that is a rule (embedding, CIDs, signatures, encryption, storage) runs in Rust;
waiting calls release the GIL.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Union

from engram import _engram
from engram._engram import Keypair, verify

if TYPE_CHECKING:
    import numpy as np

__version__ = "0.1.0"

EMBEDDING_DIM: int = _engram.EMBEDDING_DIM
DEFAULT_MODEL_VERSION: str = _engram.DEFAULT_MODEL_VERSION


def embed(texts: Union[str, Sequence[str]], model_dir: Optional[Union[str, os.PathLike]] = None) -> "np.ndarray":
    """Embeds texts with the canonical model (all-MiniLM-L6-v2, bit-identical on every CPU):
    a ``float32`` array of shape ``(N, 384)`` (``(384,)`` for one ``str``)."""
    import numpy as np

    single = isinstance(texts, str)
    batch: List[str] = [texts] if isinstance(texts, str) else [str(t) for t in texts]
    try:
        raw = _engram.embed(batch, None if model_dir is None else os.fspath(model_dir))
    except _engram.InvalidInput as e:
        raise ValueError(str(e)) from None
    out = np.frombuffer(raw, dtype="<f4").reshape(len(batch), EMBEDDING_DIM)
    return out[0] if single else out


def cid(
    embedding: Sequence[float],
    metadata: Optional[Dict[str, Any]] = None,
    model_version: str = DEFAULT_MODEL_VERSION,
) -> str:
    """The v1 CID of a vector with its metadata: the identifier every Engram computes."""
    try:
        return str(_engram.cid([float(x) for x in embedding], json.dumps(metadata or {}), model_version))
    except _engram.InvalidInput as e:
        raise ValueError(str(e)) from None


from engram.sdk.client import _MemoryAPI, _raise_as, _http_error  # noqa: E402
from engram.sdk.exceptions import IngestError, QueryError  # noqa: E402


class Engram(_MemoryAPI):
    """The embedded store in-process: the client's methods on a local data directory.

    ``path`` defaults to ``ENGRAM_DATA_DIR``, else the user's data directory — the same
    store the ``engram`` CLI uses (one process at a time holds it). CIDs are the CLI's and
    the network's. ``namespace`` scopes every call to a private namespace.
    """

    def __init__(
        self,
        path: Optional[Union[str, os.PathLike]] = None,
        *,
        namespace: Optional[str] = None,
        model_dir: Optional[Union[str, os.PathLike]] = None,
        encryption: Any = None,
    ) -> None:
        self.path = None if path is None else os.fspath(path)
        self.namespace = namespace
        self._enc = encryption
        self._memory = _raise_as(
            _http_error,
            lambda: _engram.Memory(
                data_dir=self.path,
                model_dir=None if model_dir is None else os.fspath(model_dir),
            ),
        )

    def __repr__(self) -> str:
        return f"Engram(path={self.path!r})"

    def close(self) -> None:
        """Checkpoints and closes the store, releasing it for another process (the CLI)."""
        self._memory.close()

    def __enter__(self) -> "Engram":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def build_index(self) -> bool:
        """Builds the search index for what was just stored (it also builds itself as the
        store grows); True when something was indexed."""
        return bool(_raise_as(_http_error, self._memory.build_index))


class Network:
    """A network through its registry (a devnet directory): every write goes to the
    replicas nearest its CID, reads ask every live node and merge."""

    def __init__(self, directory: Union[str, os.PathLike], *, keypair: Any = None, timeout: float = 10.0) -> None:
        self.directory = os.fspath(directory)
        self.namespace: Optional[str] = None
        self._net = _engram.Network(self.directory, timeout=timeout, keypair=keypair)

    def ingest(self, text: str, metadata: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Embeds ``text`` here and stores the vector on its replicas: ``{"cid", "holders",
        "failed"}``."""
        try:
            vector = embed(text).tolist()
        except ValueError as e:
            raise IngestError(str(e)) from None
        return self.ingest_embedding(vector, metadata)

    def ingest_embedding(self, embedding: Sequence[float], metadata: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Stores a vector on its replicas: ``{"cid", "holders", "failed"}``."""
        body = json.dumps(metadata or {})
        vector = [float(x) for x in embedding]
        out = _raise_as(IngestError, lambda: self._net.ingest_vector(vector, body, self.namespace))
        return dict(json.loads(out))

    def query(
        self,
        text: str,
        top_k: int = 10,
        filter: Optional[Dict[str, Any]] = None,
        *,
        mode: str = "dense",
        keyword_weight: Optional[float] = None,
    ) -> List[Dict[str, Any]]:
        """The best ``top_k`` over every live node, deduplicated by CID (``mode`` and
        ``keyword_weight`` as in :meth:`engram.EngramClient.query`)."""
        f = json.dumps(filter) if filter else None
        out = _raise_as(QueryError, lambda: self._net.query(text, None, top_k, self.namespace, f, mode, keyword_weight))
        return list(json.loads(out)["results"])

    def get(self, cid: str) -> Dict[str, Any]:
        """The record from the nearest node whose copy recomputes to ``cid`` (with
        ``"holder"``: that node's hotkey); ``KeyError`` when no node has it."""
        out = _raise_as(_http_error, lambda: self._net.get(cid))
        if out is None:
            raise KeyError(f"CID not found: {cid}")
        record, holder = out
        r: Dict[str, Any] = json.loads(record)
        r["holder"] = holder
        return r

    def live_nodes(self) -> List[Dict[str, str]]:
        """``[{"hotkey", "url"}]`` of the nodes that answer now."""
        return list(json.loads(_raise_as(_http_error, self._net.live_nodes)))


from engram.sdk.client import EngramClient  # noqa: E402

__all__ = [
    "Engram",
    "EngramClient",
    "Network",
    "Keypair",
    "embed",
    "cid",
    "verify",
    "EMBEDDING_DIM",
    "DEFAULT_MODEL_VERSION",
]
