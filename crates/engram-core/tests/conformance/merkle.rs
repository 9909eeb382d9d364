use engram_core::merkle::{normalize_leaves, v1};

use super::{cases, hex32, vectors};

#[test]
fn every_merkle_case_matches() {
    let doc = vectors("merkle.json");
    for case in cases(&doc, "cases") {
        let leaves: Vec<[u8; 32]> = case["leaves"]
            .as_array()
            .map(|ls| {
                ls.iter()
                    .map(|l| {
                        v1::leaf_hash(
                            l["cid"].as_str().unwrap(),
                            l["embedding_hash"].as_str().unwrap(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let sorted = normalize_leaves(leaves);
        let root = v1::root(&sorted);
        assert_eq!(
            hex::encode(root),
            case["root"].as_str().unwrap(),
            "{:?}",
            case.get("name")
        );
        if let Some(count) = case.get("count") {
            assert_eq!(sorted.len() as u64, count.as_u64().unwrap());
        }
        if let Some(want) = case.get("sorted_leaf_hashes") {
            let got: Vec<String> = sorted.iter().map(hex::encode).collect();
            let want: Vec<String> = serde_json::from_value(want.clone()).unwrap();
            assert_eq!(got, want);
        }
        for p in case["inclusion_proofs"].as_array().unwrap() {
            let cid = p["cid"].as_str().unwrap();
            let ehash = p["embedding_hash"].as_str().unwrap();
            let leaf = v1::leaf_hash(cid, ehash);
            assert_eq!(hex::encode(leaf), p["leaf_hash"].as_str().unwrap());
            let proof = v1::prove(&sorted, &leaf, cid).unwrap();
            let steps = serde_json::to_value(&proof.steps).unwrap();
            assert_eq!(steps, p["steps"]);
            assert!(proof.verify_record(cid, ehash, &root));
            if let Some(text) = p.get("proof_json_string") {
                assert_eq!(proof.to_json(), text.as_str().unwrap());
                assert_eq!(
                    v1::InclusionProof::from_json(text.as_str().unwrap()).unwrap(),
                    proof
                );
            }
        }
    }
}

#[test]
fn negative_merkle_cases_fail() {
    let doc = vectors("merkle.json");
    let negatives = cases(&doc, "negative_cases");
    for case in negatives {
        match case["name"].as_str().unwrap() {
            "non_member_has_no_proof" => {
                let leaves = case["pairs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| {
                        v1::leaf_hash(
                            l["cid"].as_str().unwrap(),
                            l["embedding_hash"].as_str().unwrap(),
                        )
                    })
                    .collect();
                let sorted = normalize_leaves(leaves);
                assert_eq!(
                    hex::encode(v1::root(&sorted)),
                    case["root_hex"].as_str().unwrap()
                );
                let q = &case["query"];
                let cid = q["cid"].as_str().unwrap();
                let leaf = v1::leaf_hash(cid, q["embedding_hash"].as_str().unwrap());
                assert!(v1::prove(&sorted, &leaf, cid).is_err());
            }
            "tampered_sibling_rejected" => {
                let proof: v1::InclusionProof =
                    serde_json::from_value(case["proof"].clone()).unwrap();
                let root = hex32(&case["root_hex"]);
                assert!(!proof.verify(&root));
                assert_eq!(case["verifies"], false);
            }
            other => panic!("unknown negative case {other}: extend this test"),
        }
    }
}
