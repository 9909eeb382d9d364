use serde_json::json;

use super::{fails, fingerprint, json};

#[test]
fn rejected_input_gets_one_clear_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    json(
        d,
        &["ingest", "a memory that must survive every bad command"],
    );
    let before = fingerprint(d);

    let long = "x".repeat(8193);
    let big_meta = json!({"k": "v".repeat(4100)}).to_string();
    let cases: Vec<(Vec<&str>, Option<String>, i32, &str)> = vec![
        (vec!["ingest", ""], None, 1, "empty"),
        (vec!["ingest", "   "], None, 1, "empty"),
        (vec!["ingest", &long], None, 1, "8192"),
        (
            vec!["ingest", "ok", "--metadata", &big_meta],
            None,
            1,
            "4096",
        ),
        (
            vec!["ingest", "ok", "--metadata", "[1,2]"],
            None,
            1,
            "object",
        ),
        (vec!["ingest", "ok", "--metadata", "{nope"], None, 2, "JSON"),
        (
            vec!["ingest", "--vector", "-"],
            Some(json!({"embedding": vec![0.1; 383]}).to_string()),
            1,
            "383",
        ),
        (
            vec!["ingest", "--vector", "-"],
            Some(json!({"embedding": vec![0.1; 385]}).to_string()),
            1,
            "385",
        ),
        (
            vec!["ingest", "--vector", "-"],
            Some(format!("{{\"embedding\": [1e39{}]}}", ", 0.1".repeat(383))),
            1,
            "finite",
        ),
        (
            vec!["ingest", "--vector", "-"],
            Some(format!("{{\"embedding\": [NaN{}]}}", ", 0.1".repeat(383))),
            1,
            "vector record",
        ),
        (
            vec!["ingest", "--vector", "-"],
            Some("{\"embedding\": [\"a\"]}".into()),
            1,
            "not a number",
        ),
        (vec!["get", "v1::nothex"], None, 2, "malformed CID"),
        (vec!["delete", "sha256:12"], None, 2, "malformed CID"),
        (vec!["query", "sky", "--top-k", "0"], None, 1, "top_k"),
        (vec!["query", "sky", "--top-k", "101"], None, 1, "top_k"),
        (
            vec!["query", "sky", "--filter", "novalue"],
            None,
            2,
            "KEY=VALUE",
        ),
        (vec!["query", ""], None, 1, "empty"),
        (
            vec!["query", "sky", "--mode", "bm25"],
            None,
            2,
            "dense, keyword or hybrid",
        ),
        (
            vec!["query", "sky", "--mode", "hybrid", "--keyword-weight", "0"],
            None,
            1,
            "keyword_weight",
        ),
        (
            vec![
                "query",
                "sky",
                "--mode",
                "hybrid",
                "--keyword-weight",
                "100.5",
            ],
            None,
            1,
            "keyword_weight",
        ),
        (
            vec!["query", "sky", "--mode", "keyword", "--decrypt", "k.key"],
            None,
            2,
            "--decrypt",
        ),
        (vec!["frobnicate"], None, 2, ""),
    ];
    for (args, stdin, code, needle) in cases {
        let out = super::engram(d, &args, stdin.as_deref());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
        assert_eq!(fingerprint(d), before, "{args:?} changed the store");
    }
}

#[test]
fn corrupt_jsonl_line_is_reported_and_nothing_is_ingested() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    json(d, &["ingest", "existing memory"]);
    let before = fingerprint(d);
    let file = d.join("bad.jsonl");
    std::fs::write(&file, "{\"text\": \"fine one\"}\n{\"text\": \"fine two\"}\n{\"text\": \"broken\"\n{\"text\": \"fine three\"}\n").unwrap();
    let err = fails(d, &["ingest", "--file", file.to_str().unwrap()], None, 1);
    assert!(err.contains("line 3"), "{err}");
    std::fs::write(
        &file,
        "{\"text\": \"fine\"}\n{\"text\": \"\", \"metadata\": {}}\n",
    )
    .unwrap();
    let err = fails(d, &["ingest", "--file", file.to_str().unwrap()], None, 1);
    assert!(err.contains("line 2") && err.contains("empty"), "{err}");
    assert_eq!(fingerprint(d), before);
}

#[test]
fn missing_data_dir_and_missing_model_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("never-created");
    let err = fails(&missing, &["query", "anything"], None, 1);
    assert!(err.contains("no Engram data directory"), "{err}");
    assert!(!missing.exists());

    let d = dir.path().join("data");
    json(&d, &["ingest", "stored before the model went missing"]);
    let before = fingerprint(&d);
    let no_model = dir.path().join("no-model");
    std::fs::create_dir_all(&no_model).unwrap();
    let err = fails(
        &d,
        &[
            "--model-dir",
            no_model.to_str().unwrap(),
            "ingest",
            "new text",
        ],
        None,
        1,
    );
    assert!(err.contains("setup.sh") && err.contains("model"), "{err}");
    let err = fails(
        &d,
        &["--model-dir", no_model.to_str().unwrap(), "query", "text"],
        None,
        1,
    );
    assert!(err.contains("setup.sh"), "{err}");
    assert_eq!(fingerprint(&d), before);
}
