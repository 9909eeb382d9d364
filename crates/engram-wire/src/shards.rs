//! Erasure-code shards of public blobs (ours): `GET /shards`, `PUT|GET /shards/{blob}`,
//! `PUT|GET /shards/{blob}/{index}`. The shard bytes travel raw (`application/octet-stream`);
//! these are the JSON bodies around them.

use engram_core::Cid;
use engram_core::erasure::Manifest;
use serde::{Deserialize, Serialize};

/// Most blobs one `GET /shards` page lists.
pub const MAX_SHARD_PAGE: usize = 1000;

/// One blob a node keeps something of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBlob {
    /// The blob's content CID.
    pub blob: Cid,
    /// Shard indices kept here (checked on every read).
    pub shards: Vec<usize>,
    /// True when this node also keeps the whole public blob (it read the document).
    #[serde(default)]
    pub whole: bool,
    /// The digest ([`Manifest::digest`]) of the manifest its shards are under; repair
    /// counts only shards under the manifest it trusts.
    #[serde(default)]
    pub manifest: Option<Cid>,
}

/// `GET /shards?offset=&limit=`: what a node keeps, by blob CID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardListing {
    /// This page, in CID order.
    pub blobs: Vec<HeldBlob>,
    /// Blobs in all pages.
    pub total: usize,
    /// Where this page starts.
    pub offset: usize,
}

/// `GET /shards/{blob}` and the answer to `PUT`s: a blob's manifest and what is kept here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardManifest {
    /// How the blob was cut, with every shard's CID.
    pub manifest: Manifest,
    /// Shard indices kept here.
    pub held: Vec<usize>,
}
