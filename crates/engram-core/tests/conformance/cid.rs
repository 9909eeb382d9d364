use engram_core::{Cid, Metadata, canonical_metadata_json, cid_v1, embedding_hash_hex};

use super::{cases, f32s, vectors};

#[test]
fn every_cid_case_matches() {
    let doc = vectors("cid.json");
    let mut checked = 0;
    for case in cases(&doc, "cases") {
        let embedding = f32s(case.get("embedding_f32").unwrap_or(&case["embedding"]));
        let sent = case.get("metadata_as_sent").unwrap_or(&case["metadata"]);
        let metadata: Metadata = sent.as_object().expect("metadata object").clone();
        let version = case["model_version"].as_str().unwrap();
        let want = case["cid"].as_str().unwrap();

        let cid = cid_v1(&embedding, &metadata, version);
        assert_eq!(cid.to_string(), want, "case {:?}", case.get("name"));
        assert_eq!(want.parse::<Cid>().unwrap(), cid);
        if let Some(canon) = case.get("canonical_metadata_json") {
            assert_eq!(
                canonical_metadata_json(&metadata, version),
                canon.as_str().unwrap()
            );
        }
        if let Some(h) = case.get("embedding_hash") {
            assert_eq!(embedding_hash_hex(&embedding), h.as_str().unwrap());
        }
        checked += 1;
    }
    assert_eq!(checked, 36, "every case of cid.json was read");
}
