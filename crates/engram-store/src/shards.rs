//! Erasure-code shards of public blobs, held for the network.
//!
//! A large public file is spread over `n` nodes as Reed–Solomon shards (see
//! [`engram_core::erasure`]); each of those nodes keeps its shard here with the blob's
//! [`Manifest`], which names every shard's CID. A shard is written only if its bytes match
//! the manifest, and checked again on every read, so a damaged shard is reported, never
//! served. The manifest of a blob is fixed once a shard is kept under it: another manifest
//! for the same blob is then refused (a second layout would make the indices mean two
//! things); before that a later manifest replaces it, so a stranger who sends a forged
//! manifest first cannot keep the real shards out.
//!
//! Layout of `<data dir>/shards/`: `<blob hex>/manifest.json` and `<blob hex>/<index>`,
//! written with [`engram_os::write_atomic`] (manifest first), so an acknowledged shard
//! survives `kill -9` and never sits without the manifest that checks it.

use std::fs;
use std::path::{Path, PathBuf};

use engram_core::Cid;
use engram_core::erasure::Manifest;

use crate::error::{StoreError, io};

/// The shard directory of one data directory.
#[derive(Debug)]
pub struct Shards {
    dir: PathBuf,
    /// Held while a manifest is compared and written.
    writes: std::sync::Mutex<()>,
}

impl Shards {
    /// Opens (creating) `<data_dir>/shards`. The caller holds the data directory's lock.
    pub(crate) fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let dir = data_dir.join("shards");
        fs::create_dir_all(&dir).map_err(io("creating shard directory", &dir))?;
        Ok(Self {
            dir,
            writes: std::sync::Mutex::new(()),
        })
    }

    fn blob_dir(&self, blob: &Cid) -> Result<PathBuf, StoreError> {
        match blob {
            Cid::Content(_) => Ok(self.dir.join(blob.digest_hex())),
            Cid::V1(_) => Err(StoreError::NotContentCid(*blob)),
        }
    }

    /// Keeps a blob's manifest (idempotent for the same manifest).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for an inconsistent manifest, [`StoreError::ManifestConflict`]
    /// when another manifest with shards under it is kept for the blob, I/O errors.
    pub fn put_manifest(&self, manifest: &Manifest) -> Result<(), StoreError> {
        manifest.check()?;
        let dir = self.blob_dir(&manifest.blob)?;
        let _writing = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        match self.manifest(&manifest.blob)? {
            Some(kept) if kept == *manifest => return Ok(()),
            Some(_) if !self.indices(&manifest.blob)?.is_empty() => {
                return Err(StoreError::ManifestConflict(manifest.blob));
            }
            _ => {}
        }
        fs::create_dir_all(&dir).map_err(io("creating shard directory", &dir))?;
        let path = dir.join("manifest.json");
        let json = serde_json::to_vec_pretty(manifest).expect("a manifest serializes");
        engram_os::write_atomic(&path, &json).map_err(io("writing shard manifest", &path))
    }

    /// The manifest kept for `blob`, if any.
    ///
    /// # Errors
    /// [`StoreError::ManifestCorrupt`] for one that no longer parses or checks; I/O errors.
    pub fn manifest(&self, blob: &Cid) -> Result<Option<Manifest>, StoreError> {
        let path = self.blob_dir(blob)?.join("manifest.json");
        let json = match fs::read(&path) {
            Ok(json) => json,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("reading shard manifest", &path)(e)),
        };
        let manifest: Manifest =
            serde_json::from_slice(&json).map_err(|source| StoreError::ManifestCorrupt {
                blob: *blob,
                source: Box::new(source),
            })?;
        let checked = if manifest.blob == *blob {
            manifest.check()
        } else {
            Err(engram_core::CoreError::ErasureManifest {
                reason: "it names another blob",
            })
        };
        checked.map_err(|source| StoreError::ManifestCorrupt {
            blob: *blob,
            source: Box::new(source),
        })?;
        Ok(Some(manifest))
    }

    /// Keeps shard `index` of `blob`, after checking it against the kept manifest.
    ///
    /// # Errors
    /// [`StoreError::NoManifest`] when no manifest was kept first, [`StoreError::Invalid`]
    /// when the bytes do not match it, I/O errors.
    pub fn put(&self, blob: &Cid, index: usize, bytes: &[u8]) -> Result<(), StoreError> {
        // Held across the check and the write: a manifest replaced in between would leave
        // the shard under a manifest it does not match.
        let _writing = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        let manifest = self.manifest(blob)?.ok_or(StoreError::NoManifest(*blob))?;
        manifest.check_shard(index, bytes)?;
        let path = self.blob_dir(blob)?.join(index.to_string());
        engram_os::write_atomic(&path, bytes).map_err(io("writing shard", &path))
    }

    /// Shard `index` of `blob`, checked against the manifest, if kept here.
    ///
    /// A shard whose bytes no longer match is deleted as it is reported: the node then no
    /// longer lists it, so the next repair round re-creates it from the other holders.
    ///
    /// # Errors
    /// [`StoreError::ShardCorrupt`] when the bytes on disk no longer match the manifest
    /// (the shard is then deleted); I/O errors.
    pub fn get(&self, blob: &Cid, index: usize) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(manifest) = self.manifest(blob)? else {
            return Ok(None);
        };
        let path = self.blob_dir(blob)?.join(index.to_string());
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("reading shard", &path)(e)),
        };
        if let Err(source) = manifest.check_shard(index, &bytes) {
            let _ = fs::remove_file(&path);
            return Err(StoreError::ShardCorrupt {
                blob: *blob,
                index,
                source,
            });
        }
        Ok(Some(bytes))
    }

    /// The shard indices of `blob` kept here (present on disk; checked on read).
    ///
    /// # Errors
    /// I/O errors listing the directory.
    pub fn indices(&self, blob: &Cid) -> Result<Vec<usize>, StoreError> {
        let dir = self.blob_dir(blob)?;
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io("listing shards", &dir)(e)),
        };
        let mut out: Vec<usize> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        out.sort_unstable();
        Ok(out)
    }

    /// Drops everything kept of `blob` (its manifest and shards): for a manifest found
    /// false, so the true one can replace it.
    ///
    /// # Errors
    /// I/O errors.
    pub fn forget(&self, blob: &Cid) -> Result<(), StoreError> {
        let dir = self.blob_dir(blob)?;
        let _writing = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(io("removing shards", &dir)(e))
            }
            _ => Ok(()),
        }
    }

    /// Every blob with a manifest kept here, with the shard indices held (possibly none).
    ///
    /// # Errors
    /// I/O errors listing the directory.
    pub fn held(&self) -> Result<Vec<(Cid, Vec<usize>)>, StoreError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io("listing shards", &self.dir))? {
            let entry = entry.map_err(io("listing shards", &self.dir))?;
            let Ok(blob) = format!("sha256:{}", entry.file_name().to_string_lossy()).parse() else {
                continue;
            };
            out.push((blob, self.indices(&blob)?));
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use engram_core::erasure::{DEFAULT_LAYOUT, encode};

    use super::*;

    #[test]
    fn shards_are_checked_in_and_out_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        let (m, shards) = encode(&bytes, "application/pdf", DEFAULT_LAYOUT).unwrap();
        {
            let store = Shards::open(dir.path()).unwrap();
            // No manifest yet: refused.
            assert!(matches!(
                store.put(&m.blob, 0, &shards[0]),
                Err(StoreError::NoManifest(_))
            ));
            // A stranger's manifest first: replaced while no shard is kept under it.
            let mut other = m.clone();
            other.content_type = "image/png".into();
            store.put_manifest(&other).unwrap();
            store.put_manifest(&m).unwrap();
            store.put_manifest(&m).unwrap();
            // Wrong bytes for the index: refused, nothing kept.
            assert!(matches!(
                store.put(&m.blob, 1, &shards[0]),
                Err(StoreError::Invalid(_))
            ));
            store.put(&m.blob, 2, &shards[2]).unwrap();
            // Now the manifest is fixed.
            assert!(matches!(
                store.put_manifest(&other),
                Err(StoreError::ManifestConflict(_))
            ));
        }
        let store = Shards::open(dir.path()).unwrap();
        assert_eq!(store.held().unwrap(), vec![(m.blob, vec![2])]);
        assert_eq!(store.get(&m.blob, 2).unwrap().unwrap(), shards[2]);
        assert_eq!(store.get(&m.blob, 1).unwrap(), None);
        assert_eq!(store.manifest(&m.blob).unwrap().unwrap(), m);

        // Damage on disk is reported, never served.
        let path = dir
            .path()
            .join("shards")
            .join(m.blob.digest_hex())
            .join("2");
        let mut raw = fs::read(&path).unwrap();
        raw[10] ^= 0xff;
        fs::write(&path, raw).unwrap();
        assert!(matches!(
            store.get(&m.blob, 2),
            Err(StoreError::ShardCorrupt { index: 2, .. })
        ));
        assert_eq!(store.held().unwrap(), vec![(m.blob, vec![])]);
        store.forget(&m.blob).unwrap();
        assert!(store.held().unwrap().is_empty());
        assert_eq!(store.manifest(&m.blob).unwrap(), None);
        assert!(matches!(
            store.manifest(&Cid::V1([0; 32])),
            Err(StoreError::NotContentCid(_))
        ));
    }
}
