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
use engram_store::{Archive, BlobInfo};
use engram_wire::DocumentResponse;
use serde_json::Value;

use crate::ClientError;

/// The content type a sealed blob is kept under.
pub const SEALED_TYPE: &str = "application/octet-stream";

/// Characters per chunk of a sealed document: its text and metadata travel sealed inside
/// the metadata, which must stay under 4,096 bytes even for three-byte characters.
pub const SEALED_CHUNK_CHARS: usize = 600;

/// How a private namespace's document is sealed here before anything leaves: the file
/// encrypted to `recipient` (the original's `encrypt_raw`, hybrid X25519 + AES-256-GCM), each
/// chunk embedded by `embedder`, sealed to `recipient` and noised at `epsilon`.
#[derive(Clone)]
pub struct Seal {
    /// The owner's X25519 public key.
    pub recipient: [u8; 32],
    /// Noise on the chunks' vectors (`None`: exact).
    pub epsilon: Option<f64>,
    /// The local embedder (a node cannot embed text it cannot read).
    pub embedder: Arc<engram_embed::Embedder>,
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seal")
            .field("recipient", &hex::encode(self.recipient))
            .field("epsilon", &self.epsilon)
            .finish_non_exhaustive()
    }
}

/// `bytes` encrypted to `recipient` in the original's raw format.
///
/// # Errors
/// [`ClientError::Randomness`].
pub fn seal_bytes(recipient: &[u8; 32], bytes: &[u8]) -> Result<Vec<u8>, ClientError> {
    let mut ephemeral = [0u8; 32];
    let mut nonce = [0u8; 12];
    getrandom::getrandom(&mut ephemeral)
        .and_then(|()| getrandom::getrandom(&mut nonce))
        .map_err(ClientError::Randomness)?;
    Ok(engram_core::crypto::encrypt_raw(
        recipient, bytes, &ephemeral, &nonce,
    ))
}

/// The gateway used when `ENGRAM_ARWEAVE_URL` is not set.
pub const DEFAULT_GATEWAY: &str = "https://arweave.net";
/// Longest one request to the gateway may take (a chunked upload makes one per 256 KiB).
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

/// Whether `ENGRAM_ALLOW_PRIVATE_URLS` allows fetching loopback, private and link-local
/// addresses (`true`/`1`).
pub fn private_urls_allowed() -> bool {
    std::env::var("ENGRAM_ALLOW_PRIVATE_URLS").is_ok_and(|v| matches!(v.trim(), "true" | "1"))
}

impl MediaOptions {
    /// Defaults, with the vision model from the environment. `allow_private` lets URL
    /// fetches reach the local network: the CLI's own user may; a library that ingests URLs
    /// its users give must not, unless [`private_urls_allowed`]; a node decides by its
    /// configuration.
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
        .unwrap_or_else(|e| Err(MediaError::PdfPanic(e.to_string()))),
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

    /// What an upload through this gateway records in metadata, at its longest (a
    /// transaction id is 43 characters): for checking a document before paying for it.
    fn longest_record(&self) -> engram_media::ArchiveRef {
        let id = "x".repeat(43);
        let url = match id.parse() {
            Ok(tx) => self.gateway.data_url(&tx),
            Err(_) => format!("https://arweave.net/{id}"),
        };
        engram_media::ArchiveRef::Uploaded { tx_id: id, url }
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

    /// Uploads `bytes`, or records why not: the state to keep for the blob.
    pub async fn archive_or_queue(
        &self,
        bytes: &[u8],
        content_type: &str,
        content_cid: &Cid,
        encrypted: bool,
    ) -> Archive {
        match self
            .upload(bytes, content_type, content_cid, encrypted)
            .await
        {
            Ok(state) => state,
            Err(e) => Archive::Pending {
                attempts: 1,
                last_error: Some(e.to_string()),
            },
        }
    }

    /// Uploads the pending blobs of `engine`; returns (uploaded, still pending). With
    /// `round` (a background loop's count), a blob that failed `n` times is tried every
    /// 2^min(n, 6) rounds, so a gateway that stays down is not hammered; without, every
    /// pending blob is tried now (`engram blob push`).
    pub async fn retry_pending(
        &self,
        engine: &Arc<engram_engine::Engine>,
        round: Option<u64>,
    ) -> (usize, usize) {
        let e = engine.clone();
        let Ok(Ok(pending)) =
            tokio::task::spawn_blocking(move || e.store().blobs().pending()).await
        else {
            return (0, 0);
        };
        let (mut done, mut left) = (0, 0);
        for info in pending {
            let attempts = match &info.archive {
                Archive::Pending { attempts, .. } => *attempts,
                _ => 0,
            };
            if let Some(r) = round
                && r % (1u64 << attempts.min(6)) != 0
            {
                left += 1;
                continue;
            }
            match self.retry_one(engine, &info, attempts).await {
                Ok(()) => done += 1,
                Err(_) => left += 1,
            }
        }
        (done, left)
    }

    async fn retry_one(
        &self,
        engine: &Arc<engram_engine::Engine>,
        info: &BlobInfo,
        attempts: u32,
    ) -> Result<(), ClientError> {
        let (e, cid) = (engine.clone(), info.cid);
        // Reading (and re-hashing) a large blob is blocking work.
        let bytes = tokio::task::spawn_blocking(move || e.store().blobs().get(&cid)).await??;
        let state = match self
            .upload(&bytes, &info.content_type, &info.cid, info.encrypted)
            .await
        {
            Ok(state) => state,
            Err(e) => Archive::Pending {
                attempts: attempts + 1,
                last_error: Some(e.to_string()),
            },
        };
        let failed = matches!(state, Archive::Pending { .. });
        let e = engine.clone();
        tokio::task::spawn_blocking(move || e.store().blobs().set_archive(&cid, state)).await??;
        if failed {
            return Err(ClientError::UploadPending(cid));
        }
        Ok(())
    }
}

/// What a sealed document sends: the sealed file and one prepared memory per chunk.
pub(crate) struct SealedDocument {
    /// The file, encrypted to the owner.
    pub(crate) blob: Vec<u8>,
    /// The chunks, embedded here, sealed and noised.
    pub(crate) memories: Vec<crate::outgoing::Prepared>,
    /// The response to give, its CIDs still to fill in.
    pub(crate) response: DocumentResponse,
}

/// Seals `doc` for `namespace`: every chunk checked, embedded and sealed before anything
/// is stored or sent. Each chunk's sealed metadata carries the document's fields and
/// `blob_cid`, the content CID of the sealed file (its `content_cid` is the plaintext's,
/// which only the owner can see).
pub(crate) fn seal_document(
    doc: &Document,
    metadata: Value,
    namespace: &str,
    seal: &Seal,
    limits: Limits,
) -> Result<SealedDocument, ClientError> {
    let user = match metadata {
        Value::Null => serde_json::Map::new(),
        Value::Object(m) => m,
        _ => return Err(engram_core::CoreError::MetadataNotObject.into()),
    };
    let limits = Limits {
        chunk_chars: limits.chunk_chars.min(SEALED_CHUNK_CHARS),
        chunk_overlap: limits.chunk_overlap.min(SEALED_CHUNK_CHARS / 5),
        ..limits
    };
    let blob = seal_bytes(&seal.recipient, &doc.bytes)?;
    let blob_cid = Cid::for_content(&blob);
    let chunks = doc.chunks(&limits)?;
    if chunks.is_empty() {
        return Err(engram_core::CoreError::EmptyText.into());
    }
    let content_cid = doc.content_cid();
    let items: Vec<crate::NewText> = chunks
        .iter()
        .map(|c| {
            let mut m = doc.chunk_metadata(
                c,
                chunks.len(),
                &content_cid,
                &engram_media::ArchiveRef::Off,
                &user,
            );
            // The whole text is sealed beside the metadata; no preview is needed.
            m.remove("text");
            m.insert("blob_cid".into(), blob_cid.to_string().into());
            crate::NewText {
                text: c.text.clone(),
                metadata: Value::Object(m),
                namespace: Some(namespace.to_string()),
                expires_ms: None,
            }
        })
        .collect();
    let how = crate::outgoing::Outgoing {
        seal_to: Some(&seal.recipient),
        namespace: Some(namespace),
        epsilon: seal.epsilon,
    };
    let memories = crate::outgoing::texts(&seal.embedder, &items, how)?;
    for m in &memories {
        engram_core::validate_metadata(&m.metadata)?;
    }
    let response = DocumentResponse {
        content_cid: Some(blob_cid.to_string()),
        title: doc.title.clone(),
        pages: doc.pages.len(),
        chars: doc.chars(),
        description: (doc.kind == engram_media::Kind::Image).then(|| doc.pages.concat()),
        arweave: "off".into(),
        ..Default::default()
    };
    Ok(SealedDocument {
        blob,
        memories,
        response,
    })
}

/// The wire's `arweave*` fields for an archive state.
pub(crate) fn archive_fields(archive: &Archive) -> (&'static str, Option<String>, Option<String>) {
    match archive {
        Archive::Off => ("off", None, None),
        Archive::Pending { .. } => ("pending", None, None),
        Archive::Uploaded { tx_id, url } => ("uploaded", Some(tx_id.clone()), Some(url.clone())),
    }
}

/// Stores `doc` in `engine`: checked first, then uploaded when `archiver` is set (pending on
/// failure; a blob already kept keeps its state, so the same file is not paid for twice),
/// then the blob and its chunks' memories.
///
/// # Errors
/// Engine errors (bad metadata, no text, too many chunks, store failures); nothing is
/// stored or uploaded then.
pub async fn ingest_document(
    engine: Arc<engram_engine::Engine>,
    archiver: Option<&Archiver>,
    doc: Document,
    metadata: Value,
    namespace: Option<String>,
    limits: Limits,
) -> Result<DocumentResponse, ClientError> {
    let content_cid = doc.content_cid();
    // A private namespace's file never goes to the permanent web in the clear: without a
    // seal it stays in this store only.
    let archiver =
        archiver.filter(|_| engram_core::auth::private_namespace(namespace.as_deref()).is_none());
    let doc = Arc::new(doc);
    let (e, d, m, ns) = (
        engine.clone(),
        doc.clone(),
        metadata.clone(),
        namespace.clone(),
    );
    // With a wallet, the document is checked before anything is paid for, with metadata as
    // long as an upload makes it; without one, `Engine::ingest_document` checks it once.
    let worst = archiver.map(Archiver::longest_record);
    let known = tokio::task::spawn_blocking(move || {
        if let Some(worst) = &worst {
            e.document_items(&d, &m, ns.as_deref(), &limits, worst)?;
        }
        Ok::<_, ClientError>(e.store().blobs().info(&content_cid)?)
    })
    .await??;
    let archive = match (archiver, known.map(|b| b.archive)) {
        (_, Some(state @ (Archive::Uploaded { .. } | Archive::Pending { .. }))) => state,
        (None, _) => Archive::Off,
        (Some(a), _) => {
            a.archive_or_queue(&doc.bytes, &doc.content_type, &content_cid, false)
                .await
        }
    };
    let (title, pages, chars) = (doc.title.clone(), doc.pages.len(), doc.chars());
    let description = (doc.kind == engram_media::Kind::Image).then(|| doc.pages.concat());
    let stored = tokio::task::spawn_blocking(move || {
        engine.ingest_document(&doc, metadata, namespace, &limits, archive)
    })
    .await??;
    let (arweave, tx_id, url) = archive_fields(&stored.blob.archive);
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
