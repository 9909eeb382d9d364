//! `encryption.json`: hybrid blobs from the original SDK decrypt exactly; with its pinned
//! randomness we reproduce them byte for byte; the raw and legacy schemes; a tampered tag
//! fails.

use engram_core::crypto::{
    decrypt_legacy, decrypt_memory, decrypt_raw, encrypt_legacy, encrypt_memory, encrypt_raw,
    legacy_namespace_key, memory_plaintext, public_key,
};
use serde_json::Value;

use super::{cases, vectors};

fn bytes<const N: usize>(v: &Value) -> [u8; N] {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

#[test]
fn every_hybrid_case_decrypts_and_pinned_ones_reencrypt_identically() {
    let doc = vectors("encryption.json");
    let mut pinned = 0;
    for case in cases(&doc, "cases") {
        let private: [u8; 32] = bytes(&case["recipient_private_key_hex"]);
        assert_eq!(
            public_key(&private),
            bytes::<32>(&case["recipient_public_key_hex"])
        );
        let blob = case["blob"].as_str().unwrap();
        let (text, metadata) = decrypt_memory(&private, blob).unwrap();
        assert_eq!(text, case["text"].as_str().unwrap());
        assert_eq!(Value::Object(metadata.clone()), case["metadata"]);
        if let Some(eph) = case.get("ephemeral_private_key_hex") {
            pinned += 1;
            assert_eq!(
                memory_plaintext(&text, &metadata),
                case["plaintext_utf8"].as_str().unwrap()
            );
            let again = encrypt_memory(
                &public_key(&private),
                &text,
                &metadata,
                &bytes(eph),
                &bytes(&case["iv_hex"]),
            );
            assert_eq!(again, blob, "{}", case["name"]);
        }
    }
    assert!(pinned > 0, "no pinned-randomness cases");
}

#[test]
fn raw_legacy_and_negative_cases() {
    let doc = vectors("encryption.json");
    for case in cases(&doc, "raw_cases") {
        let private: [u8; 32] = bytes(&case["recipient_private_key_hex"]);
        let blob = hex::decode(case["ciphertext_hex"].as_str().unwrap()).unwrap();
        let plain = hex::decode(case["plaintext_hex"].as_str().unwrap()).unwrap();
        assert_eq!(decrypt_raw(&private, &blob).unwrap(), plain);
        let again = encrypt_raw(
            &public_key(&private),
            &plain,
            &bytes(&case["ephemeral_private_key_hex"]),
            &bytes(&case["iv_hex"]),
        );
        assert_eq!(again, blob);
    }
    for case in cases(&doc, "password_cases") {
        let ns = case["namespace"].as_str().unwrap();
        let key = case["namespace_key"].as_str().unwrap();
        assert_eq!(
            hex::encode(legacy_namespace_key(ns, key)),
            case["aes_key_hex"].as_str().unwrap()
        );
        let (text, metadata) =
            decrypt_legacy(ns, key, case["blob_base64url"].as_str().unwrap()).unwrap();
        assert_eq!(text, case["expected_text"].as_str().unwrap());
        assert_eq!(Value::Object(metadata), case["expected_metadata"]);
        assert!(decrypt_legacy(ns, "wrong key", case["blob_base64url"].as_str().unwrap()).is_err());
        // Writing: the same IV gives the original's blob byte for byte.
        let iv: [u8; 12] = bytes(&case["iv_hex"]);
        let Value::Object(meta) = &case["expected_metadata"] else {
            panic!("metadata object")
        };
        assert_eq!(
            encrypt_legacy(ns, key, case["expected_text"].as_str().unwrap(), meta, &iv),
            case["blob_base64url"].as_str().unwrap()
        );
    }
    for case in cases(&doc, "negative_cases") {
        let private: [u8; 32] = bytes(&case["recipient_private_key_hex"]);
        let err = decrypt_memory(&private, case["blob_base64url"].as_str().unwrap()).unwrap_err();
        assert!(err.to_string().contains("decryption error"), "{err}");
    }
}
