use serde_json::json;

use super::{engram, fails, json};

#[test]
fn ingest_query_get_delete_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = json(
        d,
        &[
            "ingest",
            "The sky is blue because of Rayleigh scattering.",
            "--metadata",
            r#"{"source":"physics","year":2020}"#,
        ],
    );
    assert_eq!(a["stored"], true);
    let cid = a["cid"].as_str().unwrap().to_string();
    json(d, &["ingest", "Paris is the capital of France."]);
    json(d, &["ingest", "Rust is a systems programming language."]);
    let again = json(
        d,
        &[
            "ingest",
            "The sky is blue because of Rayleigh scattering.",
            "--metadata",
            r#"{"source":"physics","year":2020}"#,
        ],
    );
    assert_eq!(
        again,
        json!({"cid": cid, "stored": false}),
        "idempotent by CID"
    );

    let q = json(d, &["query", "why is the sky blue?", "--top-k", "2"]);
    let results = q["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["cid"], cid.as_str());
    assert_eq!(
        results[0]["text"],
        "The sky is blue because of Rayleigh scattering."
    );
    assert!(results[0]["score"].as_f64().unwrap() > results[1]["score"].as_f64().unwrap());

    let filtered = json(d, &["query", "capital city", "--filter", "year=2020"]);
    assert_eq!(filtered["results"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["results"][0]["cid"], cid.as_str());

    let rec = json(d, &["get", &cid]);
    assert_eq!(rec["metadata"], json!({"source": "physics", "year": 2020}));
    assert_eq!(rec["embedding"].as_array().unwrap().len(), 384);

    // anyone holding the record can recompute its CID offline
    let out = engram(d, &["cid"], Some(&rec.to_string()));
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), cid);

    // human output works too
    let out = engram(d, &["query", "France"], None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Paris is the capital of France."));

    let status = json(d, &["status"]);
    assert_eq!(status["count"], 3);
    assert_eq!(status["model_ok"], true);
    assert_eq!(status["commitment"]["count"], 3);

    let before = status["commitment"]["root_v1"]
        .as_str()
        .unwrap()
        .to_string();
    let deleted = json(d, &["delete", &cid]);
    assert_eq!(deleted["deleted"], serde_json::json!([cid]));
    assert_eq!(deleted["blobs"], serde_json::json!([]));
    let after = json(d, &["status"]);
    assert_eq!(after["count"], 2);
    // The delete names the new commitment: the store's, and not the old one.
    assert_eq!(deleted["root_v1"], after["commitment"]["root_v1"]);
    assert_eq!(deleted["root_v2"], after["commitment"]["root_v2"]);
    assert_ne!(deleted["root_v1"].as_str(), Some(before.as_str()));
    let out = engram(d, &["get", &cid], None);
    assert_eq!(out.status.code(), Some(1));
}

/// `--mode keyword|hybrid` on the embedded store: words find what meaning misses.
#[test]
fn keyword_and_hybrid_queries() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rare = json(
        d,
        &[
            "ingest",
            "Ticket ZK-4411: the invoice export times out after 30 s.",
        ],
    )["cid"]
        .as_str()
        .unwrap()
        .to_string();
    json(
        d,
        &[
            "ingest",
            "Billing documents can be downloaded as PDF files.",
        ],
    );
    json(d, &["ingest", "The cat sleeps on the warm windowsill."]);
    let cids = |args: &[&str]| -> Vec<String> {
        json(d, args)["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["cid"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        cids(&["query", "ZK-4411", "--mode", "keyword", "-k", "3"]),
        [rare.as_str()]
    );
    let hybrid = cids(&[
        "query",
        "why does ZK-4411 time out",
        "--mode",
        "hybrid",
        "-k",
        "1",
    ]);
    assert_eq!(hybrid, [rare.as_str()]);
    let weighted = cids(&[
        "query",
        "resting pets zk-4411",
        "--mode",
        "hybrid",
        "--keyword-weight",
        "50",
        "-k",
        "1",
    ]);
    assert_eq!(weighted, [rare]);
    assert!(cids(&["query", "the of and", "--mode", "keyword"]).is_empty());
    // The default is dense: the original's behaviour.
    assert_eq!(
        cids(&["query", "sleeping pets", "-k", "1"]),
        cids(&["query", "sleeping pets", "--mode", "dense", "-k", "1"])
    );
}

#[test]
fn list_pages_through_every_memory_with_filters() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = d.join("m.jsonl");
    let lines: Vec<String> = (0..7)
        .map(|i| {
            json!({"text": format!("Listed memory {i}"), "metadata": {"i": i, "odd": i % 2 == 1}})
                .to_string()
        })
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    json(d, &["ingest", "--file", file.to_str().unwrap()]);
    let mut seen = std::collections::BTreeSet::new();
    for offset in ["0", "3", "6"] {
        let page = json(d, &["list", "--limit", "3", "--offset", offset]);
        for r in page["records"].as_array().unwrap() {
            assert!(
                seen.insert(r["cid"].as_str().unwrap().to_string()),
                "listed twice"
            );
            assert!(r["text"].as_str().unwrap().starts_with("Listed memory"));
        }
    }
    assert_eq!(seen.len(), 7, "every memory once over the pages");
    let odd = json(d, &["list", "--filter", "odd=true"]);
    assert_eq!(odd["count"], 3);
    let err = fails(d, &["list", "--limit", "201"], None, 1);
    assert!(err.contains("200"), "{err}");
    let text = engram(d, &["list", "--limit", "2"], None);
    assert_eq!(String::from_utf8_lossy(&text.stdout).lines().count(), 2);
}

#[test]
fn file_ingest_is_batched_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = d.join("memories.jsonl");
    let lines: Vec<String> = (0..120)
        .map(|i| json!({"text": format!("Memory number {i} is about topic {}", i % 7), "metadata": {"i": i}}).to_string())
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let first = json(d, &["ingest", "--file", file.to_str().unwrap()]);
    assert_eq!(
        (first["ingested"].as_u64(), first["new"].as_u64()),
        (Some(120), Some(120))
    );
    let second = json(d, &["ingest", "--file", file.to_str().unwrap()]);
    assert_eq!(
        (second["new"].as_u64(), second["existing"].as_u64()),
        (Some(0), Some(120))
    );
    assert_eq!(first["cids"], second["cids"]);

    let text = d.join("notes.txt");
    std::fs::write(&text, "first plain note\n\nsecond plain note\n").unwrap();
    let plain = json(
        d,
        &[
            "ingest",
            "--file",
            text.to_str().unwrap(),
            "--namespace",
            "notes",
        ],
    );
    assert_eq!(plain["new"], 2);
    let hits = json(d, &["query", "plain note", "--namespace", "notes"]);
    assert_eq!(hits["results"].as_array().unwrap().len(), 2);
    assert_eq!(json(d, &["status"])["count"], 122);
}

#[test]
fn raw_vector_keeps_exact_bytes_and_embed_matches_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let emb = json(d, &["embed", "a memory about vectors"]);
    let vector = emb["embedding"].clone();
    assert_eq!(vector.as_array().unwrap().len(), 384);
    let record = json!({"embedding": vector, "metadata": {"k": "v"}, "model_version": "v1"});
    let file = d.join("rec.json");
    std::fs::write(&file, record.to_string()).unwrap();
    let stored = json(d, &["ingest", "--vector", file.to_str().unwrap()]);
    let cid = stored["cid"].as_str().unwrap();
    let back = json(d, &["get", cid]);
    assert_eq!(back["embedding"], vector, "exact f32 values round-trip");
    let out = engram(d, &["cid"], Some(&record.to_string()));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), cid);
}

/// The model belongs to the user, not to a store: any fresh data directory, named by
/// `ENGRAM_DATA_DIR` or by `--data-dir`, works with no model flags right after setup.
#[test]
fn a_fresh_data_directory_finds_the_users_model() {
    let by_env = tempfile::tempdir().unwrap();
    let out = super::engram_command()
        .env_remove("ENGRAM_MODEL_DIR")
        .env("ENGRAM_DATA_DIR", by_env.path())
        .args(["--json", "ingest", "hello"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !by_env.path().join("model").exists(),
        "no model copied into the store"
    );

    let by_flag = tempfile::tempdir().unwrap();
    for args in [
        &["embed", "hi"][..],
        &["ingest", "hello"],
        &["query", "greeting", "--top-k", "1"],
        &["status"],
    ] {
        let out = super::engram_command()
            .env_remove("ENGRAM_MODEL_DIR")
            .env_remove("ENGRAM_DATA_DIR")
            .arg("--data-dir")
            .arg(by_flag.path())
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "engram {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let status = json(by_flag.path(), &["status"]);
    assert_eq!(status["count"], 1);
    assert_eq!(
        status["model_dir"].as_str().map(std::path::PathBuf::from),
        Some(engram_embed::resolve_model_dir(None)),
        "{status}"
    );
}

/// `ENGRAM_KERNELS` picks the kernel path, `status` names it, every path prints the same
/// vector, and a name that is not a path is one clear error.
#[test]
fn kernel_paths_are_selectable_and_agree() {
    let dir = tempfile::tempdir().unwrap();
    let run = |kernels: &str, args: &[&str]| {
        super::engram_command()
            .env("ENGRAM_KERNELS", kernels)
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let mut printed = Vec::new();
    for kernels in engram_embed::Kernels::available() {
        let out = run(kernels.name(), &["embed", "one text, one vector"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        printed.push(out.stdout);
        let status = run(kernels.name(), &["--json", "status"]);
        let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
        assert_eq!(status["kernels"], kernels.name());
    }
    assert!(
        printed.windows(2).all(|w| w[0] == w[1]),
        "same bytes on every path"
    );

    let out = run("sse9", &["embed", "hi"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("engram: error: ") && err.contains("sse9") && err.contains("scalar"),
        "{err}"
    );
}

/// `--ttl` on a private memory: answered until it is due, then gone from the store and its
/// commitment; public memories refuse one.
#[test]
fn private_memories_expire_and_public_ones_are_permanent() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    json(d, &["ingest", "A permanent public note."]);
    let before = super::fingerprint(d);
    let err = super::fails(
        d,
        &["ingest", "Public and fleeting?", "--ttl", "60"],
        None,
        1,
    );
    assert!(err.contains("permanent"), "{err}");
    let err = super::fails(
        d,
        &["ingest", "x", "--namespace", "notes", "--ttl", "0"],
        None,
        1,
    );
    assert!(err.contains("ttl_s must be between 1"), "{err}");
    assert_eq!(
        super::fingerprint(d),
        before,
        "refused ingests store nothing"
    );

    let kept = json(
        d,
        &[
            "ingest",
            "The meeting moved to Thursday.",
            "--namespace",
            "notes",
        ],
    );
    let fleeting = json(
        d,
        &[
            "ingest",
            "The door code is 4417 today only.",
            "--namespace",
            "notes",
            "--ttl",
            "2",
        ],
    );
    let found = |q: &str| -> Vec<String> {
        json(
            d,
            &["query", q, "--namespace", "notes", "--mode", "keyword"],
        )["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["cid"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(found("door code 4417"), [fleeting["cid"].as_str().unwrap()]);
    std::thread::sleep(std::time::Duration::from_millis(2_200));
    assert!(found("door code 4417").is_empty());
    let status = json(d, &["status"]);
    assert_eq!(
        status["count"], 2,
        "swept: the public note and the kept one"
    );
    assert_eq!(found("meeting thursday"), [kept["cid"].as_str().unwrap()]);
}

/// `engram dedup`: near-copies reported against the earliest, removed only where memories
/// are not permanent.
#[test]
fn near_duplicates_are_reported_and_removed_in_private_namespaces() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ns = ["--namespace", "notes"];
    let first = json(
        d,
        &[
            &["ingest", "The quarterly report is due on Friday."][..],
            &ns,
        ]
        .concat(),
    );
    let copy = json(
        d,
        &[&["ingest", "The quarterly report is due Friday."][..], &ns].concat(),
    );
    json(
        d,
        &[
            &["ingest", "Penguins live in the southern hemisphere."][..],
            &ns,
        ]
        .concat(),
    );
    let report = json(d, &[&["dedup", "--threshold", "0.95"][..], &ns].concat());
    let dups = report["duplicates"].as_array().unwrap();
    assert_eq!(dups.len(), 1, "{report}");
    assert_eq!(dups[0]["kept"], first["cid"]);
    assert_eq!(dups[0]["duplicate"], copy["cid"]);
    assert!(dups[0]["score"].as_f64().unwrap() >= 0.95);
    assert_eq!(report["removed"], 0);

    let err = super::fails(d, &["dedup", "--remove"], None, 2);
    assert!(err.contains("permanent"), "{err}");
    let err = super::fails(d, &["dedup", "--threshold", "1.5"], None, 1);
    assert!(err.contains("(0, 1]"), "{err}");

    let removed = json(
        d,
        &[&["dedup", "--threshold", "0.95", "--remove"][..], &ns].concat(),
    );
    assert_eq!(removed["removed"], 1);
    assert_eq!(removed["commitment"]["count"], 2);
    let again = json(d, &[&["dedup", "--threshold", "0.95"][..], &ns].concat());
    assert!(again["duplicates"].as_array().unwrap().is_empty());
}
