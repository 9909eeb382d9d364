//! Protocol constants (DESIGN §7). Every limit a node enforces is named here once, with
//! the check for it where it is not a text, vector or metadata rule.

use crate::CoreError;

/// Dimension of every canonical embedding (all-MiniLM-L6-v2).
pub const EMBEDDING_DIM: usize = 384;
/// The model version written into every CID's canonical metadata by default.
pub const DEFAULT_MODEL_VERSION: &str = "v1";
/// Maximum length of an ingested text, in Unicode scalar values (Python `len`).
pub const MAX_TEXT_CHARS: usize = 8192;
/// Maximum size of a record's metadata, as compact JSON bytes.
pub const MAX_METADATA_BYTES: usize = 4096;
/// Smallest `top_k` a query may ask for.
pub const MIN_TOP_K: usize = 1;
/// Largest `top_k` a query may ask for.
pub const MAX_TOP_K: usize = 100;
/// `top_k` when a query does not say.
pub const DEFAULT_TOP_K: usize = 10;
/// Largest page `POST /list` returns.
pub const MAX_LIST_LIMIT: usize = 200;
/// Page size of `POST /list` when the request does not say.
pub const DEFAULT_LIST_LIMIT: usize = 50;
/// Length of a challenge nonce in bytes.
pub const NONCE_LEN: usize = 32;
/// Seconds a challenge stays answerable.
pub const CHALLENGE_TTL_SECS: u64 = 10;
/// The default port of a node.
pub const DEFAULT_PORT: u16 = 8091;

/// Most memories one delete may name (`POST /delete`, `Engine::delete_many`): each
/// delete rewrites the segments that held them, so a batch shares one rewrite, and a bound
/// keeps one request from holding the store's write lock for long.
pub const MAX_DELETE_BATCH: usize = 1000;

/// A delete's count of CIDs, if within 1–[`MAX_DELETE_BATCH`].
///
/// # Errors
/// [`CoreError::DeleteBatch`] otherwise.
pub fn validate_delete_batch(count: usize) -> Result<(), CoreError> {
    if (1..=MAX_DELETE_BATCH).contains(&count) {
        Ok(())
    } else {
        Err(CoreError::DeleteBatch {
            max: MAX_DELETE_BATCH,
            got: count,
        })
    }
}

/// Longest time to live a private memory may ask for: a hundred years (in seconds). Public
/// memories are permanent and take none.
pub const MAX_TTL_S: u64 = 100 * 365 * 24 * 3600;

/// A private memory's `ttl_s` as the unix millisecond it expires at, counted from `now_ms`,
/// if it is within 1–[`MAX_TTL_S`] seconds and the memory is private (`public` false).
///
/// # Errors
/// [`CoreError::PublicIsPermanent`] for a public memory, [`CoreError::Ttl`] for a time
/// outside the range.
pub fn expiry_ms(ttl_s: u64, public: bool, now_ms: u64) -> Result<u64, CoreError> {
    if public {
        return Err(CoreError::PublicIsPermanent);
    }
    if !(1..=MAX_TTL_S).contains(&ttl_s) {
        return Err(CoreError::Ttl {
            max: MAX_TTL_S,
            got: ttl_s,
        });
    }
    Ok(now_ms.saturating_add(ttl_s * 1000))
}

/// A query's `top_k` (the wire carries a signed integer) as a count, if it is within
/// [`MIN_TOP_K`]–[`MAX_TOP_K`].
///
/// # Errors
/// [`CoreError::TopK`] otherwise.
pub fn validate_top_k(top_k: i64) -> Result<usize, CoreError> {
    if (MIN_TOP_K as i64..=MAX_TOP_K as i64).contains(&top_k) {
        Ok(top_k as usize)
    } else {
        Err(CoreError::TopK {
            min: MIN_TOP_K,
            max: MAX_TOP_K,
            got: top_k,
        })
    }
}

/// A listing's page: `limit` within 1–[`MAX_LIST_LIMIT`] and `offset` not negative.
///
/// # Errors
/// [`CoreError::ListPage`] otherwise.
pub fn validate_list_page(limit: i64, offset: i64) -> Result<(usize, usize), CoreError> {
    if (1..=MAX_LIST_LIMIT as i64).contains(&limit) && offset >= 0 {
        Ok((limit as usize, offset as usize))
    } else {
        Err(CoreError::ListPage {
            max: MAX_LIST_LIMIT,
            limit,
            offset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Boundary table: below, at and above each end of the range.
    #[test]
    fn top_k_boundaries() {
        for (top_k, ok) in [
            (i64::MIN, false),
            (-1, false),
            (0, false), // below MIN_TOP_K
            (1, true),  // MIN_TOP_K
            (2, true),
            (99, true),
            (100, true),  // MAX_TOP_K
            (101, false), // MAX_TOP_K + 1
            (i64::MAX, false),
        ] {
            assert_eq!(validate_top_k(top_k).is_ok(), ok, "top_k {top_k}");
        }
        let err = validate_top_k(101).unwrap_err().to_string();
        assert_eq!(err, "top_k must be between 1 and 100, got 101");
    }

    #[test]
    fn delete_batch_boundaries() {
        for (n, ok) in [
            (0, false),
            (1, true),
            (MAX_DELETE_BATCH, true),
            (1001, false),
        ] {
            assert_eq!(validate_delete_batch(n).is_ok(), ok, "{n} CIDs");
        }
        assert_eq!(
            validate_delete_batch(0).unwrap_err().to_string(),
            "a delete names 1 to 1000 memories, got 0"
        );
    }

    #[test]
    fn ttl_boundaries_and_public_permanence() {
        let now = 1_700_000_000_000;
        for (ttl, ok) in [
            (0, false),
            (1, true),
            (MAX_TTL_S, true),
            (MAX_TTL_S + 1, false),
            (u64::MAX, false),
        ] {
            assert_eq!(expiry_ms(ttl, false, now).is_ok(), ok, "ttl {ttl}");
        }
        assert_eq!(expiry_ms(60, false, now).unwrap(), now + 60_000);
        assert_eq!(
            expiry_ms(60, true, now).unwrap_err(),
            CoreError::PublicIsPermanent
        );
        assert_eq!(
            expiry_ms(0, false, now).unwrap_err().to_string(),
            format!("ttl_s must be between 1 and {MAX_TTL_S} seconds, got 0")
        );
    }

    #[test]
    fn list_page_boundaries() {
        for (limit, offset, ok) in [
            (0, 0, false),
            (1, 0, true),
            (200, 0, true),
            (201, 0, false),
            (50, -1, false),
            (50, i64::MAX, true),
            (-5, 0, false),
        ] {
            assert_eq!(
                validate_list_page(limit, offset).is_ok(),
                ok,
                "{limit} {offset}"
            );
        }
        assert_eq!(
            validate_list_page(201, 0).unwrap_err().to_string(),
            "limit must be between 1 and 200 and offset at least 0, got limit 201, offset 0"
        );
    }
}
