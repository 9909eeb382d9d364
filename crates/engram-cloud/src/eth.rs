//! The few Ethereum pieces a payment gateway needs, written out instead of pulled in.
//!
//! x402 pays with an EIP-3009 `transferWithAuthorization` that the payer signs and the
//! gateway submits. Doing that takes Keccak-256, addresses with their EIP-55 checksum,
//! secp256k1 recovery (who signed a digest) and signing, the ABI words of one call, and a
//! legacy EIP-155 transaction in RLP. A full Ethereum library would be thousands of crates'
//! lines for these ~300; every byte here is checked against vectors computed with
//! independent implementations (eth_account, anvil) in the tests.
//!
//! Amounts are `u128`: USDC has 6 decimals, so that is 3·10³² dollars, and a value that
//! does not fit is refused rather than truncated.

use std::fmt;
use std::str::FromStr;

use k256::ecdsa::{RecoveryId, Signature as EcdsaSignature, SigningKey, VerifyingKey};
use sha3::{Digest, Keccak256};

use crate::CloudError;

/// Keccak-256 (Ethereum's hash; not NIST SHA3-256, whose padding differs).
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// A 20-byte account or contract address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The address of an uncompressed secp256k1 public key.
    fn of_key(key: &VerifyingKey) -> Self {
        let point = key.to_encoded_point(false);
        let hash = keccak256(&point.as_bytes()[1..]);
        let mut a = [0u8; 20];
        a.copy_from_slice(&hash[12..]);
        Address(a)
    }

    /// The address as a 32-byte ABI word (left-padded with zeros).
    pub fn word(&self) -> [u8; 32] {
        let mut w = [0u8; 32];
        w[12..].copy_from_slice(&self.0);
        w
    }
}

/// EIP-55: a hex letter is upper case when the matching nibble of the hash of the
/// lower-case hex is ≥ 8.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lower = hex::encode(self.0);
        let hash = keccak256(lower.as_bytes());
        f.write_str("0x")?;
        for (i, c) in lower.chars().enumerate() {
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0xf;
            let c = if c.is_ascii_alphabetic() && nibble >= 8 {
                c.to_ascii_uppercase()
            } else {
                c
            };
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `0x` and 40 hex digits. All lower or all upper case is taken as is; mixed case must be
/// the EIP-55 checksum, which catches a mistyped address.
impl FromStr for Address {
    type Err = CloudError;

    fn from_str(s: &str) -> Result<Self, CloudError> {
        let bad = |reason: &'static str| CloudError::BadAddress {
            address: s.to_string(),
            reason,
        };
        let digits = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .ok_or_else(|| bad("an address starts with 0x"))?;
        if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("an address is 40 hex digits"));
        }
        let mut a = [0u8; 20];
        hex::decode_to_slice(digits, &mut a).map_err(|_| bad("an address is 40 hex digits"))?;
        let address = Address(a);
        let mixed = digits.bytes().any(|b| b.is_ascii_lowercase())
            && digits.bytes().any(|b| b.is_ascii_uppercase());
        if mixed && address.to_string()[2..] != *digits {
            return Err(bad("mixed case that is not its EIP-55 checksum (a typo?)"));
        }
        Ok(address)
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A 32-byte big-endian ABI word of an unsigned integer.
pub fn word(v: u128) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[16..].copy_from_slice(&v.to_be_bytes());
    w
}

/// A 65-byte recoverable signature `r ‖ s ‖ v` as Ethereum wallets write it (v 27 or 28).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Signature {
    /// r.
    pub r: [u8; 32],
    /// s (at most half the group order: wallets normalize it, tokens require it).
    pub s: [u8; 32],
    /// 27 or 28.
    pub v: u8,
}

impl Signature {
    /// From `0x` and 130 hex digits. A v of 0 or 1 is read as 27 or 28, as wallets and the
    /// x402 facilitator do.
    ///
    /// # Errors
    /// [`CloudError::BadSignature`] for any other shape.
    pub fn from_hex(s: &str) -> Result<Self, CloudError> {
        let bad = |reason: &'static str| CloudError::BadSignature { reason };
        let raw = hex::decode(s.strip_prefix("0x").unwrap_or(s))
            .map_err(|_| bad("a signature is 0x and hex"))?;
        let raw: [u8; 65] = raw.try_into().map_err(|_| {
            bad("a signature is 65 bytes (r, s, v); contract wallets are not accepted")
        })?;
        let v = match raw[64] {
            0 | 1 => raw[64] + 27,
            27 | 28 => raw[64],
            _ => return Err(bad("v must be 27 or 28")),
        };
        let (mut r, mut s) = ([0u8; 32], [0u8; 32]);
        r.copy_from_slice(&raw[..32]);
        s.copy_from_slice(&raw[32..64]);
        Ok(Signature { r, s, v })
    }

    /// `0x` and 130 hex digits.
    pub fn to_hex(&self) -> String {
        let mut raw = Vec::with_capacity(65);
        raw.extend_from_slice(&self.r);
        raw.extend_from_slice(&self.s);
        raw.push(self.v);
        format!("0x{}", hex::encode(raw))
    }

    /// Who signed `digest`. A high s is refused (the token contract would refuse it too, and
    /// it is the malleable twin of a valid signature).
    ///
    /// # Errors
    /// [`CloudError::BadSignature`] when no key recovers.
    pub fn recover(&self, digest: &[u8; 32]) -> Result<Address, CloudError> {
        let bad = |reason: &'static str| CloudError::BadSignature { reason };
        let mut rs = [0u8; 64];
        rs[..32].copy_from_slice(&self.r);
        rs[32..].copy_from_slice(&self.s);
        let sig = EcdsaSignature::from_slice(&rs).map_err(|_| bad("r or s out of range"))?;
        if sig.normalize_s().is_some() {
            return Err(bad("s is in the upper half of the curve order (malleable)"));
        }
        let id = self
            .v
            .checked_sub(27)
            .and_then(RecoveryId::from_byte)
            .ok_or_else(|| bad("v must be 27 or 28"))?;
        let key = VerifyingKey::recover_from_prehash(digest, &sig, id)
            .map_err(|_| bad("no public key recovers from it"))?;
        Ok(Address::of_key(&key))
    }
}

/// A secp256k1 private key: the gateway's, which pays the gas of settlements.
#[derive(Clone)]
pub struct Wallet {
    key: SigningKey,
}

impl fmt::Debug for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wallet")
            .field("address", &self.address())
            .finish_non_exhaustive()
    }
}

impl Wallet {
    /// From 32 bytes of hex, with or without `0x`.
    ///
    /// # Errors
    /// [`CloudError::BadPrivateKey`] for anything else or a value outside the curve order.
    pub fn from_hex(s: &str) -> Result<Self, CloudError> {
        let raw = hex::decode(s.trim().strip_prefix("0x").unwrap_or(s.trim()))
            .map_err(|_| CloudError::BadPrivateKey)?;
        let key = SigningKey::from_slice(&raw).map_err(|_| CloudError::BadPrivateKey)?;
        Ok(Wallet { key })
    }

    /// Its address.
    pub fn address(&self) -> Address {
        Address::of_key(self.key.verifying_key())
    }

    /// Signs a 32-byte digest (RFC 6979, low s).
    pub fn sign(&self, digest: &[u8; 32]) -> Signature {
        let (sig, id) = self
            .key
            .sign_prehash_recoverable(digest)
            .expect("a 32-byte prehash always signs");
        let (sig, id) = match sig.normalize_s() {
            Some(low) => (
                low,
                RecoveryId::from_byte(id.to_byte() ^ 1).expect("0 or 1"),
            ),
            None => (sig, id),
        };
        let bytes = sig.to_bytes();
        let (mut r, mut s) = ([0u8; 32], [0u8; 32]);
        r.copy_from_slice(&bytes[..32]);
        s.copy_from_slice(&bytes[32..]);
        Signature {
            r,
            s,
            v: 27 + (id.to_byte() & 1),
        }
    }
}

/// RLP of a byte string.
fn rlp_bytes(out: &mut Vec<u8>, b: &[u8]) {
    if b.len() == 1 && b[0] < 0x80 {
        out.push(b[0]);
    } else {
        rlp_length(out, b.len(), 0x80);
        out.extend_from_slice(b);
    }
}

/// RLP of an unsigned integer: its minimal big-endian bytes (zero is the empty string).
fn rlp_uint(out: &mut Vec<u8>, v: u128) {
    let bytes = v.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    rlp_bytes(out, &bytes[first..]);
}

fn rlp_length(out: &mut Vec<u8>, len: usize, offset: u8) {
    if len < 56 {
        out.push(offset + len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(7);
        out.push(offset + 55 + (8 - first) as u8);
        out.extend_from_slice(&bytes[first..]);
    }
}

fn rlp_list(items: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.len() + 9);
    rlp_length(&mut out, items.len(), 0xc0);
    out.extend_from_slice(items);
    out
}

/// A legacy (type 0) transaction with EIP-155 replay protection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The sender's next nonce.
    pub nonce: u64,
    /// Wei per gas.
    pub gas_price: u128,
    /// Gas limit.
    pub gas: u64,
    /// The contract (or account).
    pub to: Address,
    /// Wei sent along (0 for a token call).
    pub value: u128,
    /// Calldata.
    pub data: Vec<u8>,
}

impl Call {
    fn fields(&self, out: &mut Vec<u8>) {
        rlp_uint(out, self.nonce.into());
        rlp_uint(out, self.gas_price);
        rlp_uint(out, self.gas.into());
        rlp_bytes(out, &self.to.0);
        rlp_uint(out, self.value);
        rlp_bytes(out, &self.data);
    }

    /// The signed raw transaction for `chain_id` (what `eth_sendRawTransaction` takes) and
    /// its hash (what the chain calls it).
    pub fn sign(&self, chain_id: u64, wallet: &Wallet) -> (Vec<u8>, [u8; 32]) {
        let mut unsigned = Vec::new();
        self.fields(&mut unsigned);
        rlp_uint(&mut unsigned, chain_id.into());
        rlp_uint(&mut unsigned, 0);
        rlp_uint(&mut unsigned, 0);
        let sig = wallet.sign(&keccak256(&rlp_list(&unsigned)));
        let mut signed = Vec::new();
        self.fields(&mut signed);
        rlp_uint(
            &mut signed,
            u128::from(sig.v - 27) + 35 + 2 * u128::from(chain_id),
        );
        rlp_bytes(&mut signed, strip_zeros(&sig.r));
        rlp_bytes(&mut signed, strip_zeros(&sig.s));
        let raw = rlp_list(&signed);
        let hash = keccak256(&raw);
        (raw, hash)
    }
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[first..]
}

/// The first four bytes of the Keccak-256 of a function's signature.
pub fn selector(signature: &str) -> [u8; 4] {
    let h = keccak256(signature.as_bytes());
    [h[0], h[1], h[2], h[3]]
}

/// Calldata: a selector and its static arguments as 32-byte words.
pub fn calldata(signature: &str, words: &[[u8; 32]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 32 * words.len());
    out.extend_from_slice(&selector(signature));
    for w in words {
        out.extend_from_slice(w);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANVIL_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    #[test]
    fn keccak_and_selectors_match_ethereum() {
        assert_eq!(
            hex::encode(keccak256(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
        assert_eq!(
            hex::encode(selector("transfer(address,uint256)")),
            "a9059cbb"
        );
        assert_eq!(
            hex::encode(selector(
                "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"
            )),
            "e3ee160e"
        );
        assert_eq!(
            hex::encode(selector("authorizationState(address,bytes32)")),
            "e94a0102"
        );
    }

    #[test]
    fn addresses_derive_and_checksum_like_wallets() {
        let w = Wallet::from_hex(ANVIL_0).unwrap();
        assert_eq!(
            w.address().to_string(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
        for ok in [
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
            "0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266",
        ] {
            assert_eq!(ok.parse::<Address>().unwrap(), w.address(), "{ok}");
        }
        for bad in [
            "",
            "0x",
            "f39fd6e51aad88f6f4ce6ab8827279cfffb92266",
            "0xf39fd6e51aad88f6f4ce6ab8827279cfffb9226",
            "0xf39fd6e51aad88f6f4ce6ab8827279cfffb922666",
            "0xg39fd6e51aad88f6f4ce6ab8827279cfffb92266",
            "0xF39fd6e51aad88F6F4ce6aB8827279cffFb92266",
        ] {
            assert!(bad.parse::<Address>().is_err(), "{bad:?} parsed");
        }
        let json = serde_json::to_string(&w.address()).unwrap();
        assert_eq!(serde_json::from_str::<Address>(&json).unwrap(), w.address());
    }

    #[test]
    fn signatures_round_trip_and_refuse_malleable_or_malformed() {
        let w = Wallet::from_hex(ANVIL_0).unwrap();
        let digest = keccak256(b"engram");
        let sig = w.sign(&digest);
        assert!(sig.v == 27 || sig.v == 28);
        assert_eq!(sig.recover(&digest).unwrap(), w.address());
        let parsed = Signature::from_hex(&sig.to_hex()).unwrap();
        assert_eq!(parsed, sig);
        // v written as 0/1 is the same signature.
        let mut raw = hex::decode(&sig.to_hex()[2..]).unwrap();
        raw[64] -= 27;
        assert_eq!(Signature::from_hex(&hex::encode(&raw)).unwrap(), sig);
        // The high-s twin recovers the same key on paper; it is refused.
        let n = hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
            .unwrap();
        let mut high = sig;
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = i16::from(n[i]) - i16::from(sig.s[i]) - borrow;
            high.s[i] = d.rem_euclid(256) as u8;
            borrow = i16::from(d < 0);
        }
        high.v = if sig.v == 27 { 28 } else { 27 };
        assert!(matches!(
            high.recover(&digest),
            Err(CloudError::BadSignature { .. })
        ));
        // A different digest recovers someone else.
        assert_ne!(sig.recover(&keccak256(b"other")).unwrap(), w.address());
        for bad in [
            "",
            "0x00",
            &format!("{}00", sig.to_hex()),
            &sig.to_hex().replace("0x", "0xzz"),
        ] {
            assert!(Signature::from_hex(bad).is_err(), "{bad:?}");
        }
        let mut v29 = raw.clone();
        v29[64] = 29;
        assert!(Signature::from_hex(&hex::encode(v29)).is_err());
    }

    #[test]
    fn rlp_lengths_at_their_boundaries() {
        let enc = |b: &[u8]| {
            let mut o = Vec::new();
            rlp_bytes(&mut o, b);
            o
        };
        assert_eq!(enc(&[]), [0x80]);
        assert_eq!(enc(&[0x7f]), [0x7f]);
        assert_eq!(enc(&[0x80]), [0x81, 0x80]);
        assert_eq!(enc(&[1; 55])[0], 0xb7);
        assert_eq!(enc(&[1; 56])[..2], [0xb8, 56]);
        assert_eq!(enc(&[1; 256])[..3], [0xb9, 1, 0]);
        let mut o = Vec::new();
        rlp_uint(&mut o, 0);
        rlp_uint(&mut o, 1024);
        assert_eq!(o, [0x80, 0x82, 0x04, 0x00]);
        assert_eq!(rlp_list(&[]), [0xc0]);
    }

    /// EIP-155's own example: nonce 9, 20 gwei, 21000 gas, to 0x3535…35, 1 ether, chain 1,
    /// key 0x4646…46.
    #[test]
    fn legacy_transactions_sign_as_eip155_says() {
        let w = Wallet::from_hex(&"46".repeat(32)).unwrap();
        let call = Call {
            nonce: 9,
            gas_price: 20_000_000_000,
            gas: 21_000,
            to: Address([0x35; 20]),
            value: 1_000_000_000_000_000_000,
            data: vec![],
        };
        let (raw, hash) = call.sign(1, &w);
        assert_eq!(
            hex::encode(&raw),
            "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
        );
        assert_eq!(hash, keccak256(&raw));

        let long = Call {
            data: vec![0xab; 292],
            ..call
        };
        let (raw, _) = long.sign(31_337, &w);
        assert_eq!(raw[0], 0xf9, "a list longer than 255 bytes");
    }
}
