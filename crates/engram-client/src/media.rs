//! Documents into memory, one pipeline for the embedded store and the node: read the file
//! or page (`engram-media`), put its bytes on Arweave when a wallet is configured, then
//! store the blob and one memory per chunk (`engram-engine`).
//!
//! The upload comes before the memories because the original recorded `arweave_tx_id` and
//! `arweave_url` in each chunk's metadata, which its CID covers. An upload that fails does
//! not fail the ingest and is never dropped: the chunks record `arweave: "pending"`, the
//! blob is marked pending, and [`Archiver::retry_pending`] (a node's background task,
//! `engram blob push` on the CLI) uploads it later; the transaction id is then on the
//! blob's record (`engram blob info`, `GET /blob/{cid}/info`), since the memories' CIDs
//! cannot change.

use std::sync::Arc;
use std::time::Duration;

use engram_arweave::{ArweaveError, Client as Gateway, Wallet, engram_tags};
use engram_core::Cid;
use engram_media::fetch::FetchPolicy;
use engram_media::vision::VisionConfig;
use engram_media::{Document, Limits, MediaError, image, ocr, pdf, vision};
use engram_store::{Archive, BlobInfo, Blobs};
use engram_wire::DocumentResponse;
use serde_json::Value;

use crate::ClientError;

/// The gateway used when `ENGRAM_ARWEAVE_URL` is not set.
pub const DEFAULT_GATEWAY: &str = "https://arweave.net";
/// Longest an upload may hold up an ingest before it is left to the retry queue.
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// What to read.
#[derive(Debug, Clone)]
pub enum DocumentSource {
    /// A PDF's bytes and file name.
    Pdf {
        /// The file.
        bytes: Vec<u8>,
        /// Its name.
        filename: String,
    },
    /// An image's bytes and name, with the text to embed if the caller has it.
    Image {
        /// The file.
        bytes: Vec<u8>,
        /// Its name.
        filename: String,
        /// A description to embed instead of asking a vision model or OCR.
        description: Option<String>,
    },
    /// A web page (or a PDF) to fetch.
    Url(String),
}

impl DocumentSource {
    /// The wire's name of the kind (`pdf`, `image`, `url`).
    pub fn kind(&self) -> &'static str {
        match self {
            DocumentSource::Pdf { .. } => "pdf",
            DocumentSource::Image { .. } => "image",
            DocumentSource::Url(_) => "url",
        }
    }
}

/// How documents are read.
#[derive(Debug, Clone, Default)]
pub struct MediaOptions {
    /// Size, pixel and chunk limits.
    pub limits: Limits,
    /// How URLs are fetched.
    pub fetch: FetchPolicy,
    /// The vision model for images, if configured.
    pub vision: Option<VisionConfig>,
}

impl MediaOptions {
    /// Defaults, with the vision model from the environment. `allow_private` is for a
    /// user's own machine (the embedded store); a node decides it by its configuration.
    pub fn from_env(allow_private: bool) -> Self {
        let limits = Limits {
            max_bytes: std::env::var("ENGRAM_MAX_DOCUMENT_BYTES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(engram_media::DEFAULT_MAX_BYTES),
            ..Limits::default()
        };
        Self {
            limits,
            fetch: FetchPolicy {
                allow_private,
                max_bytes: limits.max_bytes,
                ..FetchPolicy::default()
            },
            vision: VisionConfig::from_env(),
        }
    }
}

/// Reads a document: a PDF's pages, a page's readable text, an image's text from its
/// description, else the vision model, else OCR.
///
/// # Errors
/// [`MediaError`] with the reason; [`MediaError::NoImageText`] names what to configure.
pub async fn read_document(
    source: DocumentSource,
    opts: &MediaOptions,
) -> Result<Document, MediaError> {
    match source {
        DocumentSource::Pdf { bytes, filename } => tokio::task::spawn_blocking({
            let limits = opts.limits;
            move || pdf::extract(bytes, &filename, Some(&filename), &limits)
        })
        .await
        .unwrap_or_else(|e| Err(MediaError::CorruptPdf(e.to_string()))),
        DocumentSource::Url(url) => {
            engram_media::fetch::document(&url, &opts.fetch, &opts.limits).await
        }
        DocumentSource::Image {
            bytes,
            filename,
            description,
        } => {
            let info = image::inspect(&bytes, &opts.limits)?;
            let text = match description.filter(|d| !d.trim().is_empty()) {
                Some(d) => d,
                None => match &opts.vision {
                    Some(cfg) => vision::describe(cfg, &bytes, info.mime).await?,
                    None if ocr::available().await => ocr::tesseract(&bytes).await?,
                    None => return Err(MediaError::NoImageText),
                },
            };
            image::document(bytes, text, &filename, &opts.limits)
        }
    }
}

/// Uploads blobs to Arweave with the configured wallet.
pub struct Archiver {
    wallet: Wallet,
    gateway: Gateway,
}

impl std::fmt::Debug for Archiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archiver")
            .field("address", &self.wallet.address())
            .finish()
    }
}

impl Archiver {
    /// An archiver for `wallet` posting to `gateway_url`.
    ///
    /// # Errors
    /// [`ClientError::Arweave`] for a bad gateway URL.
    pub fn new(wallet: Wallet, gateway_url: &str) -> Result<Self, ClientError> {
        Ok(Self {
            wallet,
            gateway: Gateway::with_timeout(gateway_url, UPLOAD_TIMEOUT)?,
        })
    }

    /// The archiver the environment configures: the wallet in `ARWEAVE_KEY` (JWK JSON, as
    /// the original) or `ARWEAVE_KEY_FILE`, the gateway in `ENGRAM_ARWEAVE_URL` (default
    /// [`DEFAULT_GATEWAY`]); `None` when no wallet is set.
    ///
    /// # Errors
    /// [`ClientError::Arweave`] for a wallet that is set but unreadable.
    pub fn from_env() -> Result<Option<Self>, ClientError> {
        match Wallet::from_env() {
            Ok(wallet) => {
                let gateway = std::env::var("ENGRAM_ARWEAVE_URL")
                    .ok()
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(|| DEFAULT_GATEWAY.into());
                Self::new(wallet, &gateway).map(Some)
            }
            Err(ArweaveError::WalletNotConfigured) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The wallet's address.
    pub fn address(&self) -> &str {
        self.wallet.address()
    }

    /// Posts `bytes` with Engram's tags; the archive state to record.
    ///
    /// # Errors
    /// [`ArweaveError`] from the gateway.
    pub async fn upload(
        &self,
        bytes: &[u8],
        content_type: &str,
        content_cid: &Cid,
        encrypted: bool,
    ) -> Result<Archive, ArweaveError> {
        let tags = engram_tags(content_type, &content_cid.to_string(), None, encrypted);
        let id = self.gateway.upload(&self.wallet, bytes, &tags).await?;
        Ok(Archive::Uploaded {
            url: self.gateway.data_url(&id),
            tx_id: id.to_string(),
        })
    }

    /// Uploads every pending blob once; returns (uploaded, still pending).
    pub async fn retry_pending(&self, blobs: &Blobs) -> (usize, usize) {
        let Ok(pending) = blobs.pending() else {
            return (0, 0);
        };
        let (mut done, mut left) = (0, 0);
        for info in pending {
            match self.retry_one(blobs, &info).await {
                Ok(()) => done += 1,
                Err(_) => left += 1,
            }
        }
        (done, left)
    }

    async fn retry_one(&self, blobs: &Blobs, info: &BlobInfo) -> Result<(), ClientError> {
        let bytes = blobs.get(&info.cid)?;
        let attempts = match &info.archive {
            Archive::Pending { attempts, .. } => *attempts,
            _ => 0,
        };
        match self
            .upload(&bytes, &info.content_type, &info.cid, info.encrypted)
            .await
        {
            Ok(state) => {
                blobs.set_archive(&info.cid, state)?;
                Ok(())
            }
            Err(e) => {
                blobs.set_archive(
                    &info.cid,
                    Archive::Pending {
                        attempts: attempts + 1,
                        last_error: Some(e.to_string()),
                    },
                )?;
                Err(e.into())
            }
        }
    }
}

/// Stores `doc` in `engine`: uploaded first when `archiver` is set (pending on failure),
/// then the blob and its chunks' memories.
///
/// # Errors
/// Engine errors (bad metadata, no text, store failures); nothing is stored then.
pub async fn ingest_document(
    engine: Arc<engram_engine::Engine>,
    archiver: Option<&Archiver>,
    doc: Document,
    metadata: Value,
    namespace: Option<String>,
    limits: Limits,
) -> Result<DocumentResponse, ClientError> {
    let content_cid = doc.content_cid();
    let archive = match archiver {
        None => Archive::Off,
        Some(a) => match a
            .upload(&doc.bytes, &doc.content_type, &content_cid, false)
            .await
        {
            Ok(state) => state,
            Err(e) => Archive::Pending {
                attempts: 1,
                last_error: Some(e.to_string()),
            },
        },
    };
    let title = doc.title.clone();
    let pages = doc.pages.len();
    let chars = doc
        .pages
        .iter()
        .map(|p| engram_media::chunk::normalize(p).chars().count())
        .sum();
    let description = (doc.kind == engram_media::Kind::Image).then(|| doc.pages.concat());
    let stored = tokio::task::spawn_blocking(move || {
        engine.ingest_document(&doc, metadata, namespace, &limits, archive)
    })
    .await??;
    let (arweave, tx_id, url) = match stored.blob.archive {
        Archive::Off => ("off", None, None),
        Archive::Pending { .. } => ("pending", None, None),
        Archive::Uploaded { tx_id, url } => ("uploaded", Some(tx_id), Some(url)),
    };
    Ok(DocumentResponse {
        content_cid: Some(content_cid.to_string()),
        cids: stored.memories.iter().map(|m| m.cid.to_string()).collect(),
        title,
        pages,
        chars,
        description,
        arweave: arweave.into(),
        arweave_tx_id: tx_id,
        arweave_url: url,
        error: None,
    })
}
