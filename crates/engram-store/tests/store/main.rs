//! End-to-end tests of the store on a real Qdrant Edge shard in a temp directory.

mod crash;
mod expiry;
mod hybrid;
mod snapshot;

use engram_core::{Cid, Metadata, cid_v1};
use engram_store::{PUBLIC_NAMESPACE, Record, SearchQuery, Store, StoreError, Upserted};
use serde_json::{Value, json};

/// A deterministic unit vector for seed `i`.
pub fn vector(i: u64) -> Vec<f32> {
    engram_core::testing::unit_vector(i)
}

/// A record for seed `i` in `ns` with `meta`.
pub fn record(i: u64, ns: &str, meta: Value) -> Record {
    let vector = vector(i);
    let metadata: Metadata = meta.as_object().cloned().unwrap_or_default();
    Record {
        cid: cid_v1(&vector, &metadata, "v1"),
        vector,
        metadata,
        model_version: "v1".into(),
        namespace: ns.into(),
        created_ms: 1_700_000_000_000 + i,
        text: Some(format!("memory number {i}")),
        expires_ms: None,
    }
}

fn q(ns: &str) -> SearchQuery<'_> {
    SearchQuery {
        namespace: ns,
        filters: &[],
    }
}

#[test]
fn upsert_is_idempotent_and_get_returns_exact_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let r = record(1, PUBLIC_NAMESPACE, json!({"source": "test", "n": 3}));
    assert_eq!(
        store.upsert(vec![r.clone(), r.clone()]).unwrap(),
        [Upserted::Stored, Upserted::Existing]
    );
    let before = store.commitment();
    assert_eq!(store.upsert(vec![r.clone()]).unwrap(), [Upserted::Existing]);
    assert_eq!(store.commitment(), before);
    assert_eq!(store.count(None).unwrap(), 1);
    let back = store.get(PUBLIC_NAMESPACE, &r.cid).unwrap().unwrap();
    assert_eq!(back, r);
    assert_eq!(
        cid_v1(&back.vector, &back.metadata, &back.model_version),
        r.cid
    );
}

#[test]
fn search_ranks_by_cosine_and_isolates_namespaces() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let public: Vec<Record> = (0..50)
        .map(|i| {
            record(
                i,
                PUBLIC_NAMESPACE,
                json!({"k": if i % 2 == 0 {"even"} else {"odd"}, "i": i}),
            )
        })
        .collect();
    let private: Vec<Record> = (100..120)
        .map(|i| record(i, "agent-7", json!({})))
        .collect();
    store.upsert(public.clone()).unwrap();
    store.upsert(private.clone()).unwrap();
    assert_eq!(store.count(Some(PUBLIC_NAMESPACE)).unwrap(), 50);
    assert_eq!(store.count(Some("agent-7")).unwrap(), 20);

    let hits = store
        .search(&public[7].vector, 10, &q(PUBLIC_NAMESPACE))
        .unwrap();
    assert_eq!(hits.len(), 10);
    assert_eq!(hits[0].record.cid, public[7].cid);
    assert!((hits[0].score - 1.0).abs() < 1e-5);
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(hits.iter().all(|h| h.record.namespace == PUBLIC_NAMESPACE));

    // a private vector searched in public finds only public records
    let hits = store
        .search(&private[0].vector, 100, &q(PUBLIC_NAMESPACE))
        .unwrap();
    assert!(hits.iter().all(|h| h.record.namespace == PUBLIC_NAMESPACE));
    let hits = store.search(&private[0].vector, 5, &q("agent-7")).unwrap();
    assert_eq!(hits[0].record.cid, private[0].cid);

    let filters = [("k".to_string(), json!("odd"))];
    let hits = store
        .search(
            &public[8].vector,
            100,
            &SearchQuery {
                namespace: PUBLIC_NAMESPACE,
                filters: &filters,
            },
        )
        .unwrap();
    assert_eq!(hits.len(), 25);
    assert!(hits.iter().all(|h| h.record.metadata["k"] == "odd"));
    let filters = [("i".to_string(), json!(8))];
    let hits = store
        .search(
            &public[1].vector,
            10,
            &SearchQuery {
                namespace: PUBLIC_NAMESPACE,
                filters: &filters,
            },
        )
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].record.cid, public[8].cid);
    let filters = [("weird key.with dots".to_string(), json!("x"))];
    assert!(
        store
            .search(
                &public[1].vector,
                10,
                &SearchQuery {
                    namespace: PUBLIC_NAMESPACE,
                    filters: &filters
                }
            )
            .unwrap()
            .is_empty()
    );
    let bad = [("k".to_string(), json!([1]))];
    assert!(matches!(
        store.search(
            &public[1].vector,
            10,
            &SearchQuery {
                namespace: PUBLIC_NAMESPACE,
                filters: &bad
            }
        ),
        Err(StoreError::BadFilter { .. })
    ));
}

#[test]
fn delete_scroll_and_commitment_stay_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let records: Vec<Record> = (0..30)
        .map(|i| record(i, PUBLIC_NAMESPACE, json!({})))
        .collect();
    let empty = store.commitment();
    store.upsert(records[..20].to_vec()).unwrap();
    let twenty = store.commitment();
    store.upsert(records[20..].to_vec()).unwrap();
    for r in &records[20..] {
        assert!(store.delete(PUBLIC_NAMESPACE, &r.cid).unwrap());
    }
    assert!(!store.delete(PUBLIC_NAMESPACE, &records[25].cid).unwrap());
    assert_eq!(store.commitment(), twenty, "root depends only on the set");
    assert_eq!(twenty.count, 20);
    let (page, cursor) = store.scroll(None, None, 15).unwrap();
    let (rest, end) = store.scroll(None, cursor, 15).unwrap();
    assert_eq!(page.len() + rest.len(), 20);
    assert!(end.is_none());
    for r in &records[..20] {
        let (p1, p2) = store.prove(PUBLIC_NAMESPACE, &r.cid).unwrap();
        assert!(p1.verify_record(
            &r.cid.to_string(),
            &hex::encode(r.embedding_hash()),
            &twenty.root_v1
        ));
        assert!(p2.verify(&twenty.root_v2));
    }
    assert!(store.prove(PUBLIC_NAMESPACE, &records[25].cid).is_err());
    for r in &records[..20] {
        store.delete(PUBLIC_NAMESPACE, &r.cid).unwrap();
    }
    assert_eq!(store.commitment(), empty);
}

#[test]
fn invalid_vectors_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .upsert(vec![record(1, PUBLIC_NAMESPACE, json!({}))])
        .unwrap();
    let before = (store.commitment(), store.count(None).unwrap());
    let mut nan = record(2, PUBLIC_NAMESPACE, json!({}));
    nan.vector[3] = f32::NAN;
    let mut short = record(3, PUBLIC_NAMESPACE, json!({}));
    short.vector.pop();
    for bad in [nan, short] {
        let batch = vec![record(4, PUBLIC_NAMESPACE, json!({})), bad];
        assert!(matches!(store.upsert(batch), Err(StoreError::Invalid(_))));
        assert_eq!((store.commitment(), store.count(None).unwrap()), before);
    }
    assert!(store.search(&[0.0; 10], 5, &q(PUBLIC_NAMESPACE)).is_err());
}

#[test]
fn reopen_keeps_records_and_commitment_and_a_second_opener_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<Record> = (0..40)
        .map(|i| record(i, PUBLIC_NAMESPACE, json!({"i": i})))
        .collect();
    let c = {
        let store = Store::open(dir.path()).unwrap();
        store.upsert(records.clone()).unwrap();
        assert!(matches!(
            Store::open(dir.path()),
            Err(StoreError::Locked { .. })
        ));
        store.commitment()
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.commitment(), c);
    assert_eq!(store.count(None).unwrap(), 40);
    for r in &records {
        assert_eq!(
            store.get(PUBLIC_NAMESPACE, &r.cid).unwrap().as_ref(),
            Some(r)
        );
    }
    // a lost snapshot is rebuilt from the records
    drop(store);
    std::fs::remove_file(dir.path().join("store/commitment")).unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.commitment(), c);
}

#[test]
fn unknown_cid_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let cid: Cid = format!("v1::{}", "ab".repeat(32)).parse().unwrap();
    assert!(store.get(PUBLIC_NAMESPACE, &cid).unwrap().is_none());
}

#[test]
fn indexing_keeps_the_tail_small_and_scores_exact() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let records: Vec<Record> = (0..3_000)
        .map(|i| record(i, PUBLIC_NAMESPACE, json!({})))
        .collect();
    store.upsert(records).unwrap();
    assert_eq!(store.unindexed(), 3_000, "nothing indexed before a build");
    assert!(store.optimize().unwrap());
    // Segments above ~1,000 vectors get an index; only the appendable tail stays plain.
    let tail = store.unindexed();
    assert!(tail < 1_000, "unindexed tail after a build: {tail}");
    // Quantized traversal, exact re-scoring: scores are the f32 cosines and the query's own
    // record comes first.
    let query = vector(1234);
    let hits = store.search(&query, 10, &q(PUBLIC_NAMESPACE)).unwrap();
    assert_eq!(hits.len(), 10);
    assert_eq!(hits[0].record.vector, query);
    for h in &hits {
        let exact: f32 = h.record.vector.iter().zip(&query).map(|(a, b)| a * b).sum();
        assert!((h.score - exact).abs() < 1e-5, "{} vs {exact}", h.score);
    }
}

/// The unindexed count takes the texted (BM25) points out of Qdrant's indexed count; the
/// store keeps that number beside its writes. After writes, a build, deletes and more
/// writes, it agrees with a count from scratch (a reopened store's).
#[test]
fn the_unindexed_count_follows_writes_deletes_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let with_text = |i: u64| {
        let mut r = record(i, PUBLIC_NAMESPACE, json!({}));
        if i % 2 == 1 {
            r.text = None;
        }
        r
    };
    store.upsert((0..3_000).map(with_text).collect()).unwrap();
    assert_eq!(store.unindexed(), 3_000);
    store
        .upsert((3_000..3_010).map(with_text).collect())
        .unwrap();
    assert_eq!(store.unindexed(), 3_010, "kept count follows a write");
    assert!(store.optimize().unwrap());
    let keys: Vec<_> = (0..10)
        .map(|i| (PUBLIC_NAMESPACE.to_string(), with_text(i).cid))
        .collect();
    assert_eq!(store.forget(&keys).unwrap(), 10);
    store
        .upsert((4_000..4_007).map(with_text).collect())
        .unwrap();
    let before = store.unindexed();
    assert!(before < 1_100, "tail after a build: {before}");
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.unindexed(), before, "recounted after reopen");
}

/// Deletes keep taking effect in the shard across reopens, for points stored before the
/// last one (an earlier version dropped Qdrant Edge's WAL on open, which restarted its
/// operation numbers, so a later delete of an older point was skipped by the segment).
#[test]
fn deletes_after_a_reopen_still_take_effect() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<Record> = (0..30).map(|i| record(i, "mine", json!({}))).collect();
    let open = || Store::open(dir.path()).unwrap();
    let store = open();
    store.upsert(records.clone()).unwrap();
    assert!(store.delete("mine", &records[0].cid).unwrap());
    drop(store);
    for (i, r) in records.iter().enumerate().skip(1).take(3) {
        let store = open();
        assert!(store.delete("mine", &r.cid).unwrap());
        assert_eq!(store.count(Some("mine")).unwrap(), 29 - i as u64);
        assert!(store.get("mine", &r.cid).unwrap().is_none());
    }
    let store = open();
    assert_eq!(store.count(Some("mine")).unwrap(), 26);
    for r in &records[..4] {
        assert!(
            store.get("mine", &r.cid).unwrap().is_none(),
            "{} is back",
            r.cid
        );
        assert!(
            store.search(&r.vector, 1, &q("mine")).unwrap()[0]
                .record
                .cid
                != r.cid
        );
    }
}

/// A WAL recycle cut short after Qdrant Edge made its new (empty) log but before the
/// numbering was continued leaves the renumber marker: the next open finishes it, so a
/// delete of the newest point still lands. (Without the marker an existing log is trusted.)
#[test]
fn a_wal_recycle_cut_short_is_finished_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<Record> = (0..30).map(|i| record(i, "mine", json!({}))).collect();
    let store = Store::open(dir.path()).unwrap();
    for r in &records {
        store.upsert(vec![r.clone()]).unwrap();
    }
    drop(store);
    let wal = dir.path().join("store/shard/wal");
    std::fs::remove_dir_all(&wal).unwrap();
    std::fs::create_dir(&wal).unwrap();
    let marker = dir.path().join("store/wal-renumber");
    std::fs::write(&marker, b"").unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(store.delete("mine", &records[29].cid).unwrap());
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert!(store.get("mine", &records[29].cid).unwrap().is_none());
    assert_eq!(store.count(Some("mine")).unwrap(), 29);
    assert!(!marker.exists());
}

#[test]
fn a_store_made_with_older_settings_takes_the_current_ones() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    let config_path = dir.path().join("store/shard/edge_config.json");
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    assert_eq!(config["optimizers"]["indexing_threshold"], 1_500);
    // What a store created before the tuning holds: Qdrant's defaults.
    config["optimizers"] = json!({});
    std::fs::write(&config_path, config.to_string()).unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .upsert(vec![record(1, PUBLIC_NAMESPACE, json!({}))])
        .unwrap();
    drop(store);
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    assert_eq!(config["optimizers"]["indexing_threshold"], 1_500);
    assert_eq!(config["optimizers"]["default_segment_number"], 4);
}

#[test]
fn len_follows_writes_deletes_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        assert!(store.is_empty());
        store
            .upsert(
                (0..3)
                    .map(|i| record(i, PUBLIC_NAMESPACE, json!({})))
                    .collect(),
            )
            .unwrap();
        store.upsert(vec![record(9, "mine", json!({}))]).unwrap();
        assert_eq!(store.len(), 4);
        assert!(
            store
                .delete(
                    PUBLIC_NAMESPACE,
                    &record(0, PUBLIC_NAMESPACE, json!({})).cid
                )
                .unwrap()
        );
        assert_eq!(store.len(), 3);
        assert_eq!(store.len() as u64, store.commitment().count);
    }
    assert_eq!(Store::open(dir.path()).unwrap().len(), 3);
}
