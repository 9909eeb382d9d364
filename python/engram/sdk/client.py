"""``EngramClient``: the original SDK's client, on Engram's Rust core.

Same constructor, methods, argument names, return shapes and exceptions as the original
``engram.sdk.EngramClient``; the transport (HTTP with retries, request and namespace
signatures), CIDs, encryption and local embedding run in Rust (``engram._engram``). The same
methods work on the embedded store through :class:`engram.Engram`.

Deliberate differences from the original, each a fix (docs/python.md lists them):

- a configured ``namespace`` is sent with every call (the original sent it only when an
  encryption was configured, so plain ``ingest`` wrote private text to the public namespace);
- a node's error message reaches the exception (the original discarded the body of a non-2xx
  answer): bad input to ``ingest`` raises ``IngestError``, to ``query`` ``QueryError``;
- ``get`` of an unknown CID raises ``KeyError`` as the original documents (it raised
  ``EngramError``), and ``delete`` and ``list`` are signed like every other call.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, TypeVar, Union

from engram import _engram
from engram.sdk.encryption import HybridEncryption, NamespaceEncryption
from engram.sdk.exceptions import (
    EngramError,
    IngestError,
    InvalidCIDError,
    MinerOfflineError,
    QueryError,
)

T = TypeVar("T")

DEFAULT_MINER_URL = "http://127.0.0.1:8091"


def _raise_as(error: Callable[[str], EngramError], call: Callable[[], T]) -> T:
    """Runs a native call, turning its failures into the SDK's exceptions: bad input and node
    refusals into ``error`` (the method's own exception), unreachable nodes into
    ``MinerOfflineError``, malformed CIDs into ``InvalidCIDError``."""
    try:
        return call()
    except _engram.NodeOfflineError as e:
        url, reason = e.args
        raise MinerOfflineError(url, reason) from e
    except _engram.BadCidError as e:
        raise InvalidCIDError(e.args[0]) from e
    except _engram.NodeHttpError as e:
        status, message, _url = e.args
        raise error(f"{message} (HTTP {status})") from e
    except _engram.InvalidInput as e:
        raise error(str(e)) from e
    except _engram.EngramNativeError as e:
        raise EngramError(str(e)) from e


def _http_error(message: str) -> EngramError:
    return EngramError(f"HTTP request failed: {message}")


def _ttl(ttl_s: Optional[int]) -> Optional[int]:
    """A time to live in whole seconds, or ``IngestError``. Only what cannot cross into
    Rust (a non-int, a negative number) is refused here; the range is core's rule."""
    if ttl_s is None:
        return None
    if isinstance(ttl_s, bool) or not isinstance(ttl_s, int):
        raise IngestError(f"ttl_s must be an int number of seconds, got {type(ttl_s).__name__}")
    if ttl_s < 1:
        raise IngestError(f"ttl_s must be at least 1 second, got {ttl_s}")
    return ttl_s


def _metadata(metadata: Optional[Dict[str, Any]], error: Callable[[str], EngramError]) -> Dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise error(f"metadata must be a dict, got {type(metadata).__name__}")
    return metadata


def _dumps(value: Any, error: Callable[[str], EngramError]) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as e:
        raise error(f"metadata must be JSON-serializable: {e}") from e


class _MemoryAPI:
    """The methods every Engram memory has, over ``self._memory`` (native ``Memory``)."""

    _memory: Any
    namespace: Optional[str]
    _enc: Any

    # -- writes ------------------------------------------------------------------------

    def ingest(self, text: str, metadata: Optional[Dict[str, Any]] = None, *, ttl_s: Optional[int] = None) -> str:
        """Stores ``text`` with ``metadata``; returns its CID. With an encryption configured
        the text is embedded here and only the vector and the sealed payload leave.
        ``ttl_s`` (ours; private namespaces only, public memories are permanent): seconds
        until the memory expires and leaves the store."""
        meta = _metadata(metadata, IngestError)
        if not isinstance(text, str):
            raise IngestError(f"text must be a str, got {type(text).__name__}")
        ttl = _ttl(ttl_s)
        if self._enc is not None:
            if not text.strip():
                raise IngestError("text is empty")
            vector = _raise_as(IngestError, lambda: _embed_one(text))
            sealed = {"_enc": self._enc.encrypt_payload(text, meta)}
            return self._ingest_vector(vector, sealed, ttl_s=ttl)
        body = _dumps(meta, IngestError)
        [(cid, _new)] = _raise_as(IngestError, lambda: self._memory.ingest_texts([(text, body)], self.namespace, ttl))
        return str(cid)

    def ingest_embedding(
        self,
        embedding: Sequence[float],
        metadata: Optional[Dict[str, Any]] = None,
        *,
        text: Optional[str] = None,
        ttl_s: Optional[int] = None,
    ) -> str:
        """Stores a ready-made 384-dimensional vector byte for byte; returns its CID.
        ``text`` (ours) is kept beside it and returned by queries; it is not embedded.
        ``ttl_s`` as in :meth:`ingest`."""
        return self._ingest_vector(embedding, _metadata(metadata, IngestError), text, _ttl(ttl_s))

    def _ingest_vector(
        self,
        embedding: Sequence[float],
        metadata: Dict[str, Any],
        text: Optional[str] = None,
        ttl_s: Optional[int] = None,
    ) -> str:
        vector = _as_floats(embedding, IngestError)
        body = _dumps(metadata, IngestError)
        cid, _new = _raise_as(
            IngestError,
            lambda: self._memory.ingest_vector(vector, body, None, self.namespace, text, ttl_s),
        )
        return str(cid)

    def batch_ingest_file(
        self, path: Union[str, Path], return_errors: bool = False
    ) -> Union[List[str], Tuple[List[str], List[str]]]:
        """Ingests a JSONL file, one ``{"text": …, "metadata": {…}}`` per line. Lines that
        fail are skipped with a reason (``"line N: …"``); with ``return_errors`` the result
        is ``(cids, errors)``."""
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"JSONL file not found: {path}")
        cids: List[str] = []
        errors: List[str] = []
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"line {n}: JSON parse error: {e}")
                continue
            if not isinstance(obj, dict):
                errors.append(f"line {n}: expected a JSON object")
                continue
            text = obj.get("text")
            if not isinstance(text, str) or not text.strip():
                errors.append(f"line {n}: missing or empty 'text' field")
                continue
            try:
                cids.append(self.ingest(text, obj.get("metadata") or {}))
            except IngestError as e:
                errors.append(f"line {n}: ingest error: {e}")
        return (cids, errors) if return_errors else cids

    def ingest_conversation(
        self,
        messages: Iterable[Dict[str, str]],
        *,
        session_id: Optional[str] = None,
        metadata: Optional[Dict[str, Any]] = None,
    ) -> List[str]:
        """Stores each message of a chat as its own memory (``role``, ``ts``, ``text``
        preview and ``session`` in its metadata); returns the CIDs in order."""
        extra = _metadata(metadata, IngestError)
        cids = []
        for msg in messages:
            role = str(msg.get("role", "user"))
            content = str(msg.get("content", "")).strip()
            if not content:
                continue
            meta: Dict[str, Any] = {"role": role, "ts": str(int(time.time())), "text": content[:500]}
            if session_id is not None:
                meta["session"] = session_id
            meta.update(extra)
            cids.append(self.ingest(content, meta))
        return cids

    # -- documents -----------------------------------------------------------------------

    def _document(self, kind: str, **kw: Any) -> Dict[str, Any]:
        meta = _dumps(_metadata(kw.pop("metadata", None), IngestError), IngestError)
        if self._enc is not None:
            # A private namespace's document is sealed here: the file and every chunk.
            if not isinstance(self._enc, HybridEncryption):
                raise IngestError("documents are sealed with HybridEncryption (an X25519 key), not a namespace_key")
            kw["seal_to"] = self._enc.public_key
        out = _raise_as(
            IngestError,
            lambda: self._memory.ingest_document(kind, metadata_json=meta, namespace=self.namespace, **kw),
        )
        result: Dict[str, Any] = json.loads(out)
        cids = result.get("cids") or []
        result["cid"] = cids[0] if cids else None
        result.setdefault("arweave_tx_id", None)
        result.setdefault("arweave_url", None)
        return result

    def ingest_pdf(
        self, source: Union[str, "os.PathLike[str]", bytes], *, metadata: Optional[Dict[str, Any]] = None
    ) -> Dict[str, Any]:
        """Stores a PDF: its text page by page in overlapping chunks, one memory each, and the
        file as a blob under its content CID (on Arweave when a wallet is configured). Returns
        the original's keys (``cid`` — the first chunk's —, ``pages``, ``chars``,
        ``content_cid``, ``filename``, ``arweave_tx_id``, ``arweave_url``) plus ``cids``,
        ``title`` and ``arweave`` (``off``, ``pending`` or ``uploaded``)."""
        data, filename = _read_source(source, "document.pdf")
        out = self._document("pdf", data=data, filename=filename, metadata=metadata)
        out["filename"] = filename
        return out

    def ingest_image(
        self,
        source: Union[str, "os.PathLike[str]", bytes],
        *,
        description: Optional[str] = None,
        xai_api_key: Optional[str] = None,
        mime_type: Optional[str] = None,
        metadata: Optional[Dict[str, Any]] = None,
    ) -> Dict[str, Any]:
        """Stores an image and the text that stands for it: ``description`` if given, else a
        vision model's (xAI's Grok with ``xai_api_key``, as the original, or whatever
        ``ENGRAM_VISION_URL`` configures), else its text by OCR where tesseract is installed.
        The type is read from the bytes (``mime_type`` is accepted for compatibility).
        Returns ``cid``, ``description``, ``content_cid``, ``filename``, ``arweave_tx_id``,
        ``arweave_url`` and ``cids``."""
        del mime_type  # the bytes say what they are
        data, filename = _read_source(source, "image")
        vision: Dict[str, Any] = {}
        if xai_api_key is not None:
            vision = {"vision_url": "https://api.x.ai/v1", "vision_key": xai_api_key}
        out = self._document(
            "image", data=data, filename=filename, description=description, metadata=metadata, **vision
        )
        out["filename"] = filename
        return out

    def ingest_url(self, url: str, *, metadata: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Fetches a page (or a PDF) and stores its readable text in chunks, the page kept as a
        blob. Returns ``cid``, ``url``, ``title``, ``chars``, ``content_cid``,
        ``arweave_tx_id``, ``arweave_url`` and ``cids``."""
        if not isinstance(url, str):
            raise IngestError(f"url must be a str, got {type(url).__name__}")
        out = self._document("url", url=url, metadata=metadata)
        out["url"] = url
        return out

    def get_blob(self, content_cid: str) -> bytes:
        """A document's bytes by content CID (``sha256:…``), checked against it."""
        return bytes(_raise_as(EngramError, lambda: self._memory.blob(content_cid, self.namespace)))

    # -- reads -------------------------------------------------------------------------

    def query(
        self,
        text: str,
        top_k: int = 10,
        filter: Optional[Dict[str, Any]] = None,
        *,
        mode: str = "dense",
        keyword_weight: Optional[float] = None,
    ) -> List[Dict[str, Any]]:
        """The ``top_k`` best memories for ``text``: ``[{"cid", "score", "metadata",
        "trust_tier", …}]``, best first; ``filter`` keeps only metadata equal to it.

        ``mode``: ``"dense"`` ranks by meaning (scores are cosines), ``"keyword"`` by the
        words (BM25 over stored texts), ``"hybrid"`` by both fused with reciprocal rank
        fusion (scores are fusion scores); ``keyword_weight`` (0.01–100, default 1) is the
        keyword ranking's weight in a hybrid query."""
        if not isinstance(text, str):
            raise QueryError(f"text must be a str, got {type(text).__name__}")
        if self._enc is not None:
            if mode != "dense":
                raise QueryError(
                    f"mode {mode!r} matches the query's words on the node, but an encrypted client "
                    "keeps queries on this machine: use mode='dense'"
                )
            if not text.strip():
                raise QueryError("query text is empty")
            vector = _raise_as(QueryError, lambda: _embed_one(text))
            return self._enc.decrypt_results(self._query(None, vector, top_k, filter))
        return self._query(text, None, top_k, filter, mode, keyword_weight)

    def query_by_vector(
        self, vector: Sequence[float], top_k: int = 10, filter: Optional[Dict[str, Any]] = None
    ) -> List[Dict[str, Any]]:
        """The ``top_k`` memories nearest a 384-dimensional vector (``filter`` as in
        :meth:`query`; the original had none)."""
        results = self._query(None, _as_floats(vector, QueryError), top_k, filter)
        return self._enc.decrypt_results(results) if self._enc is not None else results

    def _query(
        self,
        text: Optional[str],
        vector: Optional[List[float]],
        top_k: int,
        filter: Optional[Dict[str, Any]],
        mode: str = "dense",
        keyword_weight: Optional[float] = None,
    ) -> List[Dict[str, Any]]:
        if isinstance(top_k, bool) or not isinstance(top_k, int):
            raise QueryError(f"top_k must be an int, got {type(top_k).__name__}")
        if not isinstance(mode, str):
            raise QueryError(f"mode must be a str, got {type(mode).__name__}")
        if keyword_weight is not None and (
            isinstance(keyword_weight, bool) or not isinstance(keyword_weight, (int, float))
        ):
            raise QueryError(f"keyword_weight must be a number, got {type(keyword_weight).__name__}")
        if filter is not None and not isinstance(filter, dict):
            raise QueryError("filter must be a dict of metadata key to value")
        filter_json = _dumps(filter, QueryError) if filter else None
        out = _raise_as(
            QueryError,
            lambda: self._memory.query(
                text,
                vector,
                top_k,
                self.namespace,
                filter_json,
                None,
                mode,
                None if keyword_weight is None else float(keyword_weight),
            ),
        )
        return list(json.loads(out))

    def list(self, filter: Optional[Dict[str, Any]] = None, limit: int = 50, offset: int = 0) -> List[Dict[str, Any]]:
        """A page of this namespace's memories (``[{"cid", "metadata", "text"}]``) whose
        metadata equals ``filter``; ``limit`` 1–200."""
        if filter is not None and not isinstance(filter, dict):
            raise EngramError("filter must be a dict of metadata key to value")
        for name, v in (("limit", limit), ("offset", offset)):
            if isinstance(v, bool) or not isinstance(v, int):
                raise EngramError(f"{name} must be an int, got {type(v).__name__}")
        filter_json = json.dumps(filter) if filter else None
        out = _raise_as(EngramError, lambda: self._memory.list(filter_json, limit, offset, self.namespace))
        records: List[Dict[str, Any]] = json.loads(out)
        return self._enc.decrypt_results(records) if self._enc is not None else records

    @staticmethod
    def _validate_cid(cid: str) -> str:
        """``cid`` if it parses (``v1::<64 hex>`` or ``sha256:<64 hex>``), else
        ``InvalidCIDError`` (the original's private helper, kept for code that calls it)."""
        try:
            _engram.parse_cid(cid)
        except (_engram.InvalidInput, TypeError) as e:
            raise InvalidCIDError(str(cid)) from e
        return cid

    def get(self, cid: str) -> Dict[str, Any]:
        """The record under ``cid`` (``cid``, ``embedding``, ``metadata``, ``namespace``,
        ``model_version``, ``text``, ``created_ms``); ``KeyError`` when it is not there."""
        if not isinstance(cid, str):
            raise InvalidCIDError(repr(cid))
        self._validate_cid(cid)
        out = _raise_as(_http_error, lambda: self._memory.get(cid, self.namespace))
        if out is None:
            raise KeyError(f"CID not found: {cid}")
        record: Dict[str, Any] = json.loads(out)
        if self._enc is not None:
            [record] = self._enc.decrypt_results([record])
        return record

    def delete(self, cid: str) -> bool:
        """Deletes a memory of this client's private namespace; ``False`` when it was not
        there. Public memories are permanent (the node refuses)."""
        self._validate_cid(cid)
        return bool(_raise_as(_http_error, lambda: self._memory.delete(cid, self.namespace)))

    def delete_many(self, cids: Sequence[str]) -> Dict[str, Any]:
        """Deletes memories of this client's private namespace in one request and one pass
        of the store (1–1000 CIDs; absent ones are skipped): ``{"deleted": [...], "blobs":
        [...], "commitment": {...}}``. A document's file goes with its last memory."""
        if isinstance(cids, str):
            raise InvalidCIDError("pass a list of CIDs, not one string")
        names = [self._validate_cid(c) for c in cids]
        out = _raise_as(_http_error, lambda: self._memory.delete_many(names, self.namespace))
        return dict(json.loads(out))

    def delete_document(self, cid: str) -> Dict[str, Any]:
        """Deletes a document of this client's private namespace: its file (the ``sha256:``
        ``content_cid`` its ingest returned) and every memory made from it, sealed chunks
        found with this client's private key. Answers as :meth:`delete_many`."""
        self._validate_cid(cid)
        key = self._enc._private if isinstance(self._enc, HybridEncryption) else None
        out = _raise_as(_http_error, lambda: self._memory.delete_document(cid, self.namespace, key))
        return dict(json.loads(out))

    def health(self) -> Dict[str, Any]:
        """The node's health answer (``{"status": "ok", …}``)."""
        return dict(json.loads(_raise_as(_http_error, self._memory.health)))

    def is_online(self) -> bool:
        """True when the node answers its health check."""
        try:
            self.health()
        except MinerOfflineError:
            return False
        return True

    def status(self) -> Dict[str, Any]:
        """Count, Merkle roots and location (embedded: model, kernel path, index state)."""
        return dict(json.loads(_raise_as(_http_error, self._memory.status)))


def _read_source(source: Union[str, "os.PathLike[str]", bytes], default_name: str) -> Tuple[bytes, str]:
    """The bytes of a document given as a path or as bytes, and its file name."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), default_name
    if not isinstance(source, (str, os.PathLike)):
        raise IngestError(f"source must be a path or bytes, got {type(source).__name__}")
    path = Path(source)
    try:
        return path.read_bytes(), path.name
    except OSError as e:
        raise IngestError(f"cannot read {path}: {e}") from e


def _as_floats(vector: Sequence[float], error: Callable[[str], EngramError]) -> List[float]:
    try:
        values = [float(x) for x in vector]
    except (TypeError, ValueError) as e:
        raise error(f"an embedding is a sequence of numbers: {e}") from e
    if len(values) != _engram.EMBEDDING_DIM:
        raise error(f"an embedding has exactly {_engram.EMBEDDING_DIM} dimensions, got {len(values)}")
    return values


def _embed_one(text: str) -> List[float]:
    import array

    raw = _engram.embed([text])
    return array.array("f", bytes(raw)).tolist()


class EngramClient(_MemoryAPI):
    """A client of one Engram node (a miner), as the original SDK's ``EngramClient``.

    ``keypair`` (a ``bittensor_wallet.Keypair`` or an :class:`engram.Keypair`) signs every
    request and the namespace; ``encryption`` (a :class:`HybridEncryption`) seals private
    memories before they leave; ``namespace`` + ``namespace_key`` is the deprecated
    password scheme.
    """

    def __init__(
        self,
        miner_url: str = DEFAULT_MINER_URL,
        timeout: float = 30.0,
        namespace: Optional[str] = None,
        namespace_key: Optional[str] = None,
        encryption: Any = None,
        keypair: Any = None,
    ) -> None:
        self.miner_url = miner_url.rstrip("/")
        self.timeout = timeout
        self.namespace = namespace
        self.namespace_key = namespace_key
        self._keypair = keypair
        if encryption is not None:
            self._enc = encryption
        elif namespace and namespace_key:
            self._enc = NamespaceEncryption(namespace, namespace_key)
        else:
            self._enc = None
        self._memory = _raise_as(
            _http_error,
            lambda: _engram.Memory(
                node=self.miner_url,
                timeout=float(timeout),
                keypair=keypair,
                namespace_key=namespace_key,
            ),
        )

    def __repr__(self) -> str:
        return f"EngramClient(miner_url={self.miner_url!r}, timeout={self.timeout})"

    @classmethod
    def from_subnet(
        cls,
        netuid: int = 450,
        network: str = "finney",
        timeout: float = 30.0,
        probe_timeout: float = 3.0,
        top_n: int = 5,
        *,
        urls: Optional[Sequence[str]] = None,
    ) -> "EngramClient":
        """A client of the first node that answers: from ``urls``, or from the live nodes of
        the network whose registry is in the directory ``network`` (a devnet). Bittensor's
        own chains (``finney``, ``test``) are not reachable from this package."""
        candidates: List[str] = list(urls or [])
        if not candidates:
            if not os.path.isdir(network):
                raise RuntimeError(
                    f"network {network!r} is not a devnet directory; this package reads a "
                    "network's registry from a directory (engram devnet up --dir DIR), or takes "
                    "urls=[...] — Bittensor's chains are not reachable from it"
                )
            live = json.loads(_engram.Network(network, timeout=probe_timeout).live_nodes())
            candidates = [n["url"] for n in live]
        for url in candidates[: max(1, top_n)]:
            probe = cls(url, timeout=probe_timeout)
            if probe.is_online():
                return cls(url, timeout=timeout)
        raise RuntimeError(f"no Engram node answered (tried {candidates[: max(1, top_n)]})")

    def _namespace_auth(self) -> Dict[str, Any]:
        """Fresh owner credentials for ``self.namespace`` (the original's ``_namespace_auth``)."""
        ts = int(time.time() * 1000)
        sig = self._keypair.sign(_engram.namespace_message(self.namespace or "", ts).encode())
        return {
            "namespace": self.namespace,
            "namespace_hotkey": self._keypair.ss58_address,
            "namespace_sig": "0x" + bytes(sig).hex(),
            "namespace_timestamp_ms": ts,
        }

    def _share_preconditions(self, what: str) -> None:
        if not self.namespace:
            raise ValueError(f"{what} requires a namespace")
        if self._keypair is None:
            raise ValueError(f"{what} requires a keypair for namespace auth")

    @staticmethod
    def _post_json(url: str, body: Dict[str, Any], timeout: float) -> Dict[str, Any]:
        req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                out: Dict[str, Any] = json.loads(r.read())
                return out
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise _http_error(str(e)) from e

    def distribute_key_shares(self, secret: bytes, miner_urls: List[str], threshold: int = 2) -> None:
        """Splits ``secret`` ``threshold``-of-``len(miner_urls)`` (Shamir over GF(256)) and
        gives share *i* to ``miner_urls[i]``, each request signed afresh for the namespace
        (the original's method; stops at the first refusal)."""
        self._share_preconditions("distribute_key_shares")
        shares = _engram.shamir_split(bytes(secret), threshold, len(miner_urls))
        for url, (index, share_hex, k, n) in zip(miner_urls, shares):
            body = {**self._namespace_auth(), "share_index": index, "share_hex": share_hex, "threshold": k, "total": n}
            resp = self._post_json(f"{url.rstrip('/')}/KeyShareSynapse", body, self.timeout)
            if resp.get("error"):
                raise EngramError(f"Miner {url} rejected key share: {resp['error']}")

    def collect_key_shares(self, miner_urls: List[str]) -> bytes:
        """Asks ``miner_urls`` in order for their shares of the namespace's key until the
        threshold is reached, and recombines it (the original's method)."""
        self._share_preconditions("collect_key_shares")
        collected: List[Tuple[int, str, int, int]] = []
        for url in miner_urls:
            try:
                resp = self._post_json(f"{url.rstrip('/')}/KeyShareRetrieve", self._namespace_auth(), self.timeout)
            except EngramError:
                continue
            if resp.get("error") or resp.get("share_hex") is None:
                continue
            collected.append(
                (int(resp["share_index"]), str(resp["share_hex"]), int(resp["threshold"]), int(resp["total"]))
            )
            if len(collected) >= collected[0][2]:
                break
        if not collected:
            raise ValueError("No key shares retrieved from any miner")
        return _engram.shamir_combine(collected)
