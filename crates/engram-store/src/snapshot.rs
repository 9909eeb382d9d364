//! Snapshots: one file holding a consistent copy of a data directory's memories, and the
//! restore that refuses any copy whose records do not add up to the roots it claims.
//!
//! Qdrant Edge can restore Qdrant snapshots but not make them, so a snapshot is taken a
//! level up, where the consistency rules live: under the store's write and maintenance
//! locks (no write, flush or index build can change a file meanwhile; searches go on), the
//! journal is checkpointed into the shard and the commitment saved, and then the shard's
//! files (segments, payload, HNSW, sparse index, config; not Qdrant's write-ahead log,
//! which Edge never replays, nor the lock), the commitment, the blobs and the erasure
//! shards go into a gzip'd tar, each file hashed on the way, with a manifest last:
//! `engram-snapshot.json` = format, time, count, both Merkle roots and every file's size
//! and SHA-256.
//!
//! Restore unpacks into a staging directory beside the target, checks every file against the
//! manifest (nothing missing, nothing extra, no path outside the directory), opens the
//! store, recomputes the commitment from the records themselves and compares it with the
//! manifest's roots; only then is the staging directory renamed to the target. A snapshot
//! whose records were altered, or whose manifest lies about them, is refused and leaves no
//! data directory behind.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::error::{StoreError, io};

/// The manifest's `format`.
pub const FORMAT: &str = "engram-snapshot-1";
/// The manifest's name inside the archive (its last entry).
pub const MANIFEST: &str = "engram-snapshot.json";

/// What a snapshot holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// When it was taken, in unix milliseconds.
    pub created_ms: u64,
    /// Records (commitment leaves) in it.
    pub count: u64,
    /// The v1 Merkle root of its records, hex.
    pub root_v1: String,
    /// The v2 Merkle root of its records, hex.
    pub root_v2: String,
    /// Every file, by path relative to the data directory.
    pub files: Vec<FileEntry>,
}

/// One file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the data directory, `/`-separated.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// The SHA-256 of its bytes, hex.
    pub sha256: String,
}

/// Why a snapshot cannot be restored (or read).
#[derive(Debug, Error)]
pub enum SnapshotError {
    /// No manifest in the archive.
    #[error("not an Engram snapshot: it has no {MANIFEST}")]
    NoManifest,
    /// The manifest does not parse.
    #[error("its manifest does not parse: {0}")]
    BadManifest(#[source] serde_json::Error),
    /// A manifest of another format.
    #[error("format {0:?} is not {FORMAT}")]
    Format(String),
    /// An entry whose path would land outside the target, or is not a plain file or
    /// directory.
    #[error("entry {0:?} is not a plain file inside the snapshot")]
    UnsafeEntry(String),
    /// A file whose bytes are not the manifest's.
    #[error("{path}: the manifest says {expected}, the file hashes to {got}")]
    FileMismatch {
        /// The file.
        path: String,
        /// The manifest's SHA-256.
        expected: String,
        /// The file's.
        got: String,
    },
    /// A file the manifest does not list.
    #[error("{0} is in the archive but not in its manifest")]
    Unlisted(String),
    /// A file the manifest lists that is not in the archive.
    #[error("{0} is listed in the manifest but missing")]
    Missing(String),
    /// The records do not hash to the manifest's roots.
    #[error(
        "its {count} records hash to roots v1 {records_v1} / v2 {records_v2}, its manifest claims {manifest_v1} / {manifest_v2}"
    )]
    RootMismatch {
        /// Records found.
        count: u64,
        /// v1 root of the records.
        records_v1: String,
        /// v2 root of the records.
        records_v2: String,
        /// The manifest's v1 root.
        manifest_v1: String,
        /// The manifest's v2 root.
        manifest_v2: String,
    },
    /// The restore target holds files already.
    #[error("{} is not empty: restore into a new directory", .0.display())]
    TargetNotEmpty(PathBuf),
}

/// Files of `data_dir` a snapshot holds, sorted, relative and `/`-separated.
fn snapshot_files(data_dir: &Path) -> Result<Vec<String>, StoreError> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), StoreError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io("listing", dir)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(io("listing", dir))?;
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .expect("walked under root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            if skipped(&rel) {
                continue;
            }
            let kind = entry.file_type().map_err(io("reading", &path))?;
            if kind.is_dir() {
                walk(root, &path, out)?;
            } else if kind.is_file() {
                out.push(rel);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    for top in ["store", "blobs", "shards"] {
        walk(data_dir, &data_dir.join(top), &mut files)?;
    }
    files.sort();
    Ok(files)
}

/// What a snapshot leaves out: the process lock, the (checkpointed, empty) journal,
/// Qdrant's write-ahead log and its markers, and temporary files.
fn skipped(rel: &str) -> bool {
    matches!(
        rel,
        "store/LOCK"
            | "store/journal"
            | "store/wal-purge"
            | "store/wal-renumber"
            | "store/shard/wal"
    ) || rel.starts_with("store/shard/wal/")
        || rel.rsplit('/').next().is_some_and(|n| n.starts_with('.'))
}

/// A reader that hashes and counts what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Writes the snapshot of `data_dir` to `out` (through a temporary file beside it, renamed
/// when complete and flushed); the caller holds the store's locks and has checkpointed.
pub(crate) fn write(
    data_dir: &Path,
    out: &Path,
    created_ms: u64,
    count: u64,
    roots: (String, String),
) -> Result<Manifest, StoreError> {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = out.with_file_name(format!(".{name}.partial"));
    let result = write_archive(data_dir, &tmp, created_ms, count, roots).and_then(|manifest| {
        engram_os::rename_durable(&tmp, out).map_err(io("publishing the snapshot", out))?;
        Ok(manifest)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn write_archive(
    data_dir: &Path,
    tmp: &Path,
    created_ms: u64,
    count: u64,
    (root_v1, root_v2): (String, String),
) -> Result<Manifest, StoreError> {
    let file = std::fs::File::create(tmp).map_err(io("creating the snapshot", tmp))?;
    let gz =
        flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut files = Vec::new();
    for rel in snapshot_files(data_dir)? {
        let path = data_dir.join(&rel);
        let f = std::fs::File::open(&path).map_err(io("reading for the snapshot", &path))?;
        let len = f.metadata().map_err(io("reading", &path))?.len();
        let mut reader = Hashing {
            inner: f.take(len),
            hasher: Sha256::new(),
            bytes: 0,
        };
        tar.append_data(&mut header(len), &rel, &mut reader)
            .map_err(io("archiving", &path))?;
        files.push(FileEntry {
            path: rel,
            bytes: reader.bytes,
            sha256: hex::encode(reader.hasher.finalize()),
        });
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        created_ms,
        count,
        root_v1,
        root_v2,
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    tar.append_data(&mut header(json.len() as u64), MANIFEST, json.as_slice())
        .map_err(io("archiving the manifest", tmp))?;
    let gz = tar
        .into_inner()
        .map_err(io("finishing the snapshot", tmp))?;
    let buffered = gz.finish().map_err(io("finishing the snapshot", tmp))?;
    let file = buffered
        .into_inner()
        .map_err(|e| io("flushing the snapshot", tmp)(e.into_error()))?;
    file.sync_all().map_err(io("flushing the snapshot", tmp))?;
    Ok(manifest)
}

fn header(len: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(len);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h
}

fn open_archive(
    archive: &Path,
) -> Result<tar::Archive<flate2::read::GzDecoder<std::io::BufReader<std::fs::File>>>, StoreError> {
    let file = std::fs::File::open(archive).map_err(io("opening the snapshot", archive))?;
    Ok(tar::Archive::new(flate2::read::GzDecoder::new(
        std::io::BufReader::new(file),
    )))
}

fn snapshot_error(archive: &Path, problem: SnapshotError) -> StoreError {
    StoreError::Snapshot {
        path: archive.to_path_buf(),
        problem: Box::new(problem),
    }
}

fn parse_manifest(archive: &Path, bytes: &[u8]) -> Result<Manifest, StoreError> {
    let manifest: Manifest = serde_json::from_slice(bytes)
        .map_err(|e| snapshot_error(archive, SnapshotError::BadManifest(e)))?;
    if manifest.format != FORMAT {
        return Err(snapshot_error(
            archive,
            SnapshotError::Format(manifest.format),
        ));
    }
    Ok(manifest)
}

/// The manifest of the snapshot in `archive` (read through the whole archive: it is the
/// last entry). Its files are not checked; [`restore`] does that.
///
/// # Errors
/// [`StoreError::Io`] for an unreadable file, [`StoreError::Snapshot`] when it is not a
/// snapshot.
pub fn read_manifest(archive: &Path) -> Result<Manifest, StoreError> {
    let mut tar = open_archive(archive)?;
    let entries = tar.entries().map_err(io("reading the snapshot", archive))?;
    for entry in entries {
        let mut entry = entry.map_err(io("reading the snapshot", archive))?;
        let is_manifest = entry
            .path()
            .map_err(io("reading the snapshot", archive))?
            .as_os_str()
            == MANIFEST;
        if is_manifest {
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(io("reading the snapshot", archive))?;
            return parse_manifest(archive, &bytes);
        }
    }
    Err(snapshot_error(archive, SnapshotError::NoManifest))
}

/// Restores the snapshot in `archive` as the data directory `target` (absent or empty),
/// after checking every file and recomputing the commitment from the records.
///
/// # Errors
/// [`StoreError::Snapshot`] with what is wrong (nothing is left at `target` then);
/// [`StoreError::Io`], [`StoreError::Engine`].
pub fn restore(archive: &Path, target: &Path) -> Result<Manifest, StoreError> {
    if std::fs::read_dir(target).is_ok_and(|mut d| d.next().is_some()) {
        return Err(snapshot_error(
            archive,
            SnapshotError::TargetNotEmpty(target.to_path_buf()),
        ));
    }
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".into());
    let staging = target.with_file_name(format!(".{name}.restoring"));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io("clearing", &staging))?;
    }
    std::fs::create_dir_all(&staging).map_err(io("creating", &staging))?;
    let result = unpack_and_check(archive, &staging);
    let manifest = match result {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    if target.exists() {
        std::fs::remove_dir(target).map_err(io("replacing the empty directory", target))?;
    }
    engram_os::rename_durable(&staging, target).map_err(io("publishing the restore", target))?;
    Ok(manifest)
}

fn unpack_and_check(archive: &Path, staging: &Path) -> Result<Manifest, StoreError> {
    let mut tar = open_archive(archive)?;
    let mut found: Vec<FileEntry> = Vec::new();
    let mut manifest = None;
    let entries = tar.entries().map_err(io("reading the snapshot", archive))?;
    for entry in entries {
        let mut entry = entry.map_err(io("reading the snapshot", archive))?;
        let rel = entry
            .path()
            .map_err(io("reading the snapshot", archive))?
            .into_owned();
        let shown = rel.to_string_lossy().into_owned();
        let safe = rel.components().all(|c| matches!(c, Component::Normal(_)))
            && entry.header().entry_type() == tar::EntryType::Regular;
        if !safe {
            return Err(snapshot_error(archive, SnapshotError::UnsafeEntry(shown)));
        }
        if shown == MANIFEST {
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(io("reading the snapshot", archive))?;
            manifest = Some(parse_manifest(archive, &bytes)?);
            continue;
        }
        let path = staging.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
        }
        let mut out = std::fs::File::create(&path).map_err(io("restoring", &path))?;
        let mut reader = Hashing {
            inner: &mut entry,
            hasher: Sha256::new(),
            bytes: 0,
        };
        std::io::copy(&mut reader, &mut out).map_err(io("restoring", &path))?;
        out.flush().map_err(io("restoring", &path))?;
        found.push(FileEntry {
            path: shown,
            bytes: reader.bytes,
            sha256: hex::encode(reader.hasher.finalize()),
        });
    }
    let manifest = manifest.ok_or_else(|| snapshot_error(archive, SnapshotError::NoManifest))?;
    for f in &found {
        match manifest.files.iter().find(|m| m.path == f.path) {
            None => {
                return Err(snapshot_error(
                    archive,
                    SnapshotError::Unlisted(f.path.clone()),
                ));
            }
            Some(m) if m.sha256 != f.sha256 || m.bytes != f.bytes => {
                return Err(snapshot_error(
                    archive,
                    SnapshotError::FileMismatch {
                        path: f.path.clone(),
                        expected: m.sha256.clone(),
                        got: f.sha256.clone(),
                    },
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(m) = manifest
        .files
        .iter()
        .find(|m| !found.iter().any(|f| f.path == m.path))
    {
        return Err(snapshot_error(
            archive,
            SnapshotError::Missing(m.path.clone()),
        ));
    }
    // The records themselves, not the commitment file that came with them, must add up
    // to the roots the manifest claims.
    let store = crate::Store::open(staging)?;
    let records = store.recompute_commitment()?;
    let (v1, v2) = (hex::encode(records.root_v1), hex::encode(records.root_v2));
    if records.count != manifest.count
        || v1 != manifest.root_v1
        || v2 != manifest.root_v2
        || store.commitment() != records
    {
        return Err(snapshot_error(
            archive,
            SnapshotError::RootMismatch {
                count: records.count,
                records_v1: v1,
                records_v2: v2,
                manifest_v1: manifest.root_v1,
                manifest_v2: manifest.root_v2,
            },
        ));
    }
    Ok(manifest)
}
