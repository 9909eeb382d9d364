//! Engram's Rust SDK.
//!
//! Applications talk to memory through [`Memory`]: the embedded default (a local store and
//! in-process embedder) or a node over HTTP, chosen by configuration with the same calls.
//! [`Client`] is the typed HTTP client of one node, with timeouts and retries on 429/503;
//! [`api`] holds the wire protocol's bodies, shared with the node so the two cannot drift.
//!
//! # Layout
//! - [`api`]: request and response types of every endpoint.
//! - `http`: [`Client`] and [`ClientOptions`] (feature `http`).
//! - `memory`: [`Memory`], one surface over both backends (features `http` + `embedded`).
//! - [`network`]: many nodes through a registry: replicated writes, fan-out queries,
//!   verified reads (feature `network`).
//! - [`sealed`]: client-side encryption of memories (seal before sending, open results).
//! - [`outgoing`]: the private pipeline (check, embed here, seal, noise) before a memory
//!   leaves for a node (features `http` + `embedded`).
//! - [`media`]: documents into memory: read, archive on Arweave, store blob and chunks.
//! - `error`: [`ClientError`].
//!
//! # Example
//! ```no_run
//! # async fn run() -> Result<(), engram_client::ClientError> {
//! use engram_client::{Memory, MemoryConfig, NewText};
//!
//! let memory = Memory::open(MemoryConfig { node: Some("http://127.0.0.1:8091".into()), ..Default::default() })?;
//! let stored = memory.ingest_texts(vec![NewText { text: "The sky is blue.".into(), ..Default::default() }]).await?;
//! let hits = memory.query(Some("sky colour".into()), None, 3, None, Default::default(), Default::default()).await?;
//! assert_eq!(hits[0].cid, stored[0].cid.to_string());
//! # Ok(()) }
//! ```

/// The wire protocol's bodies (the `engram-wire` crate), re-exported for SDK users.
pub use engram_wire as api;
mod error;
/// Export and import of memories as JSON lines.
#[cfg(all(feature = "http", feature = "embedded"))]
pub mod exchange;
#[cfg(feature = "http")]
mod http;
/// Documents (PDFs, pages, images) into memory, with their blobs and Arweave copies.
#[cfg(all(feature = "http", feature = "embedded"))]
pub mod media;
#[cfg(all(feature = "http", feature = "embedded"))]
mod memory;
#[cfg(feature = "network")]
pub mod network;
#[cfg(all(feature = "http", feature = "embedded"))]
pub mod outgoing;
pub mod sealed;

pub use error::ClientError;
#[cfg(feature = "http")]
pub use http::{Client, ClientOptions};
#[cfg(all(feature = "http", feature = "embedded"))]
pub use memory::{Memory, MemoryConfig, MemoryStatus, NewText, Retrieval, SearchMode, Stored};
