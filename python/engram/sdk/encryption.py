"""Client-side encryption of private memories, interoperable byte for byte with the original
SDK's ``engram.sdk.encryption``.

``HybridEncryption``: a fresh X25519 key per message, HKDF-SHA256 (info
``engram-hybrid-v1``), AES-256-GCM; the blob is base64url of ``ephemeral public ‖ nonce ‖
ciphertext ‖ tag`` over ``json.dumps({"text": …, "metadata": …})``. ``NamespaceEncryption``
is the deprecated password scheme (PBKDF2-HMAC-SHA256, 100,000 rounds, salt = namespace).
The cryptography runs in Rust (``engram-core``); this module only shapes the API.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

from engram import _engram


def generate_keypair() -> Tuple[bytes, bytes]:
    """A new raw X25519 key pair: ``(private_key, public_key)``, 32 bytes each."""
    private, public = _engram.x25519_generate()
    return bytes(private), bytes(public)


def public_key_from_private(private_key_bytes: bytes) -> bytes:
    """The X25519 public key of a 32-byte private key."""
    return bytes(_engram.x25519_public(bytes(private_key_bytes)))


def _decrypt_results(cipher: Any, results: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    out = []
    for r in results:
        meta = r.get("metadata") or {}
        # "_enc" is the original SDK's field; "engram_encrypted" the CLI's and sealed
        # documents' (the same hybrid format).
        blob = (meta.get("_enc") or meta.get("engram_encrypted")) if isinstance(meta, dict) else None
        if not blob:
            out.append(r)
            continue
        r = dict(r)
        try:
            _text, r["metadata"] = cipher.decrypt_payload(blob)
        except ValueError:
            r["metadata"] = {"_error": "decryption_failed"}
        out.append(r)
    return out


class HybridEncryption:
    """Encrypts to an X25519 public key; decrypts with the private key.

    With only ``public_key`` a client can write but not read.
    """

    def __init__(self, private_key: Optional[bytes] = None, public_key: Optional[bytes] = None) -> None:
        if private_key is None and public_key is None:
            raise ValueError("HybridEncryption needs a private key, a public key, or both")
        self._private = bytes(private_key) if private_key is not None else None
        if public_key is None:
            assert self._private is not None
            public_key = public_key_from_private(self._private)
        self.public_key = bytes(public_key)
        if len(self.public_key) != 32:
            raise ValueError("an X25519 public key is 32 bytes")

    def _need_private(self) -> bytes:
        if self._private is None:
            raise ValueError("this HybridEncryption has no private key: it can encrypt (write-only) but not decrypt")
        return self._private

    def encrypt_payload(self, text: Optional[str], metadata: Dict[str, Any]) -> str:
        """``{"text", "metadata"}`` sealed to the public key: the blob for ``metadata["_enc"]``."""
        return str(_engram.hybrid_encrypt(self.public_key, text or "", json.dumps(metadata)))

    def decrypt_payload(self, blob: str) -> Tuple[str, Dict[str, Any]]:
        """``(text, metadata)`` of a blob; ``ValueError`` when the key is wrong or it was tampered with."""
        text, meta = _engram.hybrid_decrypt(self._need_private(), blob)
        return text, json.loads(meta)

    def encrypt_raw(self, data: bytes) -> bytes:
        """Raw bytes sealed to the public key (for files before they are archived)."""
        return bytes(_engram.hybrid_encrypt_raw(self.public_key, bytes(data)))

    def decrypt_raw(self, data: bytes) -> bytes:
        """Opens what :meth:`encrypt_raw` sealed."""
        return bytes(_engram.hybrid_decrypt_raw(self._need_private(), bytes(data)))

    def decrypt_results(self, results: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Query results with ``metadata`` replaced by the decrypted metadata
        (``{"_error": "decryption_failed"}`` where it does not open)."""
        return _decrypt_results(self, results)


class NamespaceEncryption:
    """The deprecated shared-password scheme, kept so its users can read and write."""

    def __init__(self, namespace: str, namespace_key: str) -> None:
        self.namespace = namespace
        self._namespace_key = namespace_key
        self._key = bytes(_engram.legacy_key(namespace, namespace_key))

    def encrypt_payload(self, text: Optional[str], metadata: Dict[str, Any]) -> str:
        return str(_engram.legacy_encrypt(self.namespace, self._namespace_key, text or "", json.dumps(metadata)))

    def decrypt_payload(self, blob: str) -> Tuple[str, Dict[str, Any]]:
        text, meta = _engram.legacy_decrypt(self.namespace, self._namespace_key, blob)
        return text, json.loads(meta)

    def encrypt_raw(self, data: bytes) -> bytes:
        return bytes(_engram.legacy_encrypt_raw(self._key, bytes(data)))

    def decrypt_raw(self, data: bytes) -> bytes:
        return bytes(_engram.legacy_decrypt_raw(self._key, bytes(data)))

    def decrypt_results(self, results: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        return _decrypt_results(self, results)


__all__ = [
    "HybridEncryption",
    "NamespaceEncryption",
    "generate_keypair",
    "public_key_from_private",
]
