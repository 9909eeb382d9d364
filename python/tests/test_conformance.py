"""The package's CIDs, proofs, signatures and encryption against the vectors computed with
the original implementation (crates/engram-core/tests/vectors)."""

from __future__ import annotations

import json

import pytest

import engram
from engram import _engram
from engram.sdk.encryption import HybridEncryption, NamespaceEncryption, public_key_from_private

from conftest import vectors


def _obj(v):
    return json.loads(v) if isinstance(v, str) else v


def test_every_cid_case():
    cases = vectors("cid.json")["cases"]
    assert len(cases) >= 30
    for case in cases:
        meta = _obj(case.get("metadata_as_sent", case["metadata"]))
        emb = _obj(case["embedding"])
        assert engram.cid(emb, meta, case.get("model_version", "v1")) == case["cid"], case


def test_every_proof_case():
    for case in vectors("proof.json")["cases"]:
        emb = _obj(case["embedding"])
        assert _engram.embedding_hash(emb) == case["embedding_hash"]
        nonce = bytes.fromhex(case["nonce_hex"])
        hotkey = bytes.fromhex(case["validator_hotkey_hex"])
        assert _engram.storage_proof(case["cid"], emb, nonce, hotkey, 1) == case["proof_validator_bound"]
        assert _engram.storage_proof(case["cid"], emb, nonce, None, 1) == case["proof_no_hotkey"]


def test_every_signed_request_message():
    for name in ("signed-requests.json", "auth-messages.json"):
        for case in vectors(name)["cases"]:
            body = json.loads(case["request_body_json"])
            nonce = int(body["nonce"])
            msg = _engram.request_message(nonce, case["endpoint"], json.dumps(body))
            assert msg == case["canonical_message"], case
            sig = bytes.fromhex(body["signature"].removeprefix("0x"))
            assert engram.verify(case["hotkey"], msg.encode(), sig)
            assert not engram.verify(case["hotkey"], (msg + "x").encode(), sig)


def test_keys_match_bittensor_wallet():
    from bittensor_wallet import Keypair as BtKeypair

    for uri in ("//Alice", "//Bob"):
        assert engram.Keypair.from_uri(uri).ss58_address == BtKeypair.create_from_uri(uri).ss58_address
    seed = bytes(range(32))
    assert engram.Keypair.from_seed(seed).ss58_address == BtKeypair.create_from_seed(seed.hex()).ss58_address
    cases = vectors("sr25519.json")["cases"]
    assert cases
    for case in cases:
        source = case["derive_from"]
        if "mnemonic" in source:
            ours = engram.Keypair.from_mnemonic(source["mnemonic"])
        else:
            ours = engram.Keypair.from_uri(source["uri"])
        assert ours.ss58_address == case["ss58_address"]
        assert ours.public_key.hex() == case["public_key_hex"]
        msg, sig = bytes.fromhex(case["message_hex"]), bytes.fromhex(case["signature_hex"])
        assert ours.verify(msg, sig)
        assert not ours.verify(msg, bytes.fromhex(case["tampered_signature_hex"]))
    # Our signatures verify with bittensor-wallet, and theirs with ours.
    bt = BtKeypair.create_from_uri("//Alice")
    mine = engram.Keypair.from_uri("//Alice")
    assert bt.verify(b"hello", mine.sign(b"hello"))
    assert mine.verify(b"hello", bt.sign(b"hello"))


def test_hybrid_encryption_reads_the_originals_blobs_and_round_trips():
    doc = vectors("encryption.json")
    for case in doc["cases"]:
        enc = HybridEncryption(private_key=bytes.fromhex(case["recipient_private_key_hex"]))
        assert enc.public_key.hex() == case["recipient_public_key_hex"]
        text, meta = enc.decrypt_payload(case["blob"])
        assert text == case["text"]
        assert meta == _obj(case["metadata"])
    for case in doc["negative_cases"]:
        enc = HybridEncryption(private_key=bytes.fromhex(case["recipient_private_key_hex"]))
        with pytest.raises(ValueError):
            enc.decrypt_payload(case["blob_base64url"])
    private = bytes(range(1, 33))
    enc = HybridEncryption(private_key=private)
    write_only = HybridEncryption(public_key=public_key_from_private(private))
    blob = write_only.encrypt_payload("héllo", {"k": [1, "x"], "n": None})
    assert blob != write_only.encrypt_payload("héllo", {"k": [1, "x"], "n": None}), "fresh key per message"
    assert enc.decrypt_payload(blob) == ("héllo", {"k": [1, "x"], "n": None})
    with pytest.raises(ValueError):
        write_only.decrypt_payload(blob)
    assert enc.decrypt_raw(write_only.encrypt_raw(b"\x00raw bytes")) == b"\x00raw bytes"
    results = [{"cid": "c", "metadata": {"_enc": blob}}, {"cid": "d", "metadata": {"_enc": "garbage"}}, {"cid": "e"}]
    out = enc.decrypt_results(results)
    assert out[0]["metadata"] == {"k": [1, "x"], "n": None}
    assert out[1]["metadata"] == {"_error": "decryption_failed"}
    assert out[2] == {"cid": "e"}


def test_legacy_namespace_key_scheme_matches():
    for case in vectors("encryption.json")["password_cases"]:
        enc = NamespaceEncryption(case["namespace"], case["namespace_key"])
        assert bytes(_engram.legacy_key(case["namespace"], case["namespace_key"])).hex() == case["aes_key_hex"]
        assert enc.decrypt_payload(case["blob_base64url"]) == (case["expected_text"], _obj(case["expected_metadata"]))
        blob = enc.encrypt_payload("again", {"a": 1})
        assert enc.decrypt_payload(blob) == ("again", {"a": 1})
        with pytest.raises(ValueError):
            NamespaceEncryption(case["namespace"], "a different key").decrypt_payload(blob)
