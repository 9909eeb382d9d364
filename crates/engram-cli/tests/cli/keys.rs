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
    std::fs::write(&key, "not hex").unwrap();
    let err = fails(dir.path(), &["decrypt", "--key", k], Some("x"), 1);
    assert!(err.contains("engram keys new"), "{err}");
}
