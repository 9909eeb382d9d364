//! Settling x402 payments on an EVM chain over JSON-RPC.
//!
//! A verified payment is only a promise until the token contract has moved the funds, so
//! no session starts before the transfer is seen mined: [`Settler::check`] asks the chain
//! first (nonce unused, balance, a simulated call), [`Settler::submit`] signs and sends the
//! transfer — handing its hash to the caller to record *before* the send, since from then on
//! the funds may move whatever happens to this process — and [`Settler::wait`] requires a
//! successful receipt with the token's `Transfer(from, to, value)` log. An authorization
//! anyone else already submitted (the payer, or whoever saw it) counts as paid when its
//! `AuthorizationUsed` log's transaction carries that transfer.

use std::time::{Duration, Instant};

use engram_cloud::eth::{Address, Call, Wallet, keccak256};
use engram_cloud::x402::{Refusal, Token, Verified, balance_calldata};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::GatewayError;

/// A JSON-RPC endpoint of one chain.
#[derive(Clone)]
pub struct Rpc {
    url: String,
    http: reqwest::Client,
}

/// Without the URL: it often carries the provider's API key.
impl std::fmt::Debug for Rpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rpc").finish_non_exhaustive()
    }
}

impl Rpc {
    /// The endpoint at `url`.
    pub fn new(url: &str) -> Self {
        Rpc {
            url: url.to_string(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("a default client builds"),
        }
    }

    async fn request(&self, method: &'static str, params: Value) -> Result<Value, GatewayError> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let reply: Value = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|source| GatewayError::Rpc {
                method,
                // The URL often carries the provider's API key.
                source: source.without_url(),
            })?
            .json()
            .await
            .map_err(|source| GatewayError::Rpc {
                method,
                source: source.without_url(),
            })?;
        if let Some(err) = reply.get("error") {
            let message = err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message")
                .to_string();
            return Err(GatewayError::RpcRefused { method, message });
        }
        reply
            .get("result")
            .cloned()
            .ok_or_else(|| GatewayError::RpcMalformed {
                method,
                got: reply.to_string(),
            })
    }

    async fn quantity(&self, method: &'static str, params: Value) -> Result<u128, GatewayError> {
        let v = self.request(method, params).await?;
        v.as_str()
            .and_then(|s| s.strip_prefix("0x"))
            .and_then(|h| u128::from_str_radix(h, 16).ok())
            .ok_or_else(|| GatewayError::RpcMalformed {
                method,
                got: v.to_string(),
            })
    }

    /// `eth_chainId`.
    ///
    /// # Errors
    /// Transport and RPC failures.
    pub async fn chain_id(&self) -> Result<u64, GatewayError> {
        let id = self.quantity("eth_chainId", json!([])).await?;
        u64::try_from(id).map_err(|_| GatewayError::RpcMalformed {
            method: "eth_chainId",
            got: id.to_string(),
        })
    }

    /// `eth_call` of `data` on `to`, from `from` when given; the returned bytes.
    ///
    /// # Errors
    /// [`GatewayError::RpcRefused`] with the revert reason when the call reverts.
    pub async fn call(
        &self,
        from: Option<Address>,
        to: Address,
        data: &[u8],
    ) -> Result<Vec<u8>, GatewayError> {
        let mut tx = json!({"to": to, "data": format!("0x{}", hex::encode(data))});
        if let Some(from) = from {
            tx["from"] = json!(from);
        }
        let v = self.request("eth_call", json!([tx, "latest"])).await?;
        v.as_str()
            .and_then(|s| s.strip_prefix("0x"))
            .and_then(|h| hex::decode(h).ok())
            .ok_or_else(|| GatewayError::RpcMalformed {
                method: "eth_call",
                got: v.to_string(),
            })
    }

    /// A 32-byte word answer of a view call, as an integer (values above `u128::MAX` read
    /// as `u128::MAX`: more than any price).
    async fn call_uint(&self, to: Address, data: &[u8]) -> Result<u128, GatewayError> {
        let out = self.call(None, to, data).await?;
        if out.len() != 32 {
            return Err(GatewayError::RpcMalformed {
                method: "eth_call",
                got: format!("0x{}", hex::encode(&out)),
            });
        }
        if out[..16].iter().any(|&b| b != 0) {
            return Ok(u128::MAX);
        }
        Ok(u128::from_be_bytes(out[16..].try_into().expect("16 bytes")))
    }

    /// The token balance of `who`.
    ///
    /// # Errors
    /// Transport and RPC failures.
    pub async fn balance(&self, token: Address, who: Address) -> Result<u128, GatewayError> {
        self.call_uint(token, &balance_calldata(who)).await
    }
}

/// What the chain says about a payment before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// It can go through.
    Ready,
    /// It cannot; nothing was sent.
    Refused(Refusal),
    /// Someone already submitted this authorization (the payer, or anyone who saw it) and
    /// the funds reached the recipient in this transaction: it is paid.
    Settled {
        /// The transaction that moved the funds.
        transaction: [u8; 32],
    },
}

/// What a sent settlement came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Mined, with the token's `Transfer(from, to, value)`.
    Settled,
    /// Mined and reverted: nothing moved.
    Reverted,
    /// Mined and succeeded, but without the expected transfer.
    NoTransfer,
    /// Not mined (yet), or the chain could not be asked.
    Unknown,
}

/// Submits verified payments to the token contract. Sending is one at a time (one gateway
/// key, one transaction nonce sequence); checking and waiting are not.
#[derive(Debug)]
pub struct Settler {
    rpc: Rpc,
    token: Token,
    wallet: Wallet,
    wait: Duration,
    sending: Mutex<()>,
}

/// A signed settlement not sent yet; it holds the settler's turn (its transaction nonce).
#[derive(Debug)]
pub struct Prepared<'a> {
    raw: Vec<u8>,
    /// The transaction's hash.
    pub hash: [u8; 32],
    _turn: tokio::sync::MutexGuard<'a, ()>,
}

/// How far back the chain is searched for someone else's settlement of an authorization.
const LOOKBACK_BLOCKS: u64 = 50_000;
/// Blocks per log query (providers cap the range, commonly at 2,000–10,000).
const LOG_WINDOW: u64 = 2_000;

impl Settler {
    /// A settler paying gas from `wallet`, waiting up to `wait` for each settlement to be
    /// mined before calling it pending.
    pub fn new(rpc: Rpc, token: Token, wallet: Wallet, wait: Duration) -> Self {
        Settler {
            rpc,
            token,
            wallet,
            wait,
            sending: Mutex::new(()),
        }
    }

    /// The address that pays the gas.
    pub fn address(&self) -> Address {
        self.wallet.address()
    }

    /// Checks that the token at the configured address has the EIP-712 domain payments are
    /// signed for (so a wrong name, version or address fails at start, not at every payment).
    ///
    /// # Errors
    /// [`GatewayError::WrongToken`], transport and RPC failures.
    pub async fn check_token(&self) -> Result<(), GatewayError> {
        let got = self
            .rpc
            .call(
                None,
                self.token.address,
                &selector_only("DOMAIN_SEPARATOR()"),
            )
            .await?;
        if got != self.token.domain_separator() {
            return Err(GatewayError::WrongToken {
                token: self.token.address,
                name: self.token.name.clone(),
                version: self.token.version.clone(),
            });
        }
        Ok(())
    }

    /// The chain's view of `payment` before anything is sent: nonce unused (or used by a
    /// transfer to us), balance, and a simulated call.
    ///
    /// # Errors
    /// Transport and RPC failures.
    pub async fn check(&self, payment: &Verified) -> Result<Check, GatewayError> {
        let auth = &payment.authorization;
        let token = self.token.address;
        if self.rpc.call_uint(token, &auth.state_calldata()).await? != 0 {
            return Ok(match self.find_settlement(payment).await? {
                Some(transaction) => Check::Settled { transaction },
                None => Check::Refused(Refusal::NonceUsed),
            });
        }
        if self.rpc.balance(token, auth.from).await? < auth.value {
            return Ok(Check::Refused(Refusal::InsufficientFunds));
        }
        let data = auth.transfer_calldata(&payment.signature);
        match self.rpc.call(Some(self.address()), token, &data).await {
            Ok(_) => Ok(Check::Ready),
            Err(GatewayError::RpcRefused { message, .. }) => {
                tracing::warn!(%message, "settlement would revert");
                Ok(Check::Refused(Refusal::SimulationFailed))
            }
            Err(e) => Err(e),
        }
    }

    /// Signs the transfer of `payment` with the settler's next nonce, sending nothing yet:
    /// the caller records the hash (from the send on, the funds may move whatever happens to
    /// this process), then hands it to [`Settler::send`]. Until then no other settlement can
    /// take the same nonce.
    ///
    /// # Errors
    /// Transport and RPC failures; nothing was sent.
    pub async fn prepare(&self, payment: &Verified) -> Result<Prepared<'_>, GatewayError> {
        let turn = self.sending.lock().await;
        let data = payment.authorization.transfer_calldata(&payment.signature);
        let from = json!(self.address());
        let nonce = self
            .rpc
            .quantity("eth_getTransactionCount", json!([from, "pending"]))
            .await?;
        let gas_price = self.rpc.quantity("eth_gasPrice", json!([])).await?;
        let estimate = self
            .rpc
            .quantity(
                "eth_estimateGas",
                json!([{"from": from, "to": self.token.address, "data": format!("0x{}", hex::encode(&data))}]),
            )
            .await?;
        let call = Call {
            nonce: u64::try_from(nonce).unwrap_or(u64::MAX),
            gas_price,
            gas: u64::try_from(estimate.saturating_mul(5) / 4).unwrap_or(u64::MAX),
            to: self.token.address,
            value: 0,
            data,
        };
        let (raw, hash) = call.sign(self.token.chain_id, &self.wallet);
        Ok(Prepared {
            raw,
            hash,
            _turn: turn,
        })
    }

    /// Sends a prepared settlement. A node's error is logged, not returned: an "already
    /// known" or a timeout may still be mined, which only [`Settler::wait`] can tell.
    pub async fn send(&self, prepared: Prepared<'_>) -> [u8; 32] {
        let sent = self
            .rpc
            .request(
                "eth_sendRawTransaction",
                json!([format!("0x{}", hex::encode(&prepared.raw))]),
            )
            .await;
        if let Err(e) = sent {
            tracing::warn!(transaction = %format!("0x{}", hex::encode(prepared.hash)), error = %e, "sending a settlement");
        }
        prepared.hash
    }

    /// What transaction `hash` settling `payment` came to, asked once.
    pub async fn outcome(&self, hash: [u8; 32], payment: &Verified) -> Outcome {
        let receipt = self
            .rpc
            .request(
                "eth_getTransactionReceipt",
                json!([format!("0x{}", hex::encode(hash))]),
            )
            .await;
        match receipt {
            Ok(r) if r.is_null() => Outcome::Unknown,
            Ok(r) => {
                let auth = &payment.authorization;
                if r.get("status").and_then(Value::as_str) != Some("0x1") {
                    Outcome::Reverted
                } else if has_transfer(&r, self.token.address, auth.from, auth.to, auth.value) {
                    Outcome::Settled
                } else {
                    Outcome::NoTransfer
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "asking for a settlement's receipt");
                Outcome::Unknown
            }
        }
    }

    /// Polls [`Settler::outcome`] until it is known or the settler's wait has passed.
    pub async fn wait(&self, hash: [u8; 32], payment: &Verified) -> Outcome {
        let started = Instant::now();
        // Often mined at once (a chain with fast blocks, a local one): ask soon, then less
        // and less often.
        let mut pause = Duration::from_millis(20);
        loop {
            let o = self.outcome(hash, payment).await;
            if o != Outcome::Unknown || started.elapsed() > self.wait {
                return o;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    /// Whether the token has this authorization as used (by a transfer or a cancellation).
    ///
    /// # Errors
    /// Transport and RPC failures.
    pub async fn used(&self, payment: &Verified) -> Result<bool, GatewayError> {
        let state = payment.authorization.state_calldata();
        Ok(self.rpc.call_uint(self.token.address, &state).await? != 0)
    }

    /// The transaction, if any, in which this authorization was used to pay the recipient:
    /// the token's `AuthorizationUsed(from, nonce)` log whose transaction carries the
    /// transfer. (A cancelled authorization logs `AuthorizationCanceled` and moves nothing.)
    /// Searched newest first, in windows small enough for providers that cap log queries.
    ///
    /// # Errors
    /// Transport and RPC failures, and a candidate whose receipt cannot be read (so that
    /// "not found" is never said of a settlement that merely could not be looked at).
    pub async fn find_settlement(
        &self,
        payment: &Verified,
    ) -> Result<Option<[u8; 32]>, GatewayError> {
        let auth = &payment.authorization;
        let latest = u64::try_from(self.rpc.quantity("eth_blockNumber", json!([])).await?)
            .unwrap_or(u64::MAX);
        let oldest = latest.saturating_sub(LOOKBACK_BLOCKS);
        let topics = json!([
            format!(
                "0x{}",
                hex::encode(keccak256(b"AuthorizationUsed(address,bytes32)"))
            ),
            format!("0x{}", hex::encode(auth.from.word())),
            format!("0x{}", hex::encode(auth.nonce)),
        ]);
        let mut to = latest;
        loop {
            let from = to.saturating_sub(LOG_WINDOW - 1).max(oldest);
            let filter = json!({
                "address": self.token.address,
                "fromBlock": format!("0x{from:x}"),
                "toBlock": format!("0x{to:x}"),
                "topics": topics,
            });
            let logs = self.rpc.request("eth_getLogs", json!([filter])).await?;
            for log in logs.as_array().into_iter().flatten() {
                let Some(hash) = log
                    .get("transactionHash")
                    .and_then(Value::as_str)
                    .and_then(|h| h.strip_prefix("0x"))
                    .and_then(|h| <[u8; 32]>::try_from(hex::decode(h).ok()?).ok())
                else {
                    continue;
                };
                match self.outcome(hash, payment).await {
                    Outcome::Settled => return Ok(Some(hash)),
                    Outcome::Unknown => {
                        return Err(GatewayError::RpcMalformed {
                            method: "eth_getTransactionReceipt",
                            got: format!(
                                "no receipt for logged transaction 0x{}",
                                hex::encode(hash)
                            ),
                        });
                    }
                    Outcome::Reverted | Outcome::NoTransfer => {}
                }
            }
            if from <= oldest {
                return Ok(None);
            }
            to = from - 1;
        }
    }
}

fn selector_only(signature: &str) -> Vec<u8> {
    engram_cloud::eth::calldata(signature, &[])
}

/// Whether a receipt carries `token`'s `Transfer(from, to, value)`.
fn has_transfer(receipt: &Value, token: Address, from: Address, to: Address, value: u128) -> bool {
    let topic0 = format!(
        "0x{}",
        hex::encode(keccak256(b"Transfer(address,address,uint256)"))
    );
    let word = |a: Address| format!("0x{}", hex::encode(a.word()));
    let amount = format!("0x{}", hex::encode(engram_cloud::eth::word(value)));
    let logs = receipt.get("logs").and_then(Value::as_array);
    logs.into_iter().flatten().any(|log| {
        let address = log
            .get("address")
            .and_then(Value::as_str)
            .and_then(|a| a.parse::<Address>().ok());
        let topics: Vec<String> = log
            .get("topics")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_ascii_lowercase))
            .collect();
        address == Some(token)
            && topics.len() == 3
            && topics[0] == topic0
            && topics[1] == word(from)
            && topics[2] == word(to)
            && log
                .get("data")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
                == Some(amount.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transfer_log_must_name_the_token_both_parties_and_the_amount() {
        let token: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
            .parse()
            .unwrap();
        let from: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
            .parse()
            .unwrap();
        let to: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
            .parse()
            .unwrap();
        let log = |address: Address, value: u128| {
            json!({"logs": [{
                "address": format!("{address}").to_lowercase(),
                "topics": [
                    "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
                    format!("0x{}", hex::encode(from.word())),
                    format!("0x{}", hex::encode(to.word())),
                ],
                "data": format!("0x{}", hex::encode(engram_cloud::eth::word(value))),
            }]})
        };
        assert!(has_transfer(&log(token, 10_000), token, from, to, 10_000));
        assert!(!has_transfer(&log(token, 9_999), token, from, to, 10_000));
        assert!(!has_transfer(&log(from, 10_000), token, from, to, 10_000));
        assert!(!has_transfer(&log(token, 10_000), token, to, from, 10_000));
        assert!(!has_transfer(&json!({"logs": []}), token, from, to, 10_000));
        assert!(!has_transfer(&json!({}), token, from, to, 10_000));
    }
}
