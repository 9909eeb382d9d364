//! Keyword (BM25 on the shard's sparse vectors) and hybrid (reciprocal rank fusion) search,
//! and the migration that gives a store made before them its keyword index.

use engram_store::{PUBLIC_NAMESPACE, Ranking, Record, SearchQuery, Store};
use serde_json::{Value, json};

use super::{q, record};

fn texted(i: u64, ns: &str, text: Option<&str>, meta: Value) -> Record {
    let mut r = record(i, ns, meta);
    r.text = text.map(str::to_string);
    r
}

const TEXTS: [&str; 6] = [
    "The zebra crossed the savanna at dawn.",
    "Quarterly revenue grew by four percent.",
    "Error E4312 means the disk quota is exhausted.",
    "A zebra and a giraffe drink at the river.",
    "The recipe calls for basil, garlic and olive oil.",
    "Rust's borrow checker rejects dangling references.",
];

fn corpus(store: &Store) -> Vec<Record> {
    let mut records: Vec<Record> = TEXTS
        .iter()
        .enumerate()
        .map(|(i, t)| texted(i as u64, PUBLIC_NAMESPACE, Some(t), json!({"i": i})))
        .collect();
    // No text (stored from a bare vector): reachable by meaning only.
    records.push(texted(6, PUBLIC_NAMESPACE, None, json!({"i": 6})));
    // Another namespace holds the same rare word.
    records.push(texted(7, "other", Some("zebra E4312 quota"), json!({})));
    store.upsert(records.clone()).unwrap();
    records
}

fn texts(hits: &[engram_store::Hit]) -> Vec<Option<String>> {
    hits.iter().map(|h| h.record.text.clone()).collect()
}

#[test]
fn keyword_search_finds_words_stems_and_rare_tokens_within_its_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let records = corpus(&store);

    let hits = store
        .rank(Ranking::Keyword("zebras"), 10, &q(PUBLIC_NAMESPACE))
        .unwrap();
    // Stemmed ("zebras" → "zebra"), both public zebra texts, nothing else, and not the
    // other namespace's.
    let mut found = texts(&hits);
    found.sort();
    assert_eq!(
        found,
        [Some(TEXTS[3].to_string()), Some(TEXTS[0].to_string())]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    assert!(hits.iter().all(|h| h.score > 0.0));

    let hits = store
        .rank(
            Ranking::Keyword("what does E4312 mean?"),
            3,
            &q(PUBLIC_NAMESPACE),
        )
        .unwrap();
    assert_eq!(hits[0].record.cid, records[2].cid, "the rare token wins");

    let other = store
        .rank(Ranking::Keyword("zebra"), 10, &q("other"))
        .unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].record.cid, records[7].cid);

    // Only stop words: no keyword can match, nothing is returned.
    let none = store
        .rank(Ranking::Keyword("the of and a"), 10, &q(PUBLIC_NAMESPACE))
        .unwrap();
    assert!(none.is_empty());
    // A record without text is never a keyword hit.
    let any = store
        .rank(
            Ranking::Keyword("zebra revenue error recipe rust"),
            100,
            &q(PUBLIC_NAMESPACE),
        )
        .unwrap();
    assert!(any.iter().all(|h| h.record.cid != records[6].cid));
    assert_eq!(any.len(), TEXTS.len());

    // Metadata filters hold for keyword search too.
    let filters = [("i".to_string(), json!(3))];
    let filtered = store
        .rank(
            Ranking::Keyword("zebra"),
            10,
            &SearchQuery {
                namespace: PUBLIC_NAMESPACE,
                filters: &filters,
            },
        )
        .unwrap();
    assert_eq!(texts(&filtered), [Some(TEXTS[3].to_string())]);
}

#[test]
fn hybrid_search_fuses_both_rankings_by_weight() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let records = corpus(&store);
    // Meaning points at the textless record 6, the words at record 2.
    let vector = records[6].vector.clone();
    let hybrid = |w: f32, k: usize| {
        store
            .rank(
                Ranking::Hybrid {
                    vector: &vector,
                    text: "E4312",
                    keyword_weight: w,
                },
                k,
                &q(PUBLIC_NAMESPACE),
            )
            .unwrap()
    };
    // Fusion by hand from the two rankings the store gives alone: each list adds
    // 1 / (rank / weight + 60) (1-based rank; Qdrant's form with k = 61).
    let dense = store.search(&vector, 7, &q(PUBLIC_NAMESPACE)).unwrap();
    let words = store
        .rank(Ranking::Keyword("E4312"), 7, &q(PUBLIC_NAMESPACE))
        .unwrap();
    assert_eq!(words.len(), 1);
    for w in [1.0f32, 100.0, 0.01] {
        let mut expected: Vec<(f32, engram_core::Cid)> = records[..7]
            .iter()
            .map(|r| {
                let term = |list: &[engram_store::Hit], weight: f32| {
                    list.iter()
                        .position(|h| h.record.cid == r.cid)
                        .map_or(0.0, |p| 1.0 / ((p + 1) as f32 / weight + 60.0))
                };
                (term(&dense, 1.0) + term(&words, w), r.cid)
            })
            .collect();
        expected.sort_by(|a, b| b.0.total_cmp(&a.0));
        let got: Vec<(f32, engram_core::Cid)> = hybrid(w, 7)
            .iter()
            .map(|h| (h.score, h.record.cid))
            .collect();
        assert_eq!(got.len(), 7, "weight {w}");
        for ((gs, gc), (es, ec)) in got.iter().zip(&expected) {
            assert!(
                (gs - es).abs() < 1e-6,
                "weight {w}: {got:?} vs {expected:?}"
            );
            if (gs - es).abs() < 1e-6 && gc != ec {
                // Ties may come in either order; the scores above already match.
                continue;
            }
        }
    }
    // The word match is lifted to the top by a heavy keyword weight, and the textless
    // nearest record by a light one; equal weights put both in the top two.
    let top2: Vec<_> = hybrid(1.0, 2).iter().map(|h| h.record.cid).collect();
    assert!(top2.contains(&records[2].cid), "{top2:?}");
    assert_eq!(hybrid(100.0, 1)[0].record.cid, records[2].cid);
    assert_eq!(dense[0].record.cid, records[6].cid);

    // Stop words only: the hybrid query ranks by meaning alone (cosine scores).
    let dense = store.search(&vector, 3, &q(PUBLIC_NAMESPACE)).unwrap();
    let stop = store
        .rank(
            Ranking::Hybrid {
                vector: &vector,
                text: "the of",
                keyword_weight: 1.0,
            },
            3,
            &q(PUBLIC_NAMESPACE),
        )
        .unwrap();
    assert_eq!(stop, dense);

    // The other namespace's record never leaks in.
    let all = hybrid(1.0, 100);
    assert!(all.iter().all(|h| h.record.namespace == PUBLIC_NAMESPACE));
    assert_eq!(all.len(), 7);
}

#[test]
fn bad_weights_and_vectors_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    corpus(&store);
    let v = super::vector(1);
    for w in [0.0, -1.0, f32::NAN, 1000.0] {
        let r = store.rank(
            Ranking::Hybrid {
                vector: &v,
                text: "zebra",
                keyword_weight: w,
            },
            3,
            &q(PUBLIC_NAMESPACE),
        );
        assert!(r.is_err(), "weight {w}");
    }
    let short = store.rank(
        Ranking::Hybrid {
            vector: &[0.5; 3],
            text: "zebra",
            keyword_weight: 1.0,
        },
        3,
        &q(PUBLIC_NAMESPACE),
    );
    assert!(short.is_err());
}

/// A store made before keyword search (no `bm25` vector, no marker) gets the vector and
/// every stored text's weights when opened; a crash between Qdrant writing the segments and
/// its config is survived.
#[test]
fn a_store_from_before_keyword_search_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let records = {
        let store = Store::open(dir.path()).unwrap();
        corpus(&store)
    };
    let shard_dir = dir.path().join("store/shard");
    {
        // Take the keyword index away, as a store of the previous version had none.
        let shard = qdrant_edge::EdgeShard::load(&shard_dir, None).unwrap();
        shard
            .update(qdrant_edge::UpdateOperation::VectorNameOperation(
                qdrant_edge::VectorNameOperations::DeleteVectorName(
                    qdrant_edge::DeleteVectorName {
                        vector_name: "bm25".into(),
                    },
                ),
            ))
            .unwrap();
        assert!(shard.config().sparse_vectors.is_empty());
    }
    std::fs::remove_file(dir.path().join("store/bm25-v1")).unwrap();

    let store = Store::open(dir.path()).unwrap();
    let hits = store
        .rank(Ranking::Keyword("E4312"), 3, &q(PUBLIC_NAMESPACE))
        .unwrap();
    assert_eq!(hits[0].record.cid, records[2].cid);
    assert!(dir.path().join("store/bm25-v1").exists());
    let root = store.commitment();
    drop(store);

    // The crash window: segments know `bm25`, the shard's config file does not.
    let config_path = shard_dir.join("edge_config.json");
    let mut config: Value = serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
    config["sparse_vectors"] = json!({});
    std::fs::write(&config_path, serde_json::to_vec(&config).unwrap()).unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.commitment(),
        root,
        "the keyword index is in no commitment"
    );
    let hits = store
        .rank(Ranking::Keyword("zebra"), 3, &q(PUBLIC_NAMESPACE))
        .unwrap();
    assert_eq!(hits.len(), 2);
}

/// Every file under `dir` that contains `needle`.
/// Files under `dir` holding `needle`; Qdrant Edge's WAL only `with_wal`.
fn files_containing(
    dir: &std::path::Path,
    needle: &[u8],
    with_wal: bool,
) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if (with_wal || !p.components().any(|c| c.as_os_str() == "wal"))
                && std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
            {
                found.push(p);
            }
        }
    }
    found
}

/// Forgetting: after a delete no file of the store holds the record's text, its CID or its
/// vector bytes, while the memories kept are intact, searchable by meaning and by words.
/// Qdrant Edge's write-ahead log included: the delete replaces it, and the writes after it
/// (and deletes of older points, which a log renumbered from zero would skip) still land.
#[test]
fn a_deleted_memory_leaves_no_trace_in_any_file() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "Vault combination FORGET-ME-7741 for the lab";
    let store = Store::open(dir.path()).unwrap();
    let mut records: Vec<Record> = (0..200)
        .map(|i| {
            texted(
                100 + i,
                "mine",
                Some(&format!("ordinary note {i}")),
                json!({}),
            )
        })
        .collect();
    let gone = texted(7741, "mine", Some(secret), json!({"k": "v"}));
    records.push(gone.clone());
    store.upsert(records).unwrap();
    store.checkpoint().unwrap();
    while store.optimize().unwrap() {}
    let vector_bytes: Vec<u8> = gone.vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    let cid = gone.cid.to_string();
    // The test means something only if the record was on disk to begin with.
    assert!(!files_containing(dir.path(), secret.as_bytes(), true).is_empty());
    assert!(!files_containing(dir.path(), &vector_bytes, true).is_empty());
    // The segments (payload, its CID index, vector storage) held its CID and vector; the
    // text is not found raw there (the payload storage encodes it), only in the WAL.
    assert!(!files_containing(dir.path(), cid.as_bytes(), false).is_empty());
    assert!(!files_containing(dir.path(), &vector_bytes, false).is_empty());

    let before = store.commitment();
    let kept = texted(142, "mine", Some("ordinary note 42"), json!({}));
    // Readers go on while the delete reloads the shard without its write-ahead log.
    let reads = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicBool::new(false);
    let deleted = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let hit = &store.search(&kept.vector, 1, &q("mine")).unwrap()[0];
                assert_eq!(hit.record.cid, kept.cid);
                reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
        let deleted = store.delete("mine", &gone.cid).unwrap();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        reader.join().unwrap();
        deleted
    });
    assert!(deleted && reads.into_inner() > 0);
    assert_ne!(store.commitment(), before);
    assert!(
        store.prove("mine", &gone.cid).is_err(),
        "no inclusion proof for it"
    );
    // Gone from every file while the store is still open, and after a reopen.
    for needle in [secret.as_bytes(), cid.as_bytes(), &vector_bytes] {
        let left = files_containing(dir.path(), needle, true);
        assert!(left.is_empty(), "still on disk in {left:?}");
    }
    store
        .upsert(vec![texted(9000, "mine", Some("written after"), json!({}))])
        .unwrap();
    assert_eq!(store.count(Some("mine")).unwrap(), 201);
    let older = texted(100, "mine", Some("ordinary note 0"), json!({}));
    assert!(store.delete("mine", &older.cid).unwrap());
    assert_eq!(store.count(Some("mine")).unwrap(), 200);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    for needle in [secret.as_bytes(), cid.as_bytes(), &vector_bytes] {
        let left = files_containing(dir.path(), needle, true);
        assert!(left.is_empty(), "still on disk in {left:?}");
    }
    assert_eq!(store.count(Some("mine")).unwrap(), 200);
    assert!(store.get("mine", &older.cid).unwrap().is_none());
    let hits = store
        .rank(Ranking::Keyword("ordinary note 42"), 1, &q("mine"))
        .unwrap();
    assert_eq!(hits[0].record.text.as_deref(), Some("ordinary note 42"));
    assert_eq!(
        store.search(&kept.vector, 1, &q("mine")).unwrap()[0]
            .record
            .cid,
        kept.cid
    );
    assert!(
        store
            .rank(Ranking::Keyword("FORGET-ME-7741"), 5, &q("mine"))
            .unwrap()
            .is_empty()
    );
}
