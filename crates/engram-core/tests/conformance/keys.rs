//! `sr25519.json`: keys derived from a mnemonic and from dev URIs, signatures made by the
//! Bittensor key library.

use engram_core::keys::{Keypair, ss58_decode, ss58_encode, verify};

use super::{cases, vectors};

fn hex32(v: &serde_json::Value) -> [u8; 32] {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

#[test]
fn every_sr25519_case_derives_and_verifies() {
    let doc = vectors("sr25519.json");
    for case in cases(&doc, "cases") {
        let from = &case["derive_from"];
        let key = match (from["mnemonic"].as_str(), from["uri"].as_str()) {
            (Some(m), _) => Keypair::from_mnemonic(m).unwrap(),
            (_, Some(uri)) => Keypair::from_uri(uri).unwrap(),
            _ => panic!("case derives from nothing: {from}"),
        };
        let public = hex32(&case["public_key_hex"]);
        assert_eq!(key.public(), public, "{from}");
        let address = case["ss58_address"].as_str().unwrap();
        assert_eq!(key.ss58(), address);
        assert_eq!(ss58_encode(&public), address);
        assert_eq!(ss58_decode(address).unwrap(), public);

        let message = hex::decode(case["message_hex"].as_str().unwrap()).unwrap();
        let sig: [u8; 64] = hex::decode(case["signature_hex"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let tampered: [u8; 64] = hex::decode(case["tampered_signature_hex"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        assert!(
            verify(&public, &message, &sig),
            "{from}: reference signature"
        );
        assert!(!verify(&public, &message, &tampered), "{from}: tampered");
        // Our signatures verify under the same rule.
        assert!(verify(&public, &message, &key.sign(&message)));
    }
}
