//! The pure protocol core of Engram: names, hashes and proofs, with no I/O.
//!
//! Everything a node, validator or client must agree on byte for byte lives here, so that
//! the same code computes a CID on a phone, a miner and a validator. The byte layouts are
//! written down in `docs/protocol.md`; `tests/vectors/` holds cases computed by the
//! original network, and the conformance tests match them exactly.
//!
//! # Layout
//! - [`cid`]: the `v1::` and `sha256:` content identifiers.
//! - [`embedding`]: f32 bytes, embedding hash, the v1 CID, input validation.
//! - [`canonical`]: canonical metadata JSON, the bytes a CID hashes after the vector.
//! - [`pyrepr`]: Python's `str()`/`repr()` renderings the protocol inherited.
//! - [`proof`]: storage proofs v1 (the network's) and v2 (needs the vector bytes).
//! - [`merkle`]: corpus commitments, v1 (compatible) and v2 (size-bound), with proofs.
//! - [`auth`]: signed namespace, attestation and request messages.
//! - [`crypto`]: client-side hybrid encryption (X25519, HKDF, AES-256-GCM).
//! - [`pyjson`]: Python's `json.dumps`, which signatures and ciphertexts depend on.
//! - [`keys`]: sr25519 hotkeys (mnemonics, dev URIs, SS58) and signature checks.
//! - [`dht`]: which nodes hold a CID (XOR distance, replication 3).
//! - [`erasure`]: Reed–Solomon shards of large blobs (any k of n recover the file).
//! - [`noise`]: inversion-resisting noise for private namespaces' embeddings.
//! - [`tier`]: trust tiers from a namespace owner's stake.
//! - [`search`]: how a query ranks (dense, keyword, hybrid) and the fusion weight's limit.
//! - [`limits`]: the protocol's constants.
//! - [`testing`]: deterministic vectors for tests and benchmarks.
//!
//! # Example
//! ```
//! use engram_core::{Cid, Metadata, cid_v1};
//!
//! let vector = vec![0.1f32; 384];
//! let mut meta = Metadata::new();
//! meta.insert("source".into(), "arxiv".into());
//! let cid = cid_v1(&vector, &meta, "v1");
//! let parsed: Cid = cid.to_string().parse().unwrap();
//! assert_eq!(parsed, cid);
//! ```

pub mod auth;
pub mod canonical;
pub mod cid;
pub mod crypto;
pub mod dht;
pub mod embedding;
pub mod erasure;
mod error;
pub mod keys;
pub mod limits;
pub mod merkle;
pub mod noise;
pub mod proof;
pub mod pyjson;
pub mod pyrepr;
pub mod search;
pub mod shamir;
pub mod testing;
pub mod tier;

pub use canonical::{Metadata, canonical_metadata_json, validate_metadata};
pub use cid::Cid;
pub use embedding::{
    cid_v1, cosine, embedding_bytes, embedding_from_bytes, embedding_hash, embedding_hash_hex,
    validate_embedding, validate_text,
};
pub use error::CoreError;
pub use limits::*;
