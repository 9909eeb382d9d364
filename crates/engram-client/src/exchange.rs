//! Export and import: every memory of a namespace as JSON lines, and back.
//!
//! A line is exactly what `GET /retrieve` answers (`engram_wire::RetrieveResponse`: CID,
//! the stored vector's exact floats, metadata, namespace, model version, text, creation
//! time), so a file moves between installs, embedded or node, without a second format.
//! Memories of a private namespace are exported as they are stored: sealed (their metadata
//! holds the ciphertext, their vectors the noise), so the file reveals nothing the store did
//! not; importing them into a node needs the namespace owner's key, like any write there.
//!
//! Import verifies before it stores: every line's CID must be what its vector, metadata and
//! model version hash to, or nothing is stored. A round trip changes no CID. The creation
//! time is the importing store's: a store keeps when it learned a memory.

use serde_json::Value;

use crate::error::ClientError;
use crate::memory::Memory;
use engram_wire::RetrieveResponse;

/// Memories per page while exporting (the list limit).
const PAGE: i64 = 200;

/// One export line (no newline).
pub fn line(memory: &RetrieveResponse) -> String {
    serde_json::to_string(memory).expect("a retrieved memory serializes")
}

/// The memories of an export file's text; blank lines are skipped.
///
/// # Errors
/// [`ClientError::BadLine`] with the 1-based line number.
pub fn parse(text: &str) -> Result<Vec<RetrieveResponse>, ClientError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|source| ClientError::BadLine {
                line: i + 1,
                source,
            })
        })
        .collect()
}

/// Checks that every memory's CID is what its content hashes to.
///
/// # Errors
/// [`ClientError::CidMismatch`] for the first that is not (1-based position), or the
/// engine's refusal of a bad vector or metadata.
pub fn verify(memories: &[RetrieveResponse]) -> Result<(), ClientError> {
    for (i, m) in memories.iter().enumerate() {
        let computed = item(m, None).cid()?;
        if computed.to_string() != m.cid {
            return Err(ClientError::CidMismatch {
                line: i + 1,
                claimed: m.cid.clone(),
                computed,
            });
        }
    }
    Ok(())
}

fn item(m: &RetrieveResponse, namespace: Option<&str>) -> engram_engine::VectorItem {
    let ns = namespace
        .map(str::to_string)
        .or_else(|| engram_core::auth::private_namespace(Some(&m.namespace)).map(str::to_string));
    engram_engine::VectorItem {
        embedding: m.embedding.clone(),
        metadata: Value::Object(m.metadata.clone()),
        model_version: m.model_version.clone(),
        namespace: ns,
        text: m.text.clone(),
        expires_ms: m.expires_ms,
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Imported {
    /// Memories stored.
    pub stored: usize,
    /// Memories the store had already.
    pub present: usize,
}

impl Memory {
    /// Every memory of `namespace` (public when `None`), in the store's order.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn export(
        &self,
        namespace: Option<&str>,
    ) -> Result<Vec<RetrieveResponse>, ClientError> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let page = self
                .list(Default::default(), PAGE, offset, namespace)
                .await?;
            for listed in &page {
                let cid: engram_core::Cid = listed.cid.parse()?;
                if let Some(m) = self.get(&cid, namespace).await? {
                    out.push(m);
                }
            }
            if page.len() < PAGE as usize {
                return Ok(out);
            }
            offset += PAGE;
        }
    }

    /// Verifies every memory ([`verify`]) and then stores them, byte for byte, into
    /// `namespace` when given, else each into the namespace it was exported from.
    ///
    /// # Errors
    /// [`ClientError::CidMismatch`] (then nothing is stored), backend failures.
    pub async fn import(
        &self,
        memories: Vec<RetrieveResponse>,
        namespace: Option<&str>,
    ) -> Result<Imported, ClientError> {
        verify(&memories)?;
        let mut done = Imported {
            stored: 0,
            present: 0,
        };
        for m in memories {
            let it = item(&m, namespace);
            let stored = self
                .ingest_vector(
                    it.embedding,
                    it.metadata,
                    Some(it.model_version),
                    it.namespace.as_deref(),
                    it.text,
                    it.expires_ms,
                )
                .await?;
            if stored.new {
                done.stored += 1;
            } else {
                done.present += 1;
            }
        }
        Ok(done)
    }
}
