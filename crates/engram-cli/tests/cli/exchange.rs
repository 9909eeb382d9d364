//! `engram export` / `engram import`: a round trip between two data directories changes no
//! CID and loses nothing; a file whose content does not hash to its CIDs stores nothing.

use serde_json::Value;

use crate::{engram, fails, fingerprint, json};

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("an export line is JSON"))
        .collect()
}

/// The parts a round trip must keep (the creation time is the importing store's).
fn kept(v: &Value) -> Value {
    let mut v = v.clone();
    v.as_object_mut().unwrap().remove("created_ms");
    v
}

#[test]
fn memories_move_between_stores_with_every_cid_and_nothing_lost() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let input = concat!(
        "{\"text\": \"Validators score miners by recall.\", \"metadata\": {\"topic\": \"network\", \"n\": 1}}\n",
        "{\"text\": \"Storage proofs keep miners honest.\", \"metadata\": {\"score\": 0.5, \"tags\": [\"a\", \"b\"]}}\n",
        "{\"text\": \"Private memories are sealed.\"}\n",
    );
    let out = engram(a.path(), &["ingest", "--file", "-"], Some(input));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported = engram(a.path(), &["export"], None);
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let first = lines(&exported.stdout);
    assert_eq!(first.len(), 3);
    assert!(
        first
            .iter()
            .all(|m| m["embedding"].as_array().unwrap().len() == 384)
    );

    let file = a.path().join("memories.jsonl");
    std::fs::write(&file, &exported.stdout).unwrap();
    let done = json(b.path(), &["import", file.to_str().unwrap()]);
    assert_eq!(
        (done["stored"].as_u64(), done["present"].as_u64()),
        (Some(3), Some(0))
    );
    let again = json(b.path(), &["import", file.to_str().unwrap()]);
    assert_eq!(
        (again["stored"].as_u64(), again["present"].as_u64()),
        (Some(0), Some(3))
    );

    let second = lines(&engram(b.path(), &["export"], None).stdout);
    let mut x: Vec<Value> = first.iter().map(kept).collect();
    let mut y: Vec<Value> = second.iter().map(kept).collect();
    x.sort_by_key(|v| v["cid"].to_string());
    y.sort_by_key(|v| v["cid"].to_string());
    assert_eq!(
        x, y,
        "vectors, metadata, text and CIDs survive the round trip"
    );
    assert_eq!(
        fingerprint(a.path()).1,
        fingerprint(b.path()).1,
        "the same commitment root"
    );

    // --out never overwrites.
    let err = fails(
        a.path(),
        &["export", "--out", file.to_str().unwrap()],
        None,
        1,
    );
    assert!(err.contains("never overwritten"), "{err}");
}

#[test]
fn an_export_whose_content_does_not_hash_to_its_cid_stores_nothing() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let out = engram(a.path(), &["ingest", "one memory"], None);
    assert!(out.status.success());
    let out = engram(a.path(), &["ingest", "another memory"], None);
    assert!(out.status.success());
    let mut memories = lines(&engram(a.path(), &["export"], None).stdout);
    memories[1]["metadata"]["forged"] = Value::Bool(true);
    let text: String = memories.iter().map(|m| format!("{m}\n")).collect();
    let before = fingerprint(b.path());
    let err = fails(b.path(), &["import", "-"], Some(&text), 1);
    assert!(
        err.contains("memory 2") && err.contains("nothing was imported"),
        "{err}"
    );
    assert_eq!(
        fingerprint(b.path()),
        before,
        "nothing stored, not even the good first line"
    );
    let err = fails(b.path(), &["import", "-"], Some("{\"cid\": 1}\n"), 1);
    assert!(err.contains("line 1"), "{err}");
}
