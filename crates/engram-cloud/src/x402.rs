//! x402: HTTP 402 payments, the `exact` scheme on EVM chains (EIP-3009 USDC).
//!
//! A paid endpoint answers 402 with what it wants (asset, amount, recipient, chain,
//! timeout); the client signs an EIP-3009 `transferWithAuthorization` for exactly that and
//! repeats the request with the signed authorization in a header; the server checks it,
//! submits it to the token contract (which moves the funds and burns the nonce) and answers
//! with the transaction in a response header. The payer needs no gas and no account with
//! the server; the server never holds the payer's key.
//!
//! Both wire generations are spoken, because clients in the field speak both:
//! - **v2**: requirements base64-JSON in the `PAYMENT-REQUIRED` header, the payment in
//!   `PAYMENT-SIGNATURE`, the settlement in `PAYMENT-RESPONSE`; networks are CAIP-2
//!   (`eip155:8453`).
//! - **v1**: requirements in the 402 JSON body, the payment in `X-PAYMENT`, the settlement
//!   in `X-PAYMENT-RESPONSE`; networks are names (`base`, `base-sepolia`), so v1 is offered
//!   only on chains that have one.
//!
//! A 402 carries both: the header for v2 clients and the body for v1 clients (the official
//! client reads the header when there is one). Field names, encodings and refusal reasons
//! are the official `x402` package's (2.25); its Python client is the payer in the tests.
//!
//! This module is pure: it builds requirements, decodes payments and checks everything that
//! can be checked without the chain (shape, scheme, network, asset, recipient, amount,
//! validity window, EIP-712 signature). Balance, nonce state and settlement are the
//! gateway's, against the chain.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::CloudError;
use crate::eth::{Address, Signature, calldata, keccak256, word};

/// The only scheme offered: pay exactly the amount asked.
pub const SCHEME: &str = "exact";
/// v2's requirements header.
pub const PAYMENT_REQUIRED: &str = "PAYMENT-REQUIRED";
/// v2's payment header.
pub const PAYMENT_SIGNATURE: &str = "PAYMENT-SIGNATURE";
/// v2's settlement header.
pub const PAYMENT_RESPONSE: &str = "PAYMENT-RESPONSE";
/// v1's payment header.
pub const X_PAYMENT: &str = "X-PAYMENT";
/// v1's settlement header.
pub const X_PAYMENT_RESPONSE: &str = "X-PAYMENT-RESPONSE";
/// The margin the official facilitator keeps before `validBefore`: time to settle.
pub const SETTLE_MARGIN_S: u64 = 6;
/// The largest payment header read, in bytes (a real one is about 1 KiB).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// v1's network names, for the chains that have one (x402's `V1_NETWORK_CHAIN_IDS`).
const V1_NETWORKS: [(&str, u64); 6] = [
    ("base", 8453),
    ("base-sepolia", 84_532),
    ("avalanche", 43_114),
    ("avalanche-fuji", 43_113),
    ("polygon", 137),
    ("polygon-amoy", 80_002),
];

/// The wire generation of a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `X-PAYMENT`, named networks.
    V1,
    /// `PAYMENT-SIGNATURE`, CAIP-2 networks.
    V2,
}

impl Version {
    /// The header the settlement goes back in.
    pub fn response_header(self) -> &'static str {
        match self {
            Version::V1 => X_PAYMENT_RESPONSE,
            Version::V2 => PAYMENT_RESPONSE,
        }
    }

    fn number(self) -> u64 {
        match self {
            Version::V1 => 1,
            Version::V2 => 2,
        }
    }
}

/// Why a payment is refused, with x402's reason code (what the client sees as
/// `errorReason`, and the 402's `error`): the official package's code where it defines one
/// (`x402/mechanisms/evm/constants.py`), else the spec's (v2 §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not base64 JSON of a payment payload, or a field missing or malformed.
    InvalidPayload,
    /// An `x402Version` other than the header's.
    InvalidVersion,
    /// A scheme other than `exact`.
    UnsupportedScheme,
    /// Another chain than the one offered.
    InvalidNetwork,
    /// The v2 `accepted` requirement is not the one offered (asset, amount, recipient…).
    RequirementsMismatch,
    /// Paid to someone else.
    RecipientMismatch,
    /// Not exactly the amount asked.
    ValueMismatch,
    /// `validAfter` is still in the future.
    NotYetValid,
    /// `validBefore` has passed, or leaves no time to settle.
    Expired,
    /// The signature does not recover `from`.
    InvalidSignature,
    /// This authorization was used already (here or on the chain).
    NonceUsed,
    /// The payer's balance is below the amount.
    InsufficientFunds,
    /// The token contract would revert the transfer (found by simulating it).
    SimulationFailed,
    /// The chain did not take the transfer.
    SettlementFailed,
    /// The transaction succeeded without the expected transfer.
    TransferMismatch,
    /// Sent, not seen mined yet: the funds may still move.
    SettlementPending,
}

impl Refusal {
    /// x402's reason code.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::InvalidPayload => "invalid_payload",
            Refusal::InvalidVersion => "invalid_x402_version",
            Refusal::UnsupportedScheme => "unsupported_scheme",
            Refusal::InvalidNetwork => "network_mismatch",
            Refusal::RequirementsMismatch => "invalid_payment_requirements",
            Refusal::RecipientMismatch => "invalid_exact_evm_payload_recipient_mismatch",
            Refusal::ValueMismatch => "invalid_exact_evm_payload_authorization_value_mismatch",
            Refusal::NotYetValid => "invalid_exact_evm_payload_authorization_valid_after",
            Refusal::Expired => "invalid_exact_evm_payload_authorization_valid_before",
            Refusal::InvalidSignature => "invalid_exact_evm_payload_signature",
            Refusal::NonceUsed => "invalid_exact_evm_nonce_already_used",
            Refusal::InsufficientFunds => "invalid_exact_evm_insufficient_balance",
            Refusal::SimulationFailed => "invalid_exact_evm_transaction_simulation_failed",
            Refusal::SettlementFailed => "transaction_failed",
            Refusal::TransferMismatch => "invalid_exact_evm_transfer_event_mismatch",
            Refusal::SettlementPending => "settlement_pending",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The network's v1 name, if it has one.
pub fn v1_network(chain_id: u64) -> Option<&'static str> {
    V1_NETWORKS
        .iter()
        .find(|(_, id)| *id == chain_id)
        .map(|(name, _)| *name)
}

/// `eip155:<chain id>`.
pub fn caip2(chain_id: u64) -> String {
    format!("eip155:{chain_id}")
}

/// The chain id a v1 name or a CAIP-2 network stands for.
pub fn chain_id_of(network: &str) -> Option<u64> {
    if let Some(id) = network.strip_prefix("eip155:") {
        return id.parse().ok();
    }
    V1_NETWORKS
        .iter()
        .find(|(name, _)| *name == network)
        .map(|(_, id)| *id)
}

/// The EIP-3009 token payments are made in, as its EIP-712 domain names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Chain id.
    pub chain_id: u64,
    /// The token contract.
    pub address: Address,
    /// EIP-712 domain name (`USD Coin` for Circle's USDC).
    pub name: String,
    /// EIP-712 domain version (`2` for Circle's USDC).
    pub version: String,
}

impl Token {
    /// Its EIP-712 domain separator (what its `DOMAIN_SEPARATOR()` must return).
    pub fn domain_separator(&self) -> [u8; 32] {
        let typehash = keccak256(
            b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
        );
        let mut enc = Vec::with_capacity(160);
        enc.extend_from_slice(&typehash);
        enc.extend_from_slice(&keccak256(self.name.as_bytes()));
        enc.extend_from_slice(&keccak256(self.version.as_bytes()));
        enc.extend_from_slice(&word(self.chain_id.into()));
        enc.extend_from_slice(&self.address.word());
        keccak256(&enc)
    }
}

/// An EIP-3009 transfer authorization: `from` lets anyone move `value` to `to` once
/// (`nonce`), between `valid_after` and `valid_before` (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorization {
    /// Payer.
    pub from: Address,
    /// Recipient.
    pub to: Address,
    /// Amount in the token's smallest unit.
    pub value: u128,
    /// Not valid at or before this second.
    pub valid_after: u64,
    /// Not valid at or after this second.
    pub valid_before: u64,
    /// 32 random bytes, single use per payer.
    pub nonce: [u8; 32],
}

impl Authorization {
    /// The EIP-712 digest the payer signs for `token`.
    pub fn digest(&self, token: &Token) -> [u8; 32] {
        let typehash = keccak256(
            b"TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)",
        );
        let mut enc = Vec::with_capacity(224);
        enc.extend_from_slice(&typehash);
        enc.extend_from_slice(&self.from.word());
        enc.extend_from_slice(&self.to.word());
        enc.extend_from_slice(&word(self.value));
        enc.extend_from_slice(&word(self.valid_after.into()));
        enc.extend_from_slice(&word(self.valid_before.into()));
        enc.extend_from_slice(&self.nonce);
        let mut msg = Vec::with_capacity(66);
        msg.extend_from_slice(b"\x19\x01");
        msg.extend_from_slice(&token.domain_separator());
        msg.extend_from_slice(&keccak256(&enc));
        keccak256(&msg)
    }

    /// Calldata of `transferWithAuthorization(from,to,value,validAfter,validBefore,nonce,v,r,s)`.
    pub fn transfer_calldata(&self, sig: &Signature) -> Vec<u8> {
        calldata(
            "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)",
            &[
                self.from.word(),
                self.to.word(),
                word(self.value),
                word(self.valid_after.into()),
                word(self.valid_before.into()),
                self.nonce,
                word(sig.v.into()),
                sig.r,
                sig.s,
            ],
        )
    }

    /// Calldata of `authorizationState(from, nonce)`: whether the nonce is used.
    pub fn state_calldata(&self) -> Vec<u8> {
        calldata(
            "authorizationState(address,bytes32)",
            &[self.from.word(), self.nonce],
        )
    }
}

/// Calldata of `balanceOf(who)`.
pub fn balance_calldata(who: Address) -> Vec<u8> {
    calldata("balanceOf(address)", &[who.word()])
}

/// What a paid request costs: one offer, in both wire generations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The token and its chain.
    pub token: Token,
    /// Who is paid.
    pub pay_to: Address,
    /// Exactly this much, in the token's smallest unit.
    pub amount: u128,
    /// How long a signed payment stays good for.
    pub max_timeout_s: u64,
    /// The URL paid for.
    pub resource: String,
    /// What is paid for, for people.
    pub description: String,
}

/// A payment that passed every check that needs no chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The wire generation it came in.
    pub version: Version,
    /// The authorization.
    pub authorization: Authorization,
    /// The payer's signature of it.
    pub signature: Signature,
}

impl Offer {
    fn extra(&self) -> Value {
        json!({"name": self.token.name, "version": self.token.version})
    }

    /// The v2 requirement (one entry of `accepts`).
    pub fn requirement_v2(&self) -> Value {
        json!({
            "scheme": SCHEME,
            "network": caip2(self.token.chain_id),
            "asset": self.token.address,
            "amount": self.amount.to_string(),
            "payTo": self.pay_to,
            "maxTimeoutSeconds": self.max_timeout_s,
            "extra": self.extra(),
        })
    }

    /// The v2 `PAYMENT-REQUIRED` object, `error` saying why (a refusal's code, or that a
    /// payment is required).
    pub fn required_v2(&self, error: &str) -> Value {
        json!({
            "x402Version": 2,
            "error": error,
            "resource": {
                "url": self.resource,
                "description": self.description,
                "mimeType": "application/json",
            },
            "accepts": [self.requirement_v2()],
        })
    }

    /// The v2 header value: base64 of the compact JSON.
    pub fn required_v2_header(&self, error: &str) -> String {
        STANDARD.encode(self.required_v2(error).to_string())
    }

    /// The v1 402 body, when the chain has a v1 name; else a body without `accepts` entries
    /// (v1 clients cannot pay on this chain).
    pub fn required_v1(&self, error: &str) -> Value {
        let accepts: Vec<Value> = v1_network(self.token.chain_id)
            .map(|network| {
                json!({
                    "scheme": SCHEME,
                    "network": network,
                    "maxAmountRequired": self.amount.to_string(),
                    "resource": self.resource,
                    "description": self.description,
                    "mimeType": "application/json",
                    "payTo": self.pay_to,
                    "maxTimeoutSeconds": self.max_timeout_s,
                    "asset": self.token.address,
                    "extra": self.extra(),
                })
            })
            .into_iter()
            .collect();
        json!({"x402Version": 1, "error": error, "accepts": accepts})
    }

    /// Decodes a payment header (`X-PAYMENT` for v1, `PAYMENT-SIGNATURE` for v2) and checks
    /// it against this offer at `now_s` (unix seconds).
    ///
    /// # Errors
    /// [`CloudError::Payment`] with the first check that failed.
    pub fn verify(
        &self,
        version: Version,
        header: &str,
        now_s: u64,
    ) -> Result<Verified, CloudError> {
        let refuse = |refusal: Refusal, detail: String| CloudError::Payment { refusal, detail };
        let payload = decode(header)?;
        let field = |obj: &Map<String, Value>, key: &str| -> Result<String, CloudError> {
            obj.get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    refuse(
                        Refusal::InvalidPayload,
                        format!("`{key}` is missing or not a string"),
                    )
                })
        };
        let got_version = payload.get("x402Version").and_then(Value::as_u64);
        if got_version != Some(version.number()) {
            return Err(refuse(
                Refusal::InvalidVersion,
                format!(
                    "x402Version {got_version:?} in a header of version {}",
                    version.number()
                ),
            ));
        }
        let (scheme, network) = match version {
            Version::V1 => (field(&payload, "scheme")?, field(&payload, "network")?),
            Version::V2 => {
                let accepted = payload
                    .get("accepted")
                    .and_then(Value::as_object)
                    .ok_or_else(|| {
                        refuse(Refusal::InvalidPayload, "`accepted` is missing".into())
                    })?;
                self.check_accepted(accepted)?;
                (field(accepted, "scheme")?, field(accepted, "network")?)
            }
        };
        if scheme != SCHEME {
            return Err(refuse(
                Refusal::UnsupportedScheme,
                format!("scheme {scheme:?}; only {SCHEME:?} is accepted"),
            ));
        }
        // v1 names networks (and the official facilitator requires the name it offered);
        // v2 uses CAIP-2.
        let offered = match version {
            Version::V1 => v1_network(self.token.chain_id).map(str::to_owned),
            Version::V2 => Some(caip2(self.token.chain_id)),
        };
        if offered.as_deref() != Some(network.as_str()) {
            return Err(refuse(
                Refusal::InvalidNetwork,
                format!(
                    "network {network:?}; this gateway is paid on {}",
                    caip2(self.token.chain_id)
                ),
            ));
        }
        let (authorization, signature) = signed_authorization(&payload)?;

        if authorization.to != self.pay_to {
            return Err(refuse(
                Refusal::RecipientMismatch,
                format!("paid to {}, not to {}", authorization.to, self.pay_to),
            ));
        }
        if authorization.value != self.amount {
            return Err(refuse(
                Refusal::ValueMismatch,
                format!(
                    "authorizes {}, the price is exactly {}",
                    authorization.value, self.amount
                ),
            ));
        }
        if authorization.valid_after >= now_s {
            return Err(refuse(
                Refusal::NotYetValid,
                format!(
                    "valid only after {} (now {now_s})",
                    authorization.valid_after
                ),
            ));
        }
        if authorization.valid_before < now_s.saturating_add(SETTLE_MARGIN_S) {
            return Err(refuse(
                Refusal::Expired,
                format!(
                    "valid before {}, which leaves less than {SETTLE_MARGIN_S} s to settle (now {now_s})",
                    authorization.valid_before
                ),
            ));
        }
        // No later than the offer's timeout allows (and a minute of clock skew): a payment
        // good for years would keep its claim and any unmined settlement alive as long.
        let latest = now_s.saturating_add(self.max_timeout_s).saturating_add(60);
        if authorization.valid_before > latest {
            return Err(refuse(
                Refusal::Expired,
                format!(
                    "valid before {}, later than the offer's {} s allow (by {latest})",
                    authorization.valid_before, self.max_timeout_s
                ),
            ));
        }
        let signer = signature
            .recover(&authorization.digest(&self.token))
            .map_err(|e| refuse(Refusal::InvalidSignature, e.to_string()))?;
        if signer != authorization.from {
            return Err(refuse(
                Refusal::InvalidSignature,
                format!(
                    "signed by {signer}, not by the payer {}",
                    authorization.from
                ),
            ));
        }
        Ok(Verified {
            version,
            authorization,
            signature,
        })
    }

    /// v2: the requirement the client says it accepted must be the one offered (the
    /// official server's rule: every field equal, `extra` a subset).
    fn check_accepted(&self, accepted: &Map<String, Value>) -> Result<(), CloudError> {
        let offered = self.requirement_v2();
        let offered = offered.as_object().expect("an object");
        for (key, want) in offered {
            let got = accepted.get(key);
            let same = match (key.as_str(), got) {
                ("asset" | "payTo", Some(Value::String(g))) => {
                    g.parse::<Address>().ok().map(|a| json!(a)).as_ref() == Some(want)
                }
                ("network" | "scheme", _) => true, // reported by their own checks
                ("extra", Some(Value::Object(g))) => want
                    .as_object()
                    .is_some_and(|w| w.iter().all(|(k, v)| g.get(k) == Some(v))),
                (_, Some(g)) => g == want,
                (_, None) => false,
            };
            if !same {
                let refusal = match key.as_str() {
                    "payTo" => Refusal::RecipientMismatch,
                    "amount" => Refusal::ValueMismatch,
                    _ => Refusal::RequirementsMismatch,
                };
                return Err(CloudError::Payment {
                    refusal,
                    detail: format!("accepted `{key}` is {got:?}, the offer is {want}"),
                });
            }
        }
        Ok(())
    }
}

/// The authorization and signature a payment header carries, without checking them against
/// an offer or the clock: for a payment [`Offer::verify`] accepted earlier and that is read
/// again (a settlement still in flight after a restart).
///
/// # Errors
/// [`CloudError::Payment`] when the header is not a payment.
pub fn parse(version: Version, header: &str) -> Result<Verified, CloudError> {
    let (authorization, signature) = signed_authorization(&decode(header)?)?;
    Ok(Verified {
        version,
        authorization,
        signature,
    })
}

fn signed_authorization(
    payload: &Map<String, Value>,
) -> Result<(Authorization, Signature), CloudError> {
    let invalid = |detail: &str| CloudError::Payment {
        refusal: Refusal::InvalidPayload,
        detail: detail.to_string(),
    };
    let inner = payload
        .get("payload")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("`payload` is missing"))?;
    let auth = inner
        .get("authorization")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("`payload.authorization` is missing"))?;
    let authorization = parse_authorization(auth)?;
    let signature = inner
        .get("signature")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("`payload.signature` is missing or not a string"))?;
    let signature = Signature::from_hex(signature).map_err(|e| CloudError::Payment {
        refusal: Refusal::InvalidSignature,
        detail: e.to_string(),
    })?;
    Ok((authorization, signature))
}

/// Base64 JSON object of a payment header.
fn decode(header: &str) -> Result<Map<String, Value>, CloudError> {
    let invalid = |detail: &str| CloudError::Payment {
        refusal: Refusal::InvalidPayload,
        detail: detail.to_string(),
    };
    if header.len() > MAX_HEADER_BYTES {
        return Err(invalid("the payment header is larger than 16 KiB"));
    }
    let bytes = STANDARD
        .decode(header.trim())
        .map_err(|_| invalid("the payment header is not base64"))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(invalid("the payment header is not a JSON object")),
    }
}

fn parse_authorization(auth: &Map<String, Value>) -> Result<Authorization, CloudError> {
    let invalid = |detail: String| CloudError::Payment {
        refusal: Refusal::InvalidPayload,
        detail,
    };
    let text = |key: &str| {
        auth.get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("`authorization.{key}` is missing or not a string")))
    };
    let address = |key: &str| {
        text(key)?
            .parse::<Address>()
            .map_err(|e| invalid(format!("`authorization.{key}`: {e}")))
    };
    let uint = |key: &str| {
        let t = text(key)?;
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(format!(
                "`authorization.{key}` is not a decimal integer"
            )));
        }
        t.parse::<u128>()
            .map_err(|_| invalid(format!("`authorization.{key}` is out of range")))
    };
    let seconds = |key: &str| {
        uint(key).and_then(|v| {
            u64::try_from(v).map_err(|_| invalid(format!("`authorization.{key}` is out of range")))
        })
    };
    let nonce_text = text("nonce")?;
    let mut nonce = [0u8; 32];
    hex::decode_to_slice(
        nonce_text.strip_prefix("0x").unwrap_or(nonce_text),
        &mut nonce,
    )
    .map_err(|_| invalid("`authorization.nonce` is not 32 bytes of hex".into()))?;
    Ok(Authorization {
        from: address("from")?,
        to: address("to")?,
        value: uint("value")?,
        valid_after: seconds("validAfter")?,
        valid_before: seconds("validBefore")?,
        nonce,
    })
}

/// The settlement header value (base64 JSON), for success (`transaction` set) or failure;
/// the network as `version` names it.
pub fn settlement_header(
    version: Version,
    chain_id: u64,
    payer: Option<Address>,
    amount: u128,
    transaction: Option<[u8; 32]>,
    refusal: Option<Refusal>,
) -> String {
    let mut v = json!({
        "success": transaction.is_some() && refusal.is_none(),
        "transaction": transaction.map(|t| format!("0x{}", hex::encode(t))).unwrap_or_default(),
        "network": match version {
            Version::V1 => v1_network(chain_id).map_or_else(|| caip2(chain_id), str::to_owned),
            Version::V2 => caip2(chain_id),
        },
        "amount": amount.to_string(),
    });
    if let Some(p) = payer {
        v["payer"] = json!(p);
    }
    if let Some(r) = refusal {
        v["errorReason"] = json!(r.code());
    }
    STANDARD.encode(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eth::Wallet;

    const PAYER: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    const NOW: u64 = 1_800_000_000;

    fn token() -> Token {
        Token {
            chain_id: 31_337,
            address: "0x5FbDB2315678afecb367f032d93F642f64180aa3"
                .parse()
                .unwrap(),
            name: "USD Coin".into(),
            version: "2".into(),
        }
    }

    /// On base-sepolia, so that v1 (named networks) can pay too.
    fn offer() -> Offer {
        Offer {
            token: Token {
                chain_id: 84_532,
                ..token()
            },
            pay_to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
                .parse()
                .unwrap(),
            amount: 10_000,
            max_timeout_s: 60,
            resource: "http://127.0.0.1/sessions".into(),
            description: "a lite miner for 1 hour".into(),
        }
    }

    /// Computed independently (eth_account's EIP-712 encoder and RFC 6979 signer).
    #[test]
    fn digest_and_calldata_match_the_reference_vector() {
        let auth = Authorization {
            from: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
                .parse()
                .unwrap(),
            to: offer().pay_to,
            value: 10_000,
            valid_after: 0,
            valid_before: 1_900_000_000,
            nonce: [0xab; 32],
        };
        assert_eq!(
            hex::encode(token().domain_separator()),
            "fc557a58e1177dd0b729c40130003009d1ffed5a502b494889e2711c7726dd52"
        );
        let digest = auth.digest(&token());
        assert_eq!(
            hex::encode(digest),
            "ed699f9817fbe8de5bd8a73382da09beb098321f711a5badc46cb59cfcecd9ca"
        );
        let sig = Wallet::from_hex(PAYER).unwrap().sign(&digest);
        assert_eq!(
            sig.to_hex(),
            "0xa8b5c5e926912cde36cab6d92e2cd476f365527385043e1c59b1c4fa6556fc0a45cac72688a685e8643f330118e408be707ebd72ff6f58187a0a9a5de0739cb71c"
        );
        let data = auth.transfer_calldata(&sig);
        assert_eq!(data.len(), 4 + 9 * 32);
        assert_eq!(hex::encode(&data[..4]), "e3ee160e");
        assert_eq!(data[4 + 6 * 32 + 31], 28);
        assert_eq!(hex::encode(&auth.state_calldata()[..4]), "e94a0102");
        assert_eq!(hex::encode(&balance_calldata(auth.from)[..4]), "70a08231");
    }

    /// A payment as the official client builds it, with one field changed by `edit`.
    fn payment(version: Version, edit: impl FnOnce(&mut Value)) -> String {
        let wallet = Wallet::from_hex(PAYER).unwrap();
        let o = offer();
        let mut auth = Authorization {
            from: wallet.address(),
            to: o.pay_to,
            value: o.amount,
            valid_after: NOW - 600,
            valid_before: NOW + 60,
            nonce: [7; 32],
        };
        let mut v = json!({});
        // Sign what the edit leaves in the authorization, so that only the edited check fails.
        let mut a = json!({
            "from": auth.from, "to": auth.to, "value": auth.value.to_string(),
            "validAfter": auth.valid_after.to_string(), "validBefore": auth.valid_before.to_string(),
            "nonce": format!("0x{}", hex::encode(auth.nonce)),
        });
        v["payload"] = json!({"authorization": a.clone(), "signature": ""});
        match version {
            Version::V1 => {
                v["x402Version"] = json!(1);
                v["scheme"] = json!("exact");
                v["network"] = json!("base-sepolia");
            }
            Version::V2 => {
                v["x402Version"] = json!(2);
                v["accepted"] = o.requirement_v2();
                v["resource"] = json!({"url": o.resource});
            }
        }
        edit(&mut v);
        if let Some(edited) = v["payload"]["authorization"].as_object() {
            a = Value::Object(edited.clone());
            if let Ok(parsed) = parse_authorization(edited) {
                auth = parsed;
            }
        }
        if v["payload"]["signature"] == json!("") {
            v["payload"]["signature"] = json!(wallet.sign(&auth.digest(&o.token)).to_hex());
        }
        v["payload"]["authorization"] = a;
        STANDARD.encode(v.to_string())
    }

    fn refusal(version: Version, edit: impl FnOnce(&mut Value)) -> Refusal {
        match offer().verify(version, &payment(version, edit), NOW) {
            Err(CloudError::Payment { refusal, .. }) => refusal,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_right_payment_passes_in_both_generations() {
        for version in [Version::V1, Version::V2] {
            let v = offer()
                .verify(version, &payment(version, |_| {}), NOW)
                .unwrap();
            assert_eq!(v.version, version);
            assert_eq!(v.authorization.value, 10_000);
            assert_eq!(
                v.authorization.from.to_string(),
                "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
            );
        }
    }

    #[test]
    fn every_wrong_field_is_refused_with_its_reason() {
        use Refusal::*;
        let a = |v: &mut Value, k: &str, x: Value| v["payload"]["authorization"][k] = x;
        type Case = (Version, Refusal, Box<dyn FnOnce(&mut Value)>);
        let cases: Vec<Case> = vec![
            (
                Version::V2,
                InvalidVersion,
                Box::new(|v| v["x402Version"] = json!(1)),
            ),
            (
                Version::V1,
                InvalidVersion,
                Box::new(|v| v["x402Version"] = json!(3)),
            ),
            (
                Version::V1,
                UnsupportedScheme,
                Box::new(|v| v["scheme"] = json!("upto")),
            ),
            (
                Version::V1,
                InvalidNetwork,
                Box::new(|v| v["network"] = json!("base")),
            ),
            (
                Version::V1,
                InvalidNetwork,
                Box::new(|v| v["network"] = json!("eip155:84532")),
            ),
            (
                Version::V2,
                InvalidNetwork,
                Box::new(|v| v["accepted"]["network"] = json!("base-sepolia")),
            ),
            (
                Version::V2,
                RequirementsMismatch,
                Box::new(|v| {
                    v["accepted"]["asset"] = json!("0x0000000000000000000000000000000000000001")
                }),
            ),
            (
                Version::V2,
                RequirementsMismatch,
                Box::new(|v| v["accepted"]["maxTimeoutSeconds"] = json!(3600)),
            ),
            (
                Version::V2,
                RequirementsMismatch,
                Box::new(|v| v["accepted"]["extra"]["name"] = json!("Fake")),
            ),
            (
                Version::V2,
                ValueMismatch,
                Box::new(|v| v["accepted"]["amount"] = json!("1")),
            ),
            (
                Version::V2,
                RecipientMismatch,
                Box::new(|v| {
                    v["accepted"]["payTo"] = json!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
                }),
            ),
            (
                Version::V2,
                InvalidPayload,
                Box::new(|v| {
                    v.as_object_mut().unwrap().remove("accepted");
                }),
            ),
            (
                Version::V1,
                RecipientMismatch,
                Box::new(move |v| a(v, "to", json!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"))),
            ),
            (
                Version::V1,
                ValueMismatch,
                Box::new(move |v| a(v, "value", json!("9999"))),
            ),
            (
                Version::V1,
                ValueMismatch,
                Box::new(move |v| a(v, "value", json!("10001"))),
            ),
            (
                Version::V1,
                InvalidPayload,
                Box::new(move |v| a(v, "value", json!("-1"))),
            ),
            (
                Version::V1,
                InvalidPayload,
                Box::new(move |v| a(v, "value", json!(10000))),
            ),
            (
                Version::V1,
                InvalidPayload,
                Box::new(move |v| a(v, "value", json!("1".repeat(40)))),
            ),
            (
                Version::V1,
                InvalidPayload,
                Box::new(move |v| a(v, "validBefore", json!("18446744073709551616"))),
            ),
            (
                Version::V1,
                InvalidPayload,
                Box::new(move |v| a(v, "nonce", json!("0x01"))),
            ),
            (
                Version::V1,
                InvalidPayload,
                Box::new(move |v| a(v, "from", json!("alice"))),
            ),
            (
                Version::V1,
                NotYetValid,
                Box::new(move |v| a(v, "validAfter", json!(NOW.to_string()))),
            ),
            (
                Version::V1,
                Expired,
                Box::new(move |v| a(v, "validBefore", json!((NOW + 5).to_string()))),
            ),
            (
                Version::V1,
                Expired,
                Box::new(move |v| a(v, "validBefore", json!((NOW - 1).to_string()))),
            ),
            (
                Version::V1,
                InvalidSignature,
                Box::new(|v| v["payload"]["signature"] = json!("0x1234")),
            ),
            (
                Version::V1,
                InvalidSignature,
                Box::new(|v| {
                    let other = Wallet::from_hex(&"11".repeat(32)).unwrap();
                    v["payload"]["signature"] = json!(other.sign(&[1; 32]).to_hex());
                }),
            ),
        ];
        for (i, (version, want, edit)) in cases.into_iter().enumerate() {
            assert_eq!(refusal(version, edit), want, "case {i}");
        }
        assert_eq!(
            refusal(Version::V1, move |v| a(
                v,
                "validBefore",
                json!((NOW + 60 + 61).to_string())
            )),
            Expired,
            "further than the offer's timeout"
        );
        offer()
            .verify(
                Version::V1,
                &payment(Version::V1, move |v| {
                    a(v, "validBefore", json!((NOW + 60 + 60).to_string()))
                }),
                NOW,
            )
            .unwrap();
        // The edge of the window passes: validBefore exactly now + margin, validAfter now - 1.
        let edge = payment(Version::V1, move |v| {
            a(v, "validBefore", json!((NOW + SETTLE_MARGIN_S).to_string()));
            a(v, "validAfter", json!((NOW - 1).to_string()));
        });
        offer().verify(Version::V1, &edge, NOW).unwrap();
        // A signature by the payer over another amount is caught.
        let forged = payment(Version::V1, |v| {
            let wallet = Wallet::from_hex(PAYER).unwrap();
            let mut auth =
                parse_authorization(v["payload"]["authorization"].as_object().unwrap()).unwrap();
            auth.value = 1;
            v["payload"]["signature"] = json!(wallet.sign(&auth.digest(&offer().token)).to_hex());
        });
        assert!(matches!(
            offer().verify(Version::V1, &forged, NOW),
            Err(CloudError::Payment {
                refusal: Refusal::InvalidSignature,
                ..
            })
        ));
    }

    #[test]
    fn headers_that_are_not_payments_are_refused() {
        for bad in [
            String::new(),
            "not base64!".into(),
            STANDARD.encode("[1,2]"),
            STANDARD.encode("{\"x402Version\":1}"),
            "A".repeat(MAX_HEADER_BYTES + 1),
        ] {
            let got = offer().verify(Version::V1, &bad, NOW);
            assert!(
                matches!(
                    got,
                    Err(CloudError::Payment {
                        refusal: Refusal::InvalidPayload | Refusal::InvalidVersion,
                        ..
                    })
                ),
                "{bad:.40}: {got:?}"
            );
        }
    }

    #[test]
    fn requirements_carry_what_the_client_needs() {
        let o = offer();
        let v2: Value = serde_json::from_slice(
            &STANDARD
                .decode(o.required_v2_header("payment required"))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(v2["x402Version"], 2);
        let r = &v2["accepts"][0];
        assert_eq!(r["network"], "eip155:84532");
        assert_eq!(r["amount"], "10000");
        assert_eq!(r["payTo"], "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
        assert_eq!(r["extra"]["version"], "2");
        // 31337 has no v1 name: v1 clients are offered nothing.
        let mut local = o.clone();
        local.token.chain_id = 31_337;
        assert_eq!(local.required_v1("x").get("accepts"), Some(&json!([])));
        let v1 = o.required_v1("x");
        assert_eq!(v1["accepts"][0]["network"], "base-sepolia");
        assert_eq!(v1["accepts"][0]["maxAmountRequired"], "10000");
        assert_eq!(chain_id_of("base-sepolia"), Some(84_532));
        assert_eq!(chain_id_of("eip155:8453"), Some(8453));
        assert_eq!(chain_id_of("solana"), None);
        let s: Value = serde_json::from_slice(
            &STANDARD
                .decode(settlement_header(
                    Version::V2,
                    31_337,
                    None,
                    5,
                    Some([1; 32]),
                    None,
                ))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(s["success"], true);
        assert_eq!(s["network"], "eip155:31337");
        assert_eq!(s["transaction"].as_str().unwrap().len(), 66);
        let s1: Value = serde_json::from_slice(
            &STANDARD
                .decode(settlement_header(
                    Version::V1,
                    84_532,
                    None,
                    5,
                    None,
                    Some(Refusal::NonceUsed),
                ))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(s1["success"], false);
        assert_eq!(s1["network"], "base-sepolia");
        assert_eq!(s1["errorReason"], "invalid_exact_evm_nonce_already_used");
    }
}
