//! `engram snapshot create|list|restore`, on the local store and through a node's
//! `POST /snapshot`.

use super::{Killed, engram, fails, json, serve, url_of, wait_healthy};

fn roots(d: &std::path::Path) -> (u64, String, String) {
    let s = json(d, &["status"]);
    let c = &s["commitment"];
    (
        c["count"].as_u64().unwrap(),
        c["root_v1"].as_str().unwrap().into(),
        c["root_v2"].as_str().unwrap().into(),
    )
}

#[test]
fn snapshot_list_and_restore_the_local_store() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    for t in [
        "Snapshots keep a store safe.",
        "A second memory.",
        "Zebras are striped.",
    ] {
        json(&d, &["ingest", t]);
    }
    let made = json(&d, &["snapshot", "create"]);
    let path = made["path"].as_str().unwrap().to_string();
    assert!(
        path.starts_with(d.join("snapshots").to_str().unwrap()),
        "{path}"
    );
    assert_eq!(made["count"], 3);
    let listed = json(&d, &["snapshot", "list"]);
    assert_eq!(listed["snapshots"][0]["path"], path.as_str());
    assert_eq!(listed["snapshots"][0]["root_v2"], made["root_v2"]);

    let to = dir.path().join("restored");
    let restored = json(
        &d,
        &["snapshot", "restore", &path, "--to", to.to_str().unwrap()],
    );
    assert_eq!(restored["root_v2"], made["root_v2"]);
    assert_eq!(roots(&to), roots(&d));
    let hits = json(&to, &["query", "striped animals", "-k", "1"]);
    assert_eq!(hits["results"][0]["text"], "Zebras are striped.");
    let words = json(&to, &["query", "zebras", "--mode", "keyword"]);
    assert_eq!(words["results"].as_array().unwrap().len(), 1);

    // Never onto data, never over a file.
    let err = fails(
        &d,
        &["snapshot", "restore", &path, "--to", to.to_str().unwrap()],
        None,
        1,
    );
    assert!(err.contains("not empty"), "{err}");
    let err = fails(&d, &["snapshot", "create", "--out", &path], None, 1);
    assert!(err.contains("never overwritten"), "{err}");
    let junk = dir.path().join("junk.tar.gz");
    std::fs::write(&junk, b"not a snapshot").unwrap();
    let never = dir.path().join("never");
    let out = engram(
        &d,
        &[
            "snapshot",
            "restore",
            junk.to_str().unwrap(),
            "--to",
            never.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!never.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_snapshots_itself_for_its_operator() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    json(&data, &["ingest", "A memory on a node."]);
    let mut node = Killed(serve(&data, 0, &[], &[]));
    let url = url_of(&data, &mut node.0).await;
    wait_healthy(&engram_client::Client::new(&url).unwrap()).await;
    let here = dir.path().join("cli");
    let made = json(&here, &["--node", &url, "snapshot", "create"]);
    let path = made["path"].as_str().unwrap();
    assert!(
        path.starts_with(data.join("snapshots").to_str().unwrap()),
        "{path}"
    );
    assert_eq!(made["count"], 1);
    let to = dir.path().join("copy");
    json(
        &here,
        &["snapshot", "restore", path, "--to", to.to_str().unwrap()],
    );
    let (count, _, v2) = roots(&to);
    assert_eq!((count, v2.as_str()), (1, made["root_v2"].as_str().unwrap()));
}
