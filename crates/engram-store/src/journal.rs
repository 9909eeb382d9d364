//! The store's own write-ahead journal.
//!
//! Qdrant Edge 0.7.2 writes its WAL but does not replay it on load, and its segments are
//! only consistent on disk after a flush. So every change is first appended here, then
//! applied to the shard, then acknowledged. A checkpoint flushes the shard, records the
//! commitment, and empties the journal; opening a store re-applies whatever the journal
//! holds (upserts are idempotent by CID). What survives: every acknowledged change
//! survives `kill -9` of the process (the bytes are in the OS page cache before the
//! acknowledgement); surviving power loss needs the checkpoint's fsync.
//!
//! Entry layout: `len: u32 LE ‖ check: first 4 bytes of SHA-256(body) ‖ body (JSON)`.
//! A torn or corrupt tail (a crash mid-append) ends replay and is cut off.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use engram_core::Cid;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{StoreError, io};
use crate::record::Record;

/// One change to the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Entry {
    Upsert(Record),
    Delete { namespace: String, cid: Cid },
}

pub(crate) struct Journal {
    path: PathBuf,
    file: File,
    len: u64,
}

fn check(body: &[u8]) -> [u8; 4] {
    let d = Sha256::digest(body);
    [d[0], d[1], d[2], d[3]]
}

impl Journal {
    /// Opens (creating) the journal and returns the intact entries it holds.
    pub(crate) fn open(path: &Path) -> Result<(Self, Vec<Entry>), StoreError> {
        let mut bytes = Vec::new();
        if path.exists() {
            File::open(path)
                .and_then(|mut f| f.read_to_end(&mut bytes))
                .map_err(io("reading journal", path))?;
        }
        let (entries, good) = parse(&bytes);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io("opening journal", path))?;
        if good < bytes.len() {
            file.set_len(good as u64)
                .map_err(io("truncating torn journal tail", path))?;
        }
        Ok((
            Self {
                path: path.to_path_buf(),
                file,
                len: good as u64,
            },
            entries,
        ))
    }

    /// Appends entries in one write.
    pub(crate) fn append(&mut self, entries: &[Entry]) -> Result<(), StoreError> {
        let mut buf = Vec::new();
        for entry in entries {
            let body = serde_json::to_vec(entry).expect("journal entries serialize");
            let len = u32::try_from(body.len()).expect("entry under 4 GiB");
            buf.extend_from_slice(&len.to_le_bytes());
            buf.extend_from_slice(&check(&body));
            buf.extend_from_slice(&body);
        }
        self.file
            .write_all(&buf)
            .map_err(io("appending to journal", &self.path))?;
        self.len += buf.len() as u64;
        Ok(())
    }

    /// Bytes currently in the journal.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Empties the journal after a checkpoint made its entries durable elsewhere.
    pub(crate) fn clear(&mut self) -> Result<(), StoreError> {
        self.file
            .set_len(0)
            .map_err(io("clearing journal", &self.path))?;
        self.file
            .sync_all()
            .map_err(io("syncing journal", &self.path))?;
        self.len = 0;
        Ok(())
    }
}

/// Parses entries until the first torn or corrupt one; returns them and the intact length.
fn parse(bytes: &[u8]) -> (Vec<Entry>, usize) {
    let mut entries = Vec::new();
    let mut at = 0;
    while bytes.len() - at >= 8 {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        let Some(body) = bytes.get(at + 8..at + 8 + len) else {
            break;
        };
        if bytes[at + 4..at + 8] != check(body) {
            break;
        }
        let Ok(entry) = serde_json::from_slice(body) else {
            break;
        };
        entries.push(entry);
        at += 8 + len;
    }
    (entries, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: u8) -> Record {
        let vector = vec![f32::from(i); 4];
        Record {
            cid: engram_core::cid_v1(&vector, &Default::default(), "v1"),
            vector,
            metadata: Default::default(),
            model_version: "v1".into(),
            namespace: "public".into(),
            created_ms: 1,
            text: None,
            expires_ms: None,
        }
    }

    #[test]
    fn torn_tail_is_cut_and_intact_entries_survive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        {
            let (mut j, entries) = Journal::open(&path).unwrap();
            assert!(entries.is_empty());
            j.append(&[Entry::Upsert(record(1)), Entry::Upsert(record(2))])
                .unwrap();
        }
        let full = std::fs::read(&path).unwrap();
        std::fs::write(&path, &full[..full.len() - 3]).unwrap(); // a crash mid-append
        let (j, entries) = Journal::open(&path).unwrap();
        assert_eq!(entries.len(), 1);
        assert!(j.len() < full.len() as u64);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), j.len());
    }
}
