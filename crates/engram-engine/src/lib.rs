//! The embedded default: one data directory, the canonical embedder and the store, behind
//! the protocol's rules for ingesting and querying.
//!
//! The CLI with no node configured, and a node serving HTTP, both do exactly this: check
//! the limits, embed once, compute the CID over the exact vector bytes, store idempotently,
//! and search within a namespace. Keeping the rules in one place means a memory ingested
//! locally and one ingested through a node get the same CID.
//!
//! # Layout
//! - [`Engine`]: opening a data directory; ingest, query, get, delete, status.
//! - `query_cache`: [`QueryCache`], embeddings of repeated public query texts.
//! - `error`: [`EngineError`].
//!
//! # Example
//! ```no_run
//! use engram_engine::{Engine, EngineConfig, TextItem};
//!
//! let engine = Engine::open(EngineConfig::new("/tmp/engram-data".into()))?;
//! let out = engine.ingest_texts(vec![TextItem::new("The sky is blue.")])?;
//! let hits = engine.query_text("what colour is the sky?", 3, &Default::default())?;
//! assert_eq!(hits[0].record.cid, out[0].cid);
//! # Ok::<(), engram_engine::EngineError>(())
//! ```

mod engine;
mod error;
mod query_cache;

pub use engine::{
    Duplicate, Engine, EngineConfig, Forgotten, Ingested, IngestedDocument, Status, TextItem,
    VectorItem, Where,
};
pub use engram_core::search::SearchMode;
pub use engram_store::Ranking;
pub use error::EngineError;
pub use query_cache::{QUERY_CACHE_ENTRIES, QueryCache, QueryCacheStats};
