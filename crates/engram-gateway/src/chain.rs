//! Settling x402 payments on an EVM chain over JSON-RPC.
//!
//! A verified payment is only a promise until the token contract has moved the funds, so
//! no session starts before [`Settler::settle`] has seen the transfer mined: the nonce must
//! be unused on the chain, the payer's balance must cover the amount, the call must not
//! revert when simulated, and the mined receipt must succeed and carry the token's
//! `Transfer(from, to, value)` log. Settlements go out one at a time (one gateway key, one
//! transaction nonce sequence).

use std::time::{Duration, Instant};

use engram_cloud::eth::{Address, Call, Wallet, keccak256};
use engram_cloud::x402::{Refusal, Token, Verified, balance_calldata};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::GatewayError;

/// How long a settlement waits for its transaction to be mined.
const MINE_TIMEOUT: Duration = Duration::from_secs(60);

/// A JSON-RPC endpoint of one chain.
#[derive(Debug, Clone)]
pub struct Rpc {
    url: String,
    http: reqwest::Client,
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
            .map_err(|source| GatewayError::Rpc { method, source })?
            .json()
            .await
            .map_err(|source| GatewayError::Rpc { method, source })?;
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

/// What a settlement ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// Mined: the transfer happened in this transaction.
    Settled {
        /// The transaction hash.
        transaction: [u8; 32],
    },
    /// Not settled; nothing moved.
    Refused(Refusal),
}

/// Submits verified payments to the token contract, one at a time.
#[derive(Debug)]
pub struct Settler {
    rpc: Rpc,
    token: Token,
    wallet: Wallet,
    lock: Mutex<()>,
}

impl Settler {
    /// A settler paying gas from `wallet`.
    pub fn new(rpc: Rpc, token: Token, wallet: Wallet) -> Self {
        Settler {
            rpc,
            token,
            wallet,
            lock: Mutex::new(()),
        }
    }

    /// The RPC endpoint.
    pub fn rpc(&self) -> &Rpc {
        &self.rpc
    }

    /// The address that pays the gas.
    pub fn address(&self) -> Address {
        self.wallet.address()
    }

    /// Checks the chain's state for `payment` and, if it can go through, submits it and
    /// waits for it to be mined.
    ///
    /// # Errors
    /// Transport and RPC failures, [`GatewayError::NotMined`]. A payment the chain would
    /// not take is `Ok(Settlement::Refused)`, not an error.
    pub async fn settle(&self, payment: &Verified) -> Result<Settlement, GatewayError> {
        let _one_at_a_time = self.lock.lock().await;
        let auth = &payment.authorization;
        let token = self.token.address;
        if self.rpc.call_uint(token, &auth.state_calldata()).await? != 0 {
            return Ok(Settlement::Refused(Refusal::NonceUsed));
        }
        if self.rpc.balance(token, auth.from).await? < auth.value {
            return Ok(Settlement::Refused(Refusal::InsufficientFunds));
        }
        let data = auth.transfer_calldata(&payment.signature);
        match self.rpc.call(Some(self.address()), token, &data).await {
            Ok(_) => {}
            Err(GatewayError::RpcRefused { message, .. }) => {
                tracing::warn!(%message, "settlement would revert");
                return Ok(Settlement::Refused(Refusal::SettlementFailed));
            }
            Err(e) => return Err(e),
        }
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
                json!([{"from": from, "to": token, "data": format!("0x{}", hex::encode(&data))}]),
            )
            .await?;
        let call = Call {
            nonce: u64::try_from(nonce).unwrap_or(u64::MAX),
            gas_price,
            gas: u64::try_from(estimate.saturating_mul(5) / 4).unwrap_or(u64::MAX),
            to: token,
            value: 0,
            data,
        };
        let (raw, hash) = call.sign(self.token.chain_id, &self.wallet);
        self.rpc
            .request(
                "eth_sendRawTransaction",
                json!([format!("0x{}", hex::encode(raw))]),
            )
            .await?;
        let receipt = self.receipt(hash).await?;
        if receipt.get("status").and_then(Value::as_str) != Some("0x1") {
            return Ok(Settlement::Refused(Refusal::SettlementFailed));
        }
        if !has_transfer(&receipt, token, auth.from, auth.to, auth.value) {
            return Ok(Settlement::Refused(Refusal::SettlementFailed));
        }
        Ok(Settlement::Settled { transaction: hash })
    }

    async fn receipt(&self, hash: [u8; 32]) -> Result<Value, GatewayError> {
        let started = Instant::now();
        let hash_hex = format!("0x{}", hex::encode(hash));
        loop {
            let r = self
                .rpc
                .request("eth_getTransactionReceipt", json!([hash_hex]))
                .await?;
            if !r.is_null() {
                return Ok(r);
            }
            if started.elapsed() > MINE_TIMEOUT {
                return Err(GatewayError::NotMined {
                    hash,
                    seconds: MINE_TIMEOUT.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
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
