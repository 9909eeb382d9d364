//! Raw files under their content CID: the PDFs, pages and images that memories were made
//! from.
//!
//! A blob is named by the SHA-256 of the bytes kept (`sha256:<hex>`), so every read can
//! check it: a blob whose bytes no longer hash to its name is reported corrupt, never
//! served. Private namespaces' blobs arrive sealed by their owner, so what is kept and
//! hashed is the ciphertext; the plaintext's CID travels inside the sealed metadata.
//!
//! Layout of `<data dir>/blobs/`: `sha256/<first two hex>/<hex>` holds the bytes and
//! `<hex>.json` beside it the [`BlobInfo`] (content type, the namespace it belongs to, the
//! state of its permanent copy on Arweave). Both are written with
//! [`engram_os::write_atomic`] (temporary file, fsync, rename, fsync of the directory),
//! bytes first, so an acknowledged blob survives `kill -9` and a torn write leaves no name
//! pointing at partial bytes.

use std::fs;
use std::path::{Path, PathBuf};

use engram_core::Cid;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{StoreError, io};

/// Where a blob's permanent copy stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Archive {
    /// Not asked for: no Arweave wallet was configured when the blob arrived.
    #[default]
    Off,
    /// Waiting for upload; the retry queue keeps trying.
    Pending {
        /// Failed attempts so far.
        attempts: u32,
        /// The last failure, for `engram status`.
        last_error: Option<String>,
    },
    /// Posted to Arweave as this transaction.
    Uploaded {
        /// The transaction id (base64url).
        tx_id: String,
        /// Where the gateway serves it.
        url: String,
    },
}

/// What is known of a blob besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobInfo {
    /// The content CID of the bytes kept.
    pub cid: Cid,
    /// Length in bytes.
    pub size: u64,
    /// MIME type as given at ingest (`application/pdf`, `text/html`, `image/png`, …).
    pub content_type: String,
    /// The namespace whose memories it backs (`public` or a private namespace); a private
    /// blob is served to its signed owner only.
    pub namespace: String,
    /// True when the bytes are ciphertext sealed by the owner.
    pub encrypted: bool,
    /// The permanent copy.
    #[serde(default)]
    pub archive: Archive,
}

/// The blob directory of one data directory.
#[derive(Debug)]
pub struct Blobs {
    dir: PathBuf,
    /// Held while a blob or a record is written: two requests storing the same bytes at
    /// once would otherwise share one temporary file.
    writes: std::sync::Mutex<()>,
    /// (blobs, pending uploads), counted from the records once and again only after a
    /// write: liveness probes ask for them, and walking every record each time would put a
    /// directory scan on the hot path.
    counts: std::sync::Mutex<Option<(usize, usize)>>,
}

impl Blobs {
    /// Opens (creating) `<data_dir>/blobs`. The caller holds the data directory's lock.
    pub(crate) fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let dir = data_dir.join("blobs").join("sha256");
        fs::create_dir_all(&dir).map_err(io("creating blob directory", &dir))?;
        Ok(Self {
            dir,
            writes: std::sync::Mutex::new(()),
            counts: std::sync::Mutex::new(None),
        })
    }

    fn paths(&self, cid: &Cid) -> Result<(PathBuf, PathBuf), StoreError> {
        let Cid::Content(_) = cid else {
            return Err(StoreError::NotContentCid(*cid));
        };
        let hex = cid.digest_hex();
        let shard = self.dir.join(&hex[..2]);
        Ok((shard.join(&hex), shard.join(format!("{hex}.json"))))
    }

    /// Keeps `bytes` and returns their content CID with the info now on record. Storing the
    /// same bytes again keeps the first info (its archive state included) unless the stored
    /// copy was damaged, which is then replaced, or they now arrive for the public
    /// namespace, which then owns them.
    ///
    /// # Errors
    /// [`StoreError::Io`] when a file cannot be written; nothing is named then.
    pub fn put(
        &self,
        bytes: &[u8],
        content_type: &str,
        namespace: &str,
        encrypted: bool,
        archive: Archive,
    ) -> Result<BlobInfo, StoreError> {
        let cid = Cid::for_content(bytes);
        let (data, meta) = self.paths(&cid)?;
        let _writing = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(mut info) = self.info(&cid)?
            && self.get(&cid).is_ok()
        {
            // Bytes someone stores publicly are public, whoever stored them first under a
            // private namespace: a private upload must not hide a public document.
            if info.namespace != namespace && namespace == crate::PUBLIC_NAMESPACE {
                info.namespace = namespace.to_string();
                info.encrypted = encrypted;
                info.content_type = content_type.to_string();
                self.write_info(&meta, &info)?;
            }
            return Ok(info);
        }
        let shard = data.parent().expect("a blob path has a shard directory");
        fs::create_dir_all(shard).map_err(io("creating blob directory", shard))?;
        engram_os::write_atomic(&data, bytes).map_err(io("writing blob", &data))?;
        let info = BlobInfo {
            cid,
            size: bytes.len() as u64,
            content_type: content_type.to_string(),
            namespace: namespace.to_string(),
            encrypted,
            archive,
        };
        self.write_info(&meta, &info)?;
        Ok(info)
    }

    /// Blobs kept and blobs waiting for their Arweave upload; cached between writes.
    ///
    /// # Errors
    /// As [`Blobs::all`].
    pub fn counts(&self) -> Result<(usize, usize), StoreError> {
        let mut cached = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = *cached {
            return Ok(c);
        }
        let all = self.all()?;
        let pending = all
            .iter()
            .filter(|b| matches!(b.archive, Archive::Pending { .. }))
            .count();
        *cached = Some((all.len(), pending));
        Ok((all.len(), pending))
    }

    fn write_info(&self, path: &Path, info: &BlobInfo) -> Result<(), StoreError> {
        *self.counts.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let json = serde_json::to_vec_pretty(info).expect("blob info serializes");
        engram_os::write_atomic(path, &json).map_err(io("writing blob info", path))
    }

    /// The info on record for `cid`, if the blob is kept here.
    ///
    /// # Errors
    /// [`StoreError::NotContentCid`] for a memory CID; [`StoreError::Io`] or
    /// [`StoreError::Corrupt`] for an unreadable record.
    pub fn info(&self, cid: &Cid) -> Result<Option<BlobInfo>, StoreError> {
        let (data, meta) = self.paths(cid)?;
        let json = match fs::read(&meta) {
            Ok(json) => json,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("reading blob info", &meta)(e)),
        };
        if !data.exists() {
            return Ok(None);
        }
        serde_json::from_slice(&json)
            .map(Some)
            .map_err(|source| StoreError::BlobInfo { cid: *cid, source })
    }

    /// The bytes of `cid`, checked against their name.
    ///
    /// # Errors
    /// [`StoreError::BlobNotFound`] when not kept here, [`StoreError::Corrupt`] when the
    /// bytes on disk no longer hash to `cid`.
    pub fn get(&self, cid: &Cid) -> Result<Vec<u8>, StoreError> {
        let (data, _) = self.paths(cid)?;
        let bytes = match fs::read(&data) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::BlobNotFound(*cid));
            }
            Err(e) => return Err(io("reading blob", &data)(e)),
        };
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        if &digest != cid.digest() {
            return Err(StoreError::Corrupt {
                id: cid.to_string(),
                reason: format!(
                    "blob bytes hash to sha256:{}, not to their name",
                    hex::encode(digest)
                ),
            });
        }
        Ok(bytes)
    }

    /// Records a new archive state for `cid`.
    ///
    /// # Errors
    /// [`StoreError::BlobNotFound`] when not kept here; I/O errors.
    pub fn set_archive(&self, cid: &Cid, archive: Archive) -> Result<BlobInfo, StoreError> {
        let _writing = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        let mut info = self.info(cid)?.ok_or(StoreError::BlobNotFound(*cid))?;
        info.archive = archive;
        let (_, meta) = self.paths(cid)?;
        self.write_info(&meta, &info)?;
        Ok(info)
    }

    /// Removes the bytes and info of `cid`; false when it was not kept here. The info goes
    /// first, so a crash between the two leaves bytes no info names (which [`Blobs::info`]
    /// already treats as absent); each removal is made durable. A copy already on
    /// Arweave is permanent by design and stays (for a private blob it is ciphertext).
    ///
    /// # Errors
    /// [`StoreError::NotContentCid`] for a memory CID; I/O errors.
    pub fn remove(&self, cid: &Cid) -> Result<bool, StoreError> {
        let (data, meta) = self.paths(cid)?;
        let _writing = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        *self.counts.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let mut removed = false;
        for path in [&meta, &data] {
            removed |= engram_os::remove_durable(path).map_err(io("removing blob", path))?;
        }
        Ok(removed)
    }

    /// Every blob's info, in no particular order.
    ///
    /// # Errors
    /// I/O errors listing the directory; damaged records are skipped.
    pub fn all(&self) -> Result<Vec<BlobInfo>, StoreError> {
        let mut out = Vec::new();
        for shard in fs::read_dir(&self.dir).map_err(io("listing blobs", &self.dir))? {
            let shard = shard.map_err(io("listing blobs", &self.dir))?.path();
            let Ok(entries) = fs::read_dir(&shard) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(hex) = name.strip_suffix(".json") else {
                    continue;
                };
                if let Ok(cid) = format!("sha256:{hex}").parse::<Cid>()
                    && let Ok(Some(info)) = self.info(&cid)
                {
                    out.push(info);
                }
            }
        }
        Ok(out)
    }

    /// Blobs waiting for their Arweave upload.
    ///
    /// # Errors
    /// As [`Blobs::all`].
    pub fn pending(&self) -> Result<Vec<BlobInfo>, StoreError> {
        Ok(self
            .all()?
            .into_iter()
            .filter(|b| matches!(b.archive, Archive::Pending { .. }))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs() -> (tempfile::TempDir, Blobs) {
        let dir = tempfile::tempdir().unwrap();
        let b = Blobs::open(dir.path()).unwrap();
        (dir, b)
    }

    #[test]
    fn keeps_bytes_under_their_content_cid() {
        let (_d, b) = blobs();
        let info = b
            .put(
                b"%PDF-1.7 x",
                "application/pdf",
                "public",
                false,
                Archive::Off,
            )
            .unwrap();
        assert_eq!(info.cid, Cid::for_content(b"%PDF-1.7 x"));
        assert_eq!(info.size, 10);
        assert_eq!(b.get(&info.cid).unwrap(), b"%PDF-1.7 x");
        assert_eq!(b.info(&info.cid).unwrap().unwrap(), info);
        assert_eq!(b.all().unwrap(), vec![info]);
    }

    #[test]
    fn a_removed_blob_leaves_no_file_and_no_count() {
        let (d, b) = blobs();
        let info = b
            .put(
                b"sealed bytes",
                "application/octet-stream",
                "ns",
                true,
                Archive::Off,
            )
            .unwrap();
        assert_eq!(b.counts().unwrap(), (1, 0));
        assert!(b.remove(&info.cid).unwrap());
        assert!(matches!(b.get(&info.cid), Err(StoreError::BlobNotFound(_))));
        assert_eq!(b.info(&info.cid).unwrap(), None);
        assert_eq!(b.counts().unwrap(), (0, 0));
        let left: Vec<_> = walkdir(d.path());
        assert!(left.is_empty(), "files left: {left:?}");
        assert!(
            !b.remove(&info.cid).unwrap(),
            "a second removal finds nothing"
        );
        assert!(matches!(
            b.remove(&Cid::V1([1; 32])),
            Err(StoreError::NotContentCid(_))
        ));
    }

    fn walkdir(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walkdir(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn empty_blob_round_trips() {
        let (_d, b) = blobs();
        let info = b
            .put(b"", "text/plain", "public", false, Archive::Off)
            .unwrap();
        assert_eq!(b.get(&info.cid).unwrap(), b"");
    }

    #[test]
    fn a_damaged_blob_is_refused_and_replaced_by_a_fresh_put() {
        let (_d, b) = blobs();
        let info = b
            .put(b"hello", "text/plain", "public", false, Archive::Off)
            .unwrap();
        let (data, _) = b.paths(&info.cid).unwrap();
        fs::write(&data, b"hellO").unwrap();
        let err = b.get(&info.cid).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        b.put(b"hello", "text/plain", "public", false, Archive::Off)
            .unwrap();
        assert_eq!(b.get(&info.cid).unwrap(), b"hello");
    }

    #[test]
    fn concurrent_puts_of_the_same_bytes_leave_one_good_copy() {
        let (_d, b) = blobs();
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    b.put(
                        &bytes,
                        "application/octet-stream",
                        "public",
                        false,
                        Archive::Off,
                    )
                    .unwrap()
                });
            }
        });
        assert_eq!(b.get(&Cid::for_content(&bytes)).unwrap(), bytes);
        assert_eq!(b.all().unwrap().len(), 1);
    }

    #[test]
    fn public_bytes_cannot_be_hidden_by_a_private_put() {
        let (_d, b) = blobs();
        let first = b
            .put(b"doc", "application/pdf", "attacker", true, Archive::Off)
            .unwrap();
        assert_eq!(first.namespace, "attacker");
        let public = b
            .put(b"doc", "application/pdf", "public", false, Archive::Off)
            .unwrap();
        assert_eq!(
            (public.namespace.as_str(), public.encrypted),
            ("public", false)
        );
        let again = b
            .put(b"doc", "application/pdf", "other", true, Archive::Off)
            .unwrap();
        assert_eq!(
            again.namespace, "public",
            "a later private put changes nothing"
        );
    }

    #[test]
    fn unknown_and_memory_cids_are_errors() {
        let (_d, b) = blobs();
        let unknown = Cid::for_content(b"never stored");
        assert!(matches!(b.get(&unknown), Err(StoreError::BlobNotFound(_))));
        assert_eq!(b.info(&unknown).unwrap(), None);
        let memory = Cid::V1([7; 32]);
        assert!(matches!(b.get(&memory), Err(StoreError::NotContentCid(_))));
    }

    #[test]
    fn archive_state_is_kept_and_pending_ones_listed() {
        let (_d, b) = blobs();
        let pending = Archive::Pending {
            attempts: 0,
            last_error: None,
        };
        let a = b
            .put(b"a", "text/plain", "public", false, pending.clone())
            .unwrap();
        let c = b
            .put(b"c", "text/plain", "public", false, Archive::Off)
            .unwrap();
        assert_eq!(b.pending().unwrap(), vec![a.clone()]);
        assert_eq!(b.counts().unwrap(), (2, 1));
        // Storing the same bytes again keeps the recorded state.
        b.put(b"a", "text/plain", "public", false, Archive::Off)
            .unwrap();
        assert_eq!(b.info(&a.cid).unwrap().unwrap().archive, pending);
        let done = Archive::Uploaded {
            tx_id: "tx".into(),
            url: "http://127.0.0.1:1984/tx".into(),
        };
        b.set_archive(&a.cid, done.clone()).unwrap();
        assert!(b.pending().unwrap().is_empty());
        assert_eq!(b.counts().unwrap(), (2, 0), "a write refreshes the counts");
        assert_eq!(b.info(&a.cid).unwrap().unwrap().archive, done);
        assert!(matches!(
            b.set_archive(&Cid::for_content(b"z"), Archive::Off),
            Err(StoreError::BlobNotFound(_))
        ));
        let _ = c;
    }
}
