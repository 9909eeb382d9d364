//! `engram keys new` and `engram decrypt` against the original SDK's blobs.

use serde_json::Value;

use crate::{engram, fails, json};

#[test]
fn key_files_and_decrypting_the_originals_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.key");
    let k = key.to_str().unwrap();
    let made = json(dir.path(), &["keys", "new", "--out", k]);
    assert_eq!(made["public_key_hex"].as_str().unwrap().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let before = std::fs::read_to_string(&key).unwrap();
    fails(dir.path(), &["keys", "new", "--out", k], None, 1);
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        before,
        "never overwritten"
    );

    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../engram-core/tests/vectors/encryption.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in doc["cases"].as_array().unwrap() {
        let case_key = dir.path().join("case.key");
        std::fs::write(
            &case_key,
            case["recipient_private_key_hex"].as_str().unwrap(),
        )
        .unwrap();
        let out = engram(
            dir.path(),
            &["decrypt", "--key", case_key.to_str().unwrap()],
            Some(case["blob"].as_str().unwrap()),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let plain: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(plain["text"], case["text"]);
        assert_eq!(plain["metadata"], case["metadata"]);
        // Someone else's key: one clear error.
        let err = fails(
            dir.path(),
            &["decrypt", "--key", k],
            Some(case["blob"].as_str().unwrap()),
            1,
        );
        assert!(err.contains("decryption error"), "{err}");
    }
    // Hostile blobs: bad base64, too short to hold a key and nonce, a flipped byte.
    let good = doc["cases"][0]["blob"].as_str().unwrap();
    let mut flipped = good.as_bytes().to_vec();
    let mid = flipped.len() / 2;
    flipped[mid] = if flipped[mid] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    for blob in [
        "!!!not base64!!!",
        "",
        "AAAA",
        &good[..40],
        flipped.as_str(),
        "é€😀",
    ] {
        let err = fails(dir.path(), &["decrypt", "--key", k], Some(blob), 1);
        assert!(err.contains("decryption error"), "{blob:?}: {err}");
    }
    for bad_key in [
        "not hex",
        "zz".repeat(32).as_str(),
        "ab".repeat(31).as_str(),
        "",
    ] {
        std::fs::write(&key, bad_key).unwrap();
        let err = fails(dir.path(), &["decrypt", "--key", k], Some(good), 1);
        assert!(err.contains("engram keys new"), "{bad_key:?}: {err}");
    }
}

#[test]
fn encrypted_memories_are_found_by_meaning_and_read_only_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = d.join("me.key");
    let k = key.to_str().unwrap();
    json(d, &["keys", "new", "--out", k]);
    let secret = "The spare house key is under the blue flower pot.";
    let stored = json(
        d,
        &[
            "ingest",
            secret,
            "--metadata",
            r#"{"room":"porch"}"#,
            "--encrypt",
            k,
        ],
    );
    let cid = stored["cid"].as_str().unwrap();
    json(d, &["ingest", "Quarterly revenue grew by four percent."]);

    // What the store holds: a vector and ciphertext, no text.
    let record = json(d, &["get", cid]);
    assert!(record["text"].is_null(), "{record}");
    assert!(
        record["metadata"]["engram_encrypted"].is_string(),
        "{record}"
    );
    assert!(record["metadata"].get("room").is_none());
    let mut on_disk = Vec::new();
    for entry in walk(d) {
        on_disk.extend(std::fs::read(entry).unwrap());
    }
    assert!(
        !on_disk
            .windows(secret.len())
            .any(|w| w == secret.as_bytes()),
        "plaintext reached the disk"
    );

    // Found by meaning, opened with the key; without it, ciphertext only.
    let hits = json(
        d,
        &[
            "query",
            "where is the house key hidden",
            "-k",
            "1",
            "--decrypt",
            k,
        ],
    );
    assert_eq!(hits["results"][0]["cid"], cid);
    assert_eq!(hits["results"][0]["text"], secret);
    assert_eq!(hits["results"][0]["metadata"]["room"], "porch");
    let closed = json(d, &["query", "where is the house key hidden", "-k", "1"]);
    assert!(closed["results"][0]["text"].is_null());
    let other = d.join("other.key");
    json(d, &["keys", "new", "--out", other.to_str().unwrap()]);
    let wrong = json(
        d,
        &[
            "query",
            "where is the house key hidden",
            "-k",
            "1",
            "--decrypt",
            other.to_str().unwrap(),
        ],
    );
    assert!(
        wrong["results"][0]["text"].is_null(),
        "another key opens nothing"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
