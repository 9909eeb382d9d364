//! Arweave's deep hash: the SHA-384 structure hash a format-2 transaction signature covers.
//!
//! A blob is hashed with a tag naming its length, a list folds its items' deep hashes into an
//! accumulator seeded with the item count. Both tags are ASCII (`blob<len>`, `list<count>`), so a
//! list can never hash like the concatenation of its items, and nesting is unambiguous.

use sha2::{Digest, Sha384};

/// A node of the structure to hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeepHashItem<'a> {
    /// A byte string.
    Blob(&'a [u8]),
    /// A list of items.
    List(Vec<DeepHashItem<'a>>),
}

/// The 48-byte deep hash of `item`.
pub fn deep_hash(item: &DeepHashItem<'_>) -> [u8; 48] {
    match item {
        DeepHashItem::Blob(bytes) => {
            let tag = sha384(format!("blob{}", bytes.len()).as_bytes());
            sha384_pair(&tag, &sha384(bytes))
        }
        DeepHashItem::List(items) => {
            let seed = sha384(format!("list{}", items.len()).as_bytes());
            items
                .iter()
                .fold(seed, |acc, item| sha384_pair(&acc, &deep_hash(item)))
        }
    }
}

fn sha384(bytes: &[u8]) -> [u8; 48] {
    Sha384::digest(bytes).into()
}

fn sha384_pair(first: &[u8; 48], second: &[u8; 48]) -> [u8; 48] {
    let mut hasher = Sha384::new();
    hasher.update(first);
    hasher.update(second);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::DeepHashItem::{Blob, List};
    use super::*;

    /// Spec §7 vectors, from an independent transcription checked against arweave-js.
    #[test]
    fn vectors() {
        let cases: [(DeepHashItem<'_>, &str); 5] = [
            (
                List(vec![]),
                "a69e7d37fdc7f040a9ec16aae84de24fab4a653dac4de0bd247e36bab9fe45d9289c5a04a893c95285812f5cefc9707a",
            ),
            (
                Blob(b""),
                "fbf00cc444f5fea9dc3bedf62a13fba8ae87e7445fc910567a23bec4eb82fadb1143c433069314d8362983dc3c2e4a38",
            ),
            (
                Blob(b"abc"),
                "71115a30152ebcffb6defbb643abc8ef76f01fe323f1d62340646085960f6e347cb2d8e9a46ddee655b3012c6131d4e0",
            ),
            (
                List(vec![Blob(b"a"), List(vec![Blob(b"b"), Blob(b"c")])]),
                "30bce0a753c170f214f57dd0244bc29c76526aea405cd8bff8af8301a7d10424e1c57f63ab4d55070b99f48f72a8c2e7",
            ),
            (
                List(vec![
                    List(vec![Blob(b"Content-Type"), Blob(b"text/plain")]),
                    List(vec![Blob(b"App-Name"), Blob(b"engram")]),
                ]),
                "7c5dd11bfc24d7a6dbb606b672547fa7e76e9045c7f442a50c3b4e81126b4589cddf2e6c7edd576c6cbf15d10a2bb84e",
            ),
        ];
        for (item, expected) in cases {
            assert_eq!(hex::encode(deep_hash(&item)), expected, "{item:?}");
        }
    }

    #[test]
    fn empty_list_is_sha384_of_list0() {
        assert_eq!(deep_hash(&List(vec![])), sha384(b"list0"));
    }

    #[test]
    fn nesting_changes_the_hash() {
        let flat = List(vec![Blob(b"a"), Blob(b"b")]);
        let nested = List(vec![List(vec![Blob(b"a"), Blob(b"b")])]);
        let joined = List(vec![Blob(b"ab")]);
        assert_ne!(deep_hash(&flat), deep_hash(&nested));
        assert_ne!(deep_hash(&flat), deep_hash(&joined));
    }
}
