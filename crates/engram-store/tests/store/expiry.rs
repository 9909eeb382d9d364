//! Memories with a time to live: out of every answer once due, swept out of the store and
//! its commitment, on demand and on every open.

use engram_store::{Ranking, Record, Store};
use serde_json::json;

use super::{q, record};

fn expiring(i: u64, at: Option<u64>) -> Record {
    let mut r = record(i, "mine", json!({"i": i}));
    r.expires_ms = at;
    r
}

#[test]
fn expired_memories_leave_answers_then_the_store_and_its_commitment() {
    let dir = tempfile::tempdir().unwrap();
    let now = engram_os::now_ms();
    let store = Store::open(dir.path()).unwrap();
    let due = expiring(1, Some(now - 1));
    let later = expiring(2, Some(now + 3_600_000));
    let forever = expiring(3, None);
    store
        .upsert(vec![due.clone(), later.clone(), forever.clone()])
        .unwrap();
    // Kept as sent, expiry included.
    assert_eq!(store.get("mine", &later.cid).unwrap().unwrap(), later);

    // Due but not swept yet: in no answer already.
    let hits = store.search(&due.vector, 3, &q("mine")).unwrap();
    assert!(hits.iter().all(|h| h.record.cid != due.cid), "{hits:?}");
    assert_eq!(hits.len(), 2);
    let words = store
        .rank(Ranking::Keyword("memory number"), 10, &q("mine"))
        .unwrap();
    assert_eq!(words.len(), 2);
    let listed = store.list(&q("mine"), 0, 10).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        store.commitment().count,
        3,
        "the commitment changes at the sweep"
    );

    let before = store.commitment();
    assert_eq!(store.expire(now).unwrap(), 1);
    assert_eq!(store.expire(now).unwrap(), 0, "nothing is due twice");
    let after = store.commitment();
    assert_eq!(after.count, 2);
    assert_ne!(after.root_v2, before.root_v2);
    assert!(store.get("mine", &due.cid).unwrap().is_none());
    assert!(store.prove("mine", &due.cid).is_err());

    // A later expiry comes due: the next open sweeps it before answering anything.
    assert_eq!(store.expire(now + 3_600_001).unwrap(), 1);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.commitment().count, 1);
    assert!(store.get("mine", &forever.cid).unwrap().is_some());
}

#[test]
fn a_store_opened_after_the_expiry_sweeps_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let soon = engram_os::now_ms() + 300;
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .upsert(vec![expiring(1, Some(soon)), expiring(2, None)])
            .unwrap();
        assert_eq!(store.count(Some("mine")).unwrap(), 2);
    }
    std::thread::sleep(std::time::Duration::from_millis(400));
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.count(Some("mine")).unwrap(), 1);
    assert_eq!(store.commitment().count, 1);
}

/// Storing a memory again with a time to live moves its expiry (the CID does not cover it):
/// the newest holds, across a reopen; without one, a re-store changes nothing.
#[test]
fn storing_again_with_a_ttl_refreshes_the_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let now = engram_os::now_ms();
    let store = Store::open(dir.path()).unwrap();
    let soon = expiring(1, Some(now + 1_000));
    store.upsert(vec![soon.clone()]).unwrap();
    let root = store.commitment();
    let later = expiring(1, Some(now + 3_600_000));
    assert_eq!(later.cid, soon.cid);
    let out = store.upsert(vec![later.clone()]).unwrap();
    assert_eq!(out, vec![engram_store::Upserted::Existing]);
    assert_eq!(store.get("mine", &soon.cid).unwrap().unwrap(), later);
    assert_eq!(store.commitment(), root, "same memory, same commitment");
    store.upsert(vec![expiring(1, None)]).unwrap();
    assert_eq!(store.get("mine", &soon.cid).unwrap().unwrap(), later);
    // Past the first expiry, before the refreshed one: kept, found, and so after a reopen.
    assert_eq!(store.expire(now + 2_000).unwrap(), 0);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.get("mine", &soon.cid).unwrap().unwrap(), later);
    assert_eq!(store.expire(now + 3_600_001).unwrap(), 1);
    assert_eq!(store.count(Some("mine")).unwrap(), 0);
}
