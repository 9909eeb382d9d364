//! Format-2 Arweave transactions: what is signed, how, and the JSON a gateway accepts.
//!
//! The signature covers a deep hash ([`deep_hash()`]) of nine fields. Binary fields enter it as
//! their decoded bytes and the numbers (`format`, `quantity`, `reward`, `data_size`) as ASCII
//! decimal, so the JSON must carry exactly the strings that were hashed: a node rebuilds the list
//! from the posted JSON and a `"00"` where `"0"` was signed fails verification. Numbers are
//! therefore held as integers and written in canonical decimal, and JSON read back is refused
//! unless it is canonical too.
//!
//! The data itself is not signed; it is bound through `data_root` and `data_size` (see
//! [`merkle`]). Signing uses RSA-PSS with SHA-256 and a 32-byte salt, as the Arweave node does;
//! verification accepts the salt lengths arweave-js produces (32, 0 and the maximum).
//!
//! Layout:
//! - [`mod@deep_hash`]: the SHA-384 structure hash.
//! - [`merkle`]: chunking, `data_root` and `data_path` proofs.

pub mod deep_hash;
pub mod merkle;

use std::fmt;
use std::str::FromStr;

use rsa::pss::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::b64;
use crate::error::{ArweaveError, Result};
use crate::tags::Tag;
use crate::wallet::{PSS_SALT_LEN, Wallet, address_of};
use deep_hash::{DeepHashItem, deep_hash};
use merkle::DataLayout;

/// The RSA public exponent of every Arweave wallet.
const PUBLIC_EXPONENT: u32 = 65_537;

/// A transaction id: base64url of the SHA-256 of the signature, 43 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxId(String);

impl TxId {
    /// The id of a transaction with this signature.
    pub fn from_signature(signature: &[u8]) -> Self {
        Self(b64::encode(Sha256::digest(signature)))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for TxId {
    type Err = ArweaveError;

    /// Accepts 43 base64url characters that decode to 32 bytes.
    fn from_str(text: &str) -> Result<Self> {
        match b64::decode(text) {
            Ok(bytes) if bytes.len() == 32 && text.len() == 43 => Ok(Self(text.to_owned())),
            _ => Err(ArweaveError::InvalidTxId {
                value: text.chars().take(100).collect(),
            }),
        }
    }
}

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for TxId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A format-2 transaction header: no transfer, data bound by `data_root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    owner: Vec<u8>,
    target: Vec<u8>,
    quantity: u128,
    reward: u128,
    last_tx: Vec<u8>,
    tags: Vec<Tag>,
    data_size: u64,
    data_root: Vec<u8>,
    signature: Vec<u8>,
    id: Option<TxId>,
}

impl Transaction {
    /// An unsigned transaction storing the data laid out by `layout`, with `tags`, anchored at
    /// `last_tx` (from `GET /tx_anchor`) and paying `reward` winston (from `GET /price/{size}`).
    ///
    /// # Errors
    /// [`ArweaveError::FieldBase64`] when `last_tx` is not base64url.
    pub fn new(layout: &DataLayout, tags: Vec<Tag>, last_tx: &str, reward: u128) -> Result<Self> {
        Ok(Self {
            owner: Vec::new(),
            target: Vec::new(),
            quantity: 0,
            reward,
            last_tx: decode_field("last_tx", last_tx)?,
            tags,
            data_size: layout.data_size(),
            data_root: layout
                .data_root()
                .map(|root| root.to_vec())
                .unwrap_or_default(),
            signature: Vec::new(),
            id: None,
        })
    }

    /// Signs with `wallet`, which becomes the owner; sets and returns the id.
    ///
    /// # Errors
    /// [`ArweaveError::Signing`] if the RSA operation fails.
    pub fn sign(&mut self, wallet: &Wallet) -> Result<TxId> {
        self.sign_with_salt_len(wallet, PSS_SALT_LEN)
    }

    fn sign_with_salt_len(&mut self, wallet: &Wallet, salt_len: usize) -> Result<TxId> {
        self.owner = wallet.modulus().to_vec();
        let signature = wallet.sign_pss(&self.signature_message(), salt_len)?;
        let id = TxId::from_signature(&signature);
        self.id = Some(id.clone());
        self.signature = signature;
        Ok(id)
    }

    /// The 48-byte deep hash the signature covers.
    pub fn signature_message(&self) -> [u8; 48] {
        let format = b"2";
        let quantity = self.quantity.to_string();
        let reward = self.reward.to_string();
        let data_size = self.data_size.to_string();
        let tags = self
            .tags
            .iter()
            .map(|tag| {
                DeepHashItem::List(vec![
                    DeepHashItem::Blob(tag.name.as_bytes()),
                    DeepHashItem::Blob(tag.value.as_bytes()),
                ])
            })
            .collect();
        deep_hash(&DeepHashItem::List(vec![
            DeepHashItem::Blob(format),
            DeepHashItem::Blob(&self.owner),
            DeepHashItem::Blob(&self.target),
            DeepHashItem::Blob(quantity.as_bytes()),
            DeepHashItem::Blob(reward.as_bytes()),
            DeepHashItem::Blob(&self.last_tx),
            DeepHashItem::List(tags),
            DeepHashItem::Blob(data_size.as_bytes()),
            DeepHashItem::Blob(&self.data_root),
        ]))
    }

    /// Checks that the id is the SHA-256 of the signature and that the signature verifies
    /// against the owner's key.
    ///
    /// # Errors
    /// [`ArweaveError::Unsigned`], [`ArweaveError::IdMismatch`], [`ArweaveError::BadOwner`] or
    /// [`ArweaveError::BadSignature`].
    pub fn verify(&self) -> Result<()> {
        let id = self.id.as_ref().ok_or(ArweaveError::Unsigned)?;
        if self.signature.is_empty() {
            return Err(ArweaveError::Unsigned);
        }
        let actual = TxId::from_signature(&self.signature);
        if *id != actual {
            return Err(ArweaveError::IdMismatch {
                claimed: id.to_string(),
                actual,
            });
        }
        let key = RsaPublicKey::new(
            BigUint::from_bytes_be(&self.owner),
            BigUint::from(PUBLIC_EXPONENT),
        )
        .map_err(ArweaveError::BadOwner)?;
        // The node requires a signature exactly as long as the modulus.
        if self.signature.len() != self.owner.len() || self.owner.len() != key.size() {
            return Err(ArweaveError::BadSignature);
        }
        let signature = Signature::try_from(self.signature.as_slice())
            .map_err(|_| ArweaveError::BadSignature)?;
        let message = self.signature_message();
        // PSS verification here needs the salt length: try the ones signers use (the node and
        // webcrypto 32, deterministic fixtures 0, Node's default the maximum).
        let em_len = (key.n().bits() - 1).div_ceil(8);
        let max_salt = em_len.saturating_sub(32 + 2);
        let verifies = [PSS_SALT_LEN, 0, max_salt].into_iter().any(|salt_len| {
            VerifyingKey::<Sha256>::new_with_salt_len(key.clone(), salt_len)
                .verify(&message, &signature)
                .is_ok()
        });
        if verifies {
            Ok(())
        } else {
            Err(ArweaveError::BadSignature)
        }
    }

    /// The id, once signed.
    pub fn id(&self) -> Option<&TxId> {
        self.id.as_ref()
    }

    /// The tags.
    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }

    /// The owner (modulus `n`) in base64url; empty before signing.
    pub fn owner(&self) -> String {
        b64::encode(&self.owner)
    }

    /// The owner's wallet address; `None` before signing.
    pub fn owner_address(&self) -> Option<String> {
        (!self.owner.is_empty()).then(|| address_of(&self.owner))
    }

    /// The reward in winston.
    pub fn reward(&self) -> u128 {
        self.reward
    }

    /// Bytes of data.
    pub fn data_size(&self) -> u64 {
        self.data_size
    }

    /// The `data_root` bytes; empty when there is no data.
    pub fn data_root(&self) -> &[u8] {
        &self.data_root
    }

    /// The anchor (`last_tx`) bytes.
    pub fn last_tx(&self) -> &[u8] {
        &self.last_tx
    }

    /// The JSON body of `POST /tx`: with `data` inline when given, else with `"data": ""` for an
    /// upload by chunks.
    ///
    /// # Errors
    /// [`ArweaveError::Unsigned`], or [`ArweaveError::DataSizeMismatch`] when `data` is not
    /// `data_size` bytes.
    pub fn to_json(&self, data: Option<&[u8]>) -> Result<String> {
        let id = self.id.as_ref().ok_or(ArweaveError::Unsigned)?;
        if let Some(data) = data
            && data.len() as u64 != self.data_size
        {
            return Err(ArweaveError::DataSizeMismatch {
                expected: self.data_size,
                got: data.len() as u64,
            });
        }
        let wire = WireTx {
            format: 2,
            id: id.to_string(),
            last_tx: b64::encode(&self.last_tx),
            owner: b64::encode(&self.owner),
            tags: self
                .tags
                .iter()
                .map(|tag| WireTag {
                    name: b64::encode(&tag.name),
                    value: b64::encode(&tag.value),
                })
                .collect(),
            target: b64::encode(&self.target),
            quantity: self.quantity.to_string(),
            data: data.map(b64::encode).unwrap_or_default(),
            data_size: self.data_size.to_string(),
            data_root: b64::encode(&self.data_root),
            reward: self.reward.to_string(),
            signature: b64::encode(&self.signature),
        };
        Ok(serde_json::to_string(&wire).expect("a transaction always serializes"))
    }

    /// Reads a transaction as `GET /tx/{id}` returns it. Members a gateway adds (`block`,
    /// `owner_address`, ...) and the `data` member are ignored.
    ///
    /// # Errors
    /// [`ArweaveError::TxJson`], [`ArweaveError::UnsupportedFormat`], or the field error of the
    /// first field that does not decode.
    pub fn from_json(json: &str) -> Result<Self> {
        let wire: WireTx = serde_json::from_str(json).map_err(ArweaveError::TxJson)?;
        if wire.format != 2 {
            return Err(ArweaveError::UnsupportedFormat {
                format: wire.format,
            });
        }
        let tags = wire
            .tags
            .iter()
            .enumerate()
            .map(|(index, tag)| {
                let text = |part, value: &str| {
                    String::from_utf8(decode_field("tags", value)?).map_err(|source| {
                        ArweaveError::TagNotUtf8 {
                            index,
                            part,
                            source,
                        }
                    })
                };
                Ok(Tag::new(
                    text("name", &tag.name)?,
                    text("value", &tag.value)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let signature = decode_field("signature", &wire.signature)?;
        let id = if wire.id.is_empty() {
            None
        } else {
            Some(wire.id.parse()?)
        };
        Ok(Self {
            owner: decode_field("owner", &wire.owner)?,
            target: decode_field("target", &wire.target)?,
            quantity: decimal("quantity", &wire.quantity)?,
            reward: decimal("reward", &wire.reward)?,
            last_tx: decode_field("last_tx", &wire.last_tx)?,
            tags,
            data_size: decimal("data_size", &wire.data_size)?,
            data_root: decode_field("data_root", &wire.data_root)?,
            signature,
            id,
        })
    }
}

/// The transaction as JSON on the wire: every binary field base64url, every number a string
/// except `format`.
#[derive(Serialize, Deserialize)]
struct WireTx {
    format: u64,
    id: String,
    last_tx: String,
    owner: String,
    // Always written: arlocal crashes on a transaction without `tags`.
    tags: Vec<WireTag>,
    target: String,
    quantity: String,
    #[serde(default)]
    data: String,
    data_size: String,
    data_root: String,
    reward: String,
    signature: String,
}

#[derive(Serialize, Deserialize)]
struct WireTag {
    name: String,
    value: String,
}

fn decode_field(field: &'static str, text: &str) -> Result<Vec<u8>> {
    b64::decode(text).map_err(|source| ArweaveError::FieldBase64 { field, source })
}

/// Parses a canonical decimal: digits only, no sign, no leading zero unless it is `"0"`.
fn decimal<T: FromStr>(field: &'static str, text: &str) -> Result<T> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    let invalid = || ArweaveError::FieldDecimal {
        field,
        value: text.chars().take(40).collect(),
    };
    if !canonical {
        return Err(invalid());
    }
    text.parse().map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::engram_tags;

    const FIXTURE: &str = include_str!("../tests/vectors/signed_v2_tx.json");
    const MERKLE: &str = include_str!("../tests/vectors/merkle.json");

    fn fixture() -> serde_json::Value {
        serde_json::from_str(FIXTURE).unwrap()
    }

    /// The fixture transaction rebuilt from its fields: its data is 2.8 MB of random bytes, so
    /// the data_root comes from the data's chunk hashes in merkle.json.
    fn fixture_transaction() -> (Transaction, Wallet, serde_json::Value) {
        let vector = fixture();
        let wallet = Wallet::from_jwk(&vector["jwk"].to_string()).unwrap();
        let merkle: serde_json::Value = serde_json::from_str(MERKLE).unwrap();
        let entry = merkle["from_leaf_hashes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == vector["data_leaf_hashes_entry"])
            .unwrap();
        let leaves: Vec<merkle::Leaf> = entry["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| merkle::Leaf {
                data_hash: hex::decode(c["sha256"].as_str().unwrap())
                    .unwrap()
                    .try_into()
                    .unwrap(),
                end: c["end"].as_u64().unwrap(),
            })
            .collect();
        let root = merkle::build_tree(&leaves).unwrap().root;
        let tx_json = &vector["tx"];
        assert_eq!(b64::encode(root), tx_json["data_root"].as_str().unwrap());
        let tx = Transaction {
            owner: Vec::new(),
            target: Vec::new(),
            quantity: 0,
            reward: tx_json["reward"].as_str().unwrap().parse().unwrap(),
            last_tx: Vec::new(),
            tags: Vec::new(),
            data_size: tx_json["data_size"].as_str().unwrap().parse().unwrap(),
            data_root: root.to_vec(),
            signature: Vec::new(),
            id: None,
        };
        (tx, wallet, vector)
    }

    /// arweave-js "should support format=2 transaction signing": with salt length 0 the
    /// signature is deterministic and must equal the fixture's byte for byte.
    #[test]
    fn signs_the_arweave_js_fixture_exactly() {
        let (mut tx, wallet, vector) = fixture_transaction();
        tx.owner = wallet.modulus().to_vec();
        assert_eq!(
            hex::encode(tx.signature_message()),
            vector["expected_deep_hash_hex"].as_str().unwrap()
        );
        tx.sign_with_salt_len(&wallet, 0).unwrap();
        assert_eq!(
            b64::encode(&tx.signature),
            vector["tx"]["signature"].as_str().unwrap()
        );
        assert_eq!(
            tx.id().unwrap().as_str(),
            vector["expected_id"].as_str().unwrap()
        );
        tx.verify().unwrap();
    }

    /// The same fixture read from its JSON, with the key nowhere in sight: only the public
    /// owner verifies the signature. Its stale id is reported as such.
    #[test]
    fn verifies_the_fixture_json_and_spots_its_stale_id() {
        let vector = fixture();
        let mut tx = Transaction::from_json(&vector["tx"].to_string()).unwrap();
        let err = tx.verify().unwrap_err();
        assert!(matches!(err, ArweaveError::IdMismatch { .. }), "{err}");
        tx.id = Some(vector["expected_id"].as_str().unwrap().parse().unwrap());
        tx.verify().unwrap();
        assert_eq!(
            tx.owner_address().unwrap(),
            vector["address"].as_str().unwrap()
        );
        assert_eq!(
            hex::encode(tx.signature_message()),
            vector["expected_deep_hash_hex"].as_str().unwrap()
        );
    }

    #[test]
    fn sign_verify_and_json_round_trip() {
        let (_, wallet, _) = fixture_transaction();
        let data = b"hello engram".to_vec();
        let layout = DataLayout::new(&data);
        let tags = engram_tags(
            "text/plain",
            &hex::encode(Sha256::digest(&data)),
            None,
            false,
        );
        let anchor = "a".repeat(64); // arlocal's anchors: 64 lowercase alphanumerics
        let mut tx = Transaction::new(&layout, tags.clone(), &anchor, 787_146).unwrap();
        assert!(matches!(
            tx.to_json(None).unwrap_err(),
            ArweaveError::Unsigned
        ));
        tx.sign(&wallet).unwrap();
        tx.verify().unwrap();

        let json = tx.to_json(Some(&data)).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["format"], 2);
        assert_eq!(value["owner"], wallet.owner());
        assert_eq!(value["target"], "");
        assert_eq!(value["quantity"], "0");
        assert_eq!(value["reward"], "787146");
        assert_eq!(value["data_size"], "12");
        assert_eq!(value["last_tx"], anchor);
        assert_eq!(value["data"], b64::encode(&data));
        assert_eq!(value["tags"][1]["name"], b64::encode("App-Name"));
        assert_eq!(value["tags"][1]["value"], b64::encode("Engram"));
        assert_eq!(value["signature"].as_str().unwrap().len(), 683, "512 bytes");

        let back = Transaction::from_json(&json).unwrap();
        assert_eq!(back, tx);
        assert_eq!(back.tags(), tags);
        back.verify().unwrap();

        let chunked: serde_json::Value = serde_json::from_str(&tx.to_json(None).unwrap()).unwrap();
        assert_eq!(chunked["data"], "");
        assert!(matches!(
            tx.to_json(Some(b"short")).unwrap_err(),
            ArweaveError::DataSizeMismatch {
                expected: 12,
                got: 5
            }
        ));
    }

    #[test]
    fn tampering_breaks_the_signature() {
        let (_, wallet, _) = fixture_transaction();
        let layout = DataLayout::new(b"payload");
        let mut tx = Transaction::new(&layout, vec![Tag::new("a", "b")], "", 1).unwrap();
        tx.sign(&wallet).unwrap();
        let json = tx.to_json(None).unwrap();
        for (field, value) in [
            ("reward", serde_json::json!("2")),
            ("data_size", serde_json::json!("8")),
            ("tags", serde_json::json!([{"name": "YQ", "value": "Yw"}])),
        ] {
            let mut tampered: serde_json::Value = serde_json::from_str(&json).unwrap();
            tampered[field] = value;
            let tx = Transaction::from_json(&tampered.to_string()).unwrap();
            assert!(
                matches!(tx.verify(), Err(ArweaveError::BadSignature)),
                "{field}"
            );
        }
    }

    #[test]
    fn empty_data_signs_an_empty_root() {
        let layout = DataLayout::new(b"");
        let tx = Transaction::new(&layout, Vec::new(), "", 0).unwrap();
        assert!(tx.data_root().is_empty());
        assert_eq!(tx.data_size(), 0);
    }

    #[test]
    fn non_canonical_numbers_are_refused() {
        assert_eq!(decimal::<u128>("reward", "0").unwrap(), 0);
        assert_eq!(decimal::<u64>("data_size", "2883584").unwrap(), 2_883_584);
        for bad in ["", "00", "01", "-1", "1.0", " 1", "1e3"] {
            assert!(
                matches!(
                    decimal::<u128>("reward", bad),
                    Err(ArweaveError::FieldDecimal { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn tx_ids_are_checked() {
        let id = "YYsecjlH5ymDGTRWWP9xFJzoPrQCxzaRsuC1xGoF2cA";
        assert_eq!(id.parse::<TxId>().unwrap().as_str(), id);
        for bad in ["", "short", &format!("{id}A"), &id.replace('Y', "+")] {
            assert!(bad.parse::<TxId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bad_anchors_are_refused() {
        let layout = DataLayout::new(b"x");
        let err = Transaction::new(&layout, Vec::new(), "not/base64url", 0).unwrap_err();
        assert!(matches!(
            err,
            ArweaveError::FieldBase64 {
                field: "last_tx",
                ..
            }
        ));
    }
}
