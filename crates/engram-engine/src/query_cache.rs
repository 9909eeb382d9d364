//! [`QueryCache`]: query texts already embedded, so a repeated query skips the model.
//!
//! Validators' probes and popular questions repeat, and embedding is most of a text
//! query's cost (the original Engram keeps an LRU of 10,000 query embeddings for the same
//! reason). Entries are keyed by the SHA-256 of the text, so a cache of long texts costs
//! the same memory as one of short ones: at most [`QUERY_CACHE_ENTRIES`] × (32-byte key +
//! 1,536-byte vector), about 16 MB. Eviction is quick_cache's CLOCK-Pro-style policy (what
//! Qdrant uses), which keeps frequently repeated queries through one-off scans better than
//! plain LRU. A vector is a pure function of its text, so a cached entry never goes stale.
//!
//! Only public queries use it: a hit is faster than a miss, and a private namespace's
//! queries must not let anyone time whether a text was asked recently.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use engram_core::auth::private_namespace;
use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};

/// Query embeddings kept.
pub const QUERY_CACHE_ENTRIES: usize = 10_000;

/// A bounded map from query text to its embedding, with hit and miss counts.
pub struct QueryCache {
    entries: Cache<[u8; 32], Arc<[f32]>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Counters for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryCacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that had to embed.
    pub misses: u64,
    /// Entries held now.
    pub entries: usize,
    /// Entries it holds at most.
    pub capacity: usize,
}

impl Default for QueryCache {
    fn default() -> Self {
        Self::new(QUERY_CACHE_ENTRIES)
    }
}

impl QueryCache {
    /// An empty cache of `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Cache::new(capacity.max(1)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn key(text: &str) -> [u8; 32] {
        Sha256::digest(text.as_bytes()).into()
    }

    /// The embedding of `text` queried in `namespace`, if it is cached; counts a hit or a
    /// miss. Always `None`, and counted as neither, for a private namespace.
    pub fn get(&self, text: &str, namespace: Option<&str>) -> Option<Arc<[f32]>> {
        if private_namespace(namespace).is_some() {
            return None;
        }
        let found = self.entries.get(&Self::key(text));
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Remembers the embedding of `text` queried in `namespace` (nothing for a private
    /// namespace).
    pub fn insert(&self, text: &str, namespace: Option<&str>, vector: Arc<[f32]>) {
        if private_namespace(namespace).is_none() {
            self.entries.insert(Self::key(text), vector);
        }
    }

    /// Hits, misses and size.
    pub fn stats(&self) -> QueryCacheStats {
        QueryCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.entries.len(),
            capacity: self.entries.capacity() as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_hits_and_misses_and_stays_bounded() {
        let cache = QueryCache::new(100);
        assert!(cache.get("a", None).is_none());
        cache.insert("a", None, Arc::from(vec![1.0f32; 384]));
        assert_eq!(cache.get("a", Some("public")).unwrap()[0], 1.0);
        assert!(cache.get("b", None).is_none());
        let s = cache.stats();
        assert_eq!((s.hits, s.misses, s.entries), (1, 2, 1));
        cache.insert("secret", Some("diary"), Arc::from(vec![2.0f32; 384]));
        assert!(
            cache.get("a", Some("diary")).is_none(),
            "private: never answered"
        );
        assert_eq!(cache.stats(), s, "private: neither stored nor counted");
        for i in 0..1_000 {
            cache.insert(&format!("q{i}"), None, Arc::from(vec![0.0f32; 384]));
        }
        assert!(cache.stats().entries <= 100, "{:?}", cache.stats());
    }
}
