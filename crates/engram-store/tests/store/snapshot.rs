//! Snapshots taken while writes go on, restored elsewhere with every file and the commitment
//! checked; altered snapshots refused.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use engram_store::snapshot::{self, Manifest};
use engram_store::{PUBLIC_NAMESPACE, Ranking, Store, StoreError};
use serde_json::json;

use super::{q, record};

/// Every entry of a snapshot as (path, bytes).
fn entries(archive: &Path) -> Vec<(String, Vec<u8>)> {
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(archive).unwrap());
    let mut tar = tar::Archive::new(gz);
    tar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).unwrap();
            (path, bytes)
        })
        .collect()
}

/// Writes `entries` as a snapshot-shaped archive.
fn write_entries(archive: &Path, entries: &[(String, Vec<u8>)]) {
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(archive).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    for (path, bytes) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        if path.contains("..") {
            // Written by hand: the tar crate refuses to write a `..` path, and an
            // attacker's archive is not written by it.
            let name = path.as_bytes();
            h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
            h.set_cksum();
            tar.append(&h, bytes.as_slice()).unwrap();
        } else {
            tar.append_data(&mut h, path, bytes.as_slice()).unwrap();
        }
    }
    tar.into_inner().unwrap().finish().unwrap();
}

fn problem(e: StoreError) -> String {
    match e {
        StoreError::Snapshot { problem, .. } => problem.to_string(),
        other => panic!("not a snapshot refusal: {other}"),
    }
}

#[test]
fn a_snapshot_under_write_load_restores_every_cid_and_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    store
        .upsert(
            (0..500)
                .map(|i| record(i, PUBLIC_NAMESPACE, json!({"i": i})))
                .collect(),
        )
        .unwrap();
    store
        .blobs()
        .put(
            b"a document's bytes",
            "text/plain",
            PUBLIC_NAMESPACE,
            false,
            engram_store::Archive::Off,
        )
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 10_000;
            while !stop.load(Ordering::Relaxed) {
                let batch = (i..i + 20).map(|n| record(n, "busy", json!({}))).collect();
                store.upsert(batch).unwrap();
                i += 20;
            }
            i - 10_000
        })
    };
    // Let the writer get going, snapshot mid-stream, let it write more.
    while store.len() < 700 {
        std::thread::yield_now();
    }
    let archive = dir.path().join("snap.tar.gz");
    let manifest = store.snapshot(&archive).unwrap();
    while store.len() < manifest.count as usize + 200 {
        std::thread::yield_now();
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    assert!(
        written as u64 > manifest.count - 500,
        "writes went on during the snapshot"
    );
    assert!(!dir.path().join(".snap.tar.gz.partial").exists());

    let target = tempfile::tempdir().unwrap();
    let restored_dir = target.path().join("restored");
    let restored_manifest = snapshot::restore(&archive, &restored_dir).unwrap();
    assert_eq!(restored_manifest, manifest);
    assert_eq!(snapshot::read_manifest(&archive).unwrap(), manifest);
    let restored = Store::open(&restored_dir).unwrap();
    let c = restored.commitment();
    assert_eq!(c.count, manifest.count);
    assert_eq!(hex::encode(c.root_v1), manifest.root_v1);
    assert_eq!(hex::encode(c.root_v2), manifest.root_v2);
    assert_eq!(restored.recompute_commitment().unwrap(), c);
    // Every restored record is the original's, byte for byte, in its namespace.
    let mut cursor = None;
    let mut seen = 0;
    loop {
        let (page, next) = restored.scroll(None, cursor, 256).unwrap();
        for r in &page {
            assert_eq!(store.get(&r.namespace, &r.cid).unwrap().as_ref(), Some(r));
        }
        seen += page.len();
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen as u64, manifest.count);
    // The restored store answers, by meaning and by words, and has the blob.
    let hits = restored
        .search(&super::vector(7), 1, &q(PUBLIC_NAMESPACE))
        .unwrap();
    assert_eq!(hits[0].record.metadata["i"], 7);
    let words = restored
        .rank(Ranking::Keyword("memory number 7"), 1, &q(PUBLIC_NAMESPACE))
        .unwrap();
    assert_eq!(words.len(), 1);
    assert_eq!(restored.blobs().counts().unwrap().0, 1);

    // The restored store starts a new write-ahead log (snapshots leave Qdrant Edge's out);
    // its operations are numbered past the restored segments' versions, so deleting a
    // restored memory takes effect in the shard, and stays so across a reopen.
    let old = record(7, PUBLIC_NAMESPACE, json!({"i": 7}));
    assert!(restored.delete(PUBLIC_NAMESPACE, &old.cid).unwrap());
    assert_eq!(restored.count(None).unwrap(), manifest.count - 1);
    drop(restored);
    let restored = Store::open(&restored_dir).unwrap();
    assert!(restored.get(PUBLIC_NAMESPACE, &old.cid).unwrap().is_none());
    assert_eq!(restored.count(None).unwrap(), manifest.count - 1);
    let hits = restored
        .search(&old.vector, 1, &q(PUBLIC_NAMESPACE))
        .unwrap();
    assert_ne!(hits[0].record.cid, old.cid);
}

#[test]
fn altered_snapshots_and_occupied_targets_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .upsert(
            (0..50)
                .map(|i| record(i, PUBLIC_NAMESPACE, json!({})))
                .collect(),
        )
        .unwrap();
    let archive = dir.path().join("good.tar.gz");
    let manifest: Manifest = store.snapshot(&archive).unwrap();
    // Never overwritten by accident: a second snapshot to the same file is the caller's
    // choice, but a restore never lands on data.
    let out = tempfile::tempdir().unwrap();
    let occupied = out.path().join("occupied");
    std::fs::create_dir_all(&occupied).unwrap();
    std::fs::write(occupied.join("x"), b"keep me").unwrap();
    let e = problem(snapshot::restore(&archive, &occupied).unwrap_err());
    assert!(e.contains("not empty"), "{e}");
    assert_eq!(std::fs::read(occupied.join("x")).unwrap(), b"keep me");

    let original = entries(&archive);
    let bad = out.path().join("bad.tar.gz");
    let try_restore = |name: &str| {
        let target = out.path().join(name);
        let e = snapshot::restore(&bad, &target).unwrap_err();
        assert!(!target.exists(), "a refused restore leaves nothing");
        assert!(!out.path().join(format!(".{name}.restoring")).exists());
        problem(e)
    };

    // One byte of the commitment file changed.
    let mut altered = original.clone();
    let c = altered
        .iter_mut()
        .find(|(p, _)| p == "store/commitment")
        .unwrap();
    let last = c.1.len() - 1;
    c.1[last] ^= 1;
    write_entries(&bad, &altered);
    assert!(try_restore("a").contains("store/commitment"));

    // A file the manifest does not list.
    let mut extra = original.clone();
    extra.insert(0, ("store/planted".into(), b"x".to_vec()));
    write_entries(&bad, &extra);
    assert!(try_restore("b").contains("not in its manifest"));

    // A path escaping the target.
    let mut escape = original.clone();
    escape.insert(0, ("../escaped".into(), b"x".to_vec()));
    write_entries(&bad, &escape);
    assert!(try_restore("c").contains("not a plain file inside"));
    assert!(!out.path().join("escaped").exists());

    // A manifest whose roots are not its records' (the files consistent with it).
    let mut lying = original.clone();
    let m = lying
        .iter_mut()
        .find(|(p, _)| p == snapshot::MANIFEST)
        .unwrap();
    let mut claimed = manifest.clone();
    claimed.root_v2 = "00".repeat(32);
    m.1 = serde_json::to_vec(&claimed).unwrap();
    write_entries(&bad, &lying);
    let e = try_restore("d");
    assert!(
        e.contains("hash to roots") && e.contains(&manifest.root_v2),
        "{e}"
    );

    // No manifest at all.
    let headless: Vec<_> = original
        .iter()
        .filter(|(p, _)| p != snapshot::MANIFEST)
        .cloned()
        .collect();
    write_entries(&bad, &headless);
    assert!(try_restore("e").contains("no engram-snapshot.json"));

    // The untouched one restores.
    snapshot::restore(&archive, &out.path().join("fine")).unwrap();
}
