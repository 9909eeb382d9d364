//! Transaction tags, and the set Engram puts on every upload.
//!
//! Tags are the only part of an Arweave transaction that gateways index, so they are how an
//! upload is found again: `App-Name: Engram` selects Engram's uploads in a GraphQL query,
//! `Content-Hash` names the plaintext by the same `sha256:<hex>` content CID Engram stores in its
//! memory metadata, and `Engram-CID` links the upload back to the memory. The names and the
//! `App-Name`/`App-Version` values are the original Engram's, so old and new uploads answer the
//! same queries.

use crate::error::{ArweaveError, Result};

/// `App-Name` of Engram uploads.
pub const APP_NAME: &str = "Engram";
/// `App-Version` of Engram uploads: the value the original Engram wrote.
pub const APP_VERSION: &str = "1.0";
/// Largest total of tag name and value bytes a format-2 transaction may carry.
pub const MAX_TAGS_BYTES: usize = 2048;

/// One tag: a UTF-8 name and value (base64url-encoded on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag {
    /// The tag name.
    pub name: String,
    /// The tag value.
    pub value: String,
}

impl Tag {
    /// A tag from a name and a value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// The tags of an Engram upload, in this order: `Content-Type`, `App-Name`, `App-Version`,
/// `Content-Hash`, `Engram-CID` (when given) and `Encrypted` (`true` or `false`).
///
/// `content_hash` is the SHA-256 of the *plaintext* either as 64 hex digits or already as the
/// content CID `sha256:<hex>`; hex is lowercased and prefixed. Anything else is kept as given,
/// so a caller's own content identifier is not rewritten. For encrypted uploads `content_type`
/// is what is uploaded (`application/octet-stream` for ciphertext), while the hash still names
/// the plaintext, as the original Engram did.
pub fn engram_tags(
    content_type: &str,
    content_hash: &str,
    engram_cid: Option<&str>,
    encrypted: bool,
) -> Vec<Tag> {
    let content_hash =
        if content_hash.len() == 64 && content_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            format!("sha256:{}", content_hash.to_ascii_lowercase())
        } else {
            content_hash.to_owned()
        };
    let mut tags = vec![
        Tag::new("Content-Type", content_type),
        Tag::new("App-Name", APP_NAME),
        Tag::new("App-Version", APP_VERSION),
        Tag::new("Content-Hash", content_hash),
    ];
    if let Some(cid) = engram_cid {
        tags.push(Tag::new("Engram-CID", cid));
    }
    tags.push(Tag::new(
        "Encrypted",
        if encrypted { "true" } else { "false" },
    ));
    tags
}

/// Checks the rules every node applies: a non-empty name on each tag and at most
/// [`MAX_TAGS_BYTES`] of names and values in all.
///
/// Empty values are allowed by mainnet; arlocal refuses them.
///
/// # Errors
/// [`ArweaveError::EmptyTagName`] or [`ArweaveError::TagsTooLarge`].
pub fn validate_tags(tags: &[Tag]) -> Result<()> {
    if let Some(index) = tags.iter().position(|tag| tag.name.is_empty()) {
        return Err(ArweaveError::EmptyTagName { index });
    }
    let size = tags
        .iter()
        .map(|tag| tag.name.len() + tag.value.len())
        .sum();
    if size > MAX_TAGS_BYTES {
        return Err(ArweaveError::TagsTooLarge {
            size,
            limit: MAX_TAGS_BYTES,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824";

    #[test]
    fn engram_tags_in_order() {
        let tags = engram_tags("image/png", HEX, Some("v1-abc"), false);
        let pairs: Vec<_> = tags
            .iter()
            .map(|t| (t.name.as_str(), t.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("Content-Type", "image/png"),
                ("App-Name", "Engram"),
                ("App-Version", "1.0"),
                ("Content-Hash", &*format!("sha256:{}", HEX.to_lowercase())),
                ("Engram-CID", "v1-abc"),
                ("Encrypted", "false"),
            ]
        );
    }

    #[test]
    fn a_content_cid_is_kept_and_the_engram_cid_is_optional() {
        let cid = format!("sha256:{}", HEX.to_lowercase());
        let tags = engram_tags("application/octet-stream", &cid, None, true);
        assert_eq!(tags.len(), 5);
        assert_eq!(tags[3], Tag::new("Content-Hash", cid));
        assert_eq!(tags[4], Tag::new("Encrypted", "true"));
    }

    #[test]
    fn tag_rules() {
        assert!(validate_tags(&engram_tags("text/plain", HEX, Some("x"), false)).is_ok());
        let err = validate_tags(&[Tag::new("a", "b"), Tag::new("", "c")]).unwrap_err();
        assert!(matches!(err, ArweaveError::EmptyTagName { index: 1 }));
        assert!(validate_tags(&[Tag::new("a", "")]).is_ok());
        let at_limit = [Tag::new("n", "v".repeat(MAX_TAGS_BYTES - 1))];
        assert!(validate_tags(&at_limit).is_ok());
        let over = [Tag::new("n", "v".repeat(MAX_TAGS_BYTES))];
        assert!(matches!(
            validate_tags(&over).unwrap_err(),
            ArweaveError::TagsTooLarge {
                size: 2049,
                limit: 2048
            }
        ));
    }
}
