//! A node's durable memory: vectors, metadata and text in Qdrant Edge, with the corpus
//! commitment kept beside them.
//!
//! The store answers the questions a node is asked, namely what is stored under a CID,
//! what is near a vector, and what the node commits to, and it keeps every acknowledged
//! write across a crash. It knows nothing of HTTP or embedding models.
//!
//! # Layout
//! - `store`: [`Store`], the shard, the write path and queries.
//! - `record`: [`Record`] and its mapping onto a Qdrant point.
//! - `journal`: the write-ahead journal that makes acknowledged writes survive `kill -9`.
//! - `commitment`: Merkle leaves, cached roots and their snapshot.
//! - `blobs`: [`Blobs`], raw files under their content CID, checked on every read.
//! - `shards`: [`Shards`], erasure-code shards of other nodes' public blobs.
//! - [`snapshot`]: a consistent copy of a data directory in one file, and its checked restore.
//!
//! # Example
//! ```
//! use engram_store::{Record, Store, SearchQuery, PUBLIC_NAMESPACE};
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path())?;
//! let vector = vec![0.05f32; 384];
//! let record = Record {
//!     cid: engram_core::cid_v1(&vector, &Default::default(), "v1"),
//!     vector: vector.clone(),
//!     metadata: Default::default(),
//!     model_version: "v1".into(),
//!     namespace: PUBLIC_NAMESPACE.into(),
//!     created_ms: 0,
//!     text: Some("hello".into()),
//!     expires_ms: None,
//! };
//! store.upsert(vec![record.clone()])?;
//! let hits = store.search(&vector, 1, &SearchQuery { namespace: PUBLIC_NAMESPACE, filters: &[] })?;
//! assert_eq!(hits[0].record.cid, record.cid);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod blobs;
mod commitment;
mod error;
mod journal;
mod record;
mod shards;
pub mod snapshot;
mod store;

pub use blobs::{Archive, BlobInfo, Blobs};
pub use commitment::Commitment;
pub use error::StoreError;
pub use record::{PUBLIC_NAMESPACE, Record};
pub use shards::Shards;
pub use store::{Cursor, Hit, Ranking, SearchQuery, Store, Upserted};
