use engram_core::embedding_hash_hex;
use engram_core::proof::{proof_v1, proof_v1_batch, v1_key};

use super::{cases, f32s, hex32, vectors};

#[test]
fn every_proof_case_matches() {
    let doc = vectors("proof.json");
    for case in cases(&doc, "cases") {
        let embedding = f32s(&case["embedding"]);
        let ehash = embedding_hash_hex(&embedding);
        assert_eq!(ehash, case["embedding_hash"].as_str().unwrap());
        let nonce = hex32(&case["nonce_hex"]);
        let hotkey = hex32(&case["validator_hotkey_hex"]);
        assert_eq!(
            hex::encode(proof_v1(&ehash, &nonce, Some(&hotkey))),
            case["proof_validator_bound"].as_str().unwrap()
        );
        assert_eq!(
            hex::encode(proof_v1(&ehash, &nonce, None)),
            case["proof_no_hotkey"].as_str().unwrap()
        );
        if let Some(key) = case.get("hmac_key_hex") {
            assert_eq!(
                hex::encode(v1_key(Some(&hotkey), &nonce)),
                key.as_str().unwrap()
            );
        }
    }
}

#[test]
fn every_batch_case_matches() {
    let doc = vectors("proof.json");
    for case in cases(&doc, "batch_cases") {
        let nonce = hex32(&case["nonce_hex"]);
        let hotkey = hex32(&case["validator_hotkey_hex"]);
        assert_eq!(
            hex::encode(v1_key(Some(&hotkey), &nonce)),
            case["hmac_key_hex"].as_str().unwrap()
        );
        let entries = case["entries"].as_array().unwrap();
        let hashes: Vec<String> = entries
            .iter()
            .map(|e| embedding_hash_hex(&f32s(&e["embedding"])))
            .collect();
        let refs: Vec<&str> = hashes.iter().map(String::as_str).collect();
        let proofs = proof_v1_batch(&refs, &nonce, Some(&hotkey));
        for (entry, proof) in entries.iter().zip(&proofs) {
            assert_eq!(hex::encode(proof), entry["proof"].as_str().unwrap());
        }
        // reordering the entries breaks the proofs
        if refs.len() > 1 {
            let mut rev = refs.clone();
            rev.reverse();
            assert_ne!(
                proof_v1_batch(&rev, &nonce, Some(&hotkey))[0],
                proofs[refs.len() - 1]
            );
        }
    }
}
