//! The Engram miner: the wire protocol over HTTP on top of the embedded engine.
//!
//! A node answers ingests, queries, storage-proof challenges and commitment requests for
//! the memories in its data directory. Embedding runs on its own thread with concurrent
//! texts micro-batched; store work runs on blocking threads; bounded queues answer 503 and
//! a per-caller limiter 429, so load never grows memory without bound.
//!
//! # Layout
//! - [`config`]: [`NodeConfig`], layered defaults → TOML → environment → flags.
//! - `server`: [`router`] and [`Node`] (bind, local address, graceful shutdown).
//! - `routes`: one handler per endpoint.
//! - `batcher`: the micro-batching embedder thread.
//! - `auth`: signed requests (signature, ±30 s window, replay cache).
//! - `namespaces`: private namespace ownership (signed, or the deprecated shared key).
//! - `admin`: the original's loopback-only operator endpoints (`/namespace`, `/wallet-stats`).
//! - `attest`: namespace attestations and trust tiers from the owner's stake.
//! - `shares`: threshold key shares kept for private namespaces' owners.
//! - `persist`: the small JSON registries in the data directory.
//! - `rate`: per-caller token buckets.
//! - [`network`]: registration and the replication repair loop.
//! - `fault`: test-only misbehaviour ([`Fault`]) that validators must catch.
//! - `overview`: `/overview` and `/holders/{cid}`, the dashboard's and CID page's views.
//! - `web`: the web app's pages and assets, compiled in.
//! - `metrics`: counters and histograms for `/stats` and `/metrics`.
//! - `json`: the JSON extractor that turns bad bodies into 400/413 in our error shape.
//! - `error`: [`ApiError`] (one status per variant) and [`NodeError`].
//!
//! # Example
//! ```no_run
//! # async fn run() -> Result<(), engram_node::NodeError> {
//! let mut config = engram_node::NodeConfig::load(None)?;
//! config.listen = "127.0.0.1:0".parse().unwrap();
//! let node = engram_node::Node::bind(config).await?;
//! println!("serving on {}", node.local_addr());
//! node.shutdown().await
//! # }
//! ```

mod admin;
mod attest;
mod auth;
mod batcher;
pub mod config;
mod documents;
pub mod erasure;
mod error;
mod fault;
mod json;
mod metrics;
mod namespaces;
pub mod network;
mod overview;
mod persist;
mod rate;
mod routes;
mod server;
mod shares;
mod web;

pub use config::NodeConfig;
pub use error::{ApiError, NodeError};
pub use fault::{FAULT_INJECTION, Fault, FaultError};
pub use overview::ValidatorReports;
pub use server::{AppState, Node, router};
