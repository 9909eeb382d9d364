//! Miners on Akash, through the Akash Console API (the "managed wallet" API: an API key, no
//! Cosmos wallet or `akash` CLI on the gateway).
//!
//! Built to the Console API as its own source defines it (akash-network/console,
//! `apps/api`: `POST /v1/deployments`, `GET /v1/bids?dseq=`, `POST /v1/leases`,
//! `GET /v1/deployments/{dseq}`, `DELETE /v1/deployments/{dseq}`; header `x-api-key`; every
//! answer wrapped in `data`) and its documentation. **Not run against Akash**: the API is not
//! reachable from the machines this project is built on. What is tested is everything on our
//! side of the wire — the bodies sent, the answers read (from the shapes in the API's own
//! schema), the choice of bid — and the manifest itself, which Akash's own SDL parser reads in
//! the tests (`engram_cloud::sdl`).
//!
//! The flow: create the deployment from the tier's manifest (the answer carries its `dseq`
//! and the manifest to hand to the provider: on record from here on), wait for bids, take the
//! cheapest, create the lease (which sends the manifest to the provider), then wait until the
//! lease's status names the service's URI. Stopping closes the deployment (which ends the
//! lease and returns the deposit's rest).

use std::time::{Duration, Instant};

use engram_cloud::sdl::Sdl;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use crate::GatewayError;
use crate::provision::Provisioner;
use crate::sessions::{Miner, Session};

/// The Console API.
pub const DEFAULT_API: &str = "https://console-api.akash.network";
/// The deposit sent with a deployment, in USD (the API may take its own default instead).
const DEPOSIT_USD: f64 = 5.0;
/// How long bids, the lease and the service's URI may take.
const READY_TIMEOUT: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_secs(6);

/// Deploys each miner on Akash.
pub struct Akash {
    api: String,
    key: String,
    image: Option<String>,
    http: reqwest::Client,
}

/// One bid: who offers, at what price per block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bid {
    pub(crate) dseq: String,
    pub(crate) gseq: u64,
    pub(crate) oseq: u64,
    pub(crate) provider: String,
    pub(crate) price: f64,
}

/// Without the API key.
impl std::fmt::Debug for Akash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Akash")
            .field("api", &self.api)
            .field("image", &self.image)
            .finish_non_exhaustive()
    }
}

impl Akash {
    /// The Console API at `api` with an API key; `image` overrides the manifest's image.
    pub fn new(api: &str, key: String, image: Option<String>) -> Self {
        Akash {
            api: api.trim_end_matches('/').to_string(),
            key,
            image,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("a default client builds"),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, GatewayError> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.api))
            .header("x-api-key", &self.key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|source| GatewayError::Akash {
            path: path.to_string(),
            source: source.without_url(),
        })?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|source| GatewayError::Akash {
            path: path.to_string(),
            source: source.without_url(),
        })?;
        // A DELETE may answer 204 with no body; an error may not be JSON.
        let v: Value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&body).chars().take(200).collect())
            })
        };
        if !status.is_success() {
            return Err(GatewayError::AkashRefused {
                path: path.to_string(),
                status: status.as_u16(),
                message: v
                    .get("message")
                    .or_else(|| v.get("error"))
                    .unwrap_or(&v)
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            });
        }
        Ok(v.get("data").cloned().unwrap_or(Value::Null))
    }

    /// `GET /v1/deployments/{dseq}`: the deployment, its leases and their status.
    async fn deployment(&self, dseq: &str) -> Result<Value, GatewayError> {
        self.call(
            reqwest::Method::GET,
            &format!("/v1/deployments/{dseq}"),
            None,
        )
        .await
    }

    fn manifest(&self, session: &Session) -> Result<String, GatewayError> {
        let mut sdl = Sdl::new(session.tier, &session.hotkey)?.session(&session.id);
        if let Some(image) = &self.image {
            sdl = sdl.image(image)?;
        }
        Ok(sdl.to_yaml())
    }
}

/// `POST /v1/deployments`'s body.
pub(crate) fn deployment_body(sdl: &str) -> Value {
    json!({"data": {"sdl": sdl, "deposit": DEPOSIT_USD}})
}

/// The cheapest open bid of `GET /v1/bids?dseq=`'s answer.
pub(crate) fn cheapest_bid(data: &Value) -> Option<Bid> {
    data.as_array()?
        .iter()
        .filter_map(|entry| {
            let bid = entry.get("bid")?;
            if bid
                .get("state")
                .and_then(Value::as_str)
                .is_some_and(|s| s != "open")
            {
                return None;
            }
            let id = bid.get("id")?;
            Some(Bid {
                dseq: id.get("dseq")?.as_str()?.to_string(),
                gseq: id.get("gseq")?.as_u64()?,
                oseq: id.get("oseq")?.as_u64()?,
                provider: id.get("provider")?.as_str()?.to_string(),
                price: bid.get("price")?.get("amount")?.as_str()?.parse().ok()?,
            })
        })
        .min_by(|a, b| a.price.total_cmp(&b.price))
}

/// `POST /v1/leases`'s body.
pub(crate) fn lease_body(manifest: &str, bid: &Bid) -> Value {
    json!({
        "manifest": manifest,
        "leases": [{"dseq": bid.dseq, "gseq": bid.gseq, "oseq": bid.oseq, "provider": bid.provider}],
    })
}

/// Where the miner serves, from `GET /v1/deployments/{dseq}`'s answer: the service's URI
/// (its global port 80), once a lease reports it.
pub(crate) fn service_uri(data: &Value) -> Option<String> {
    data.get("leases")?.as_array()?.iter().find_map(|lease| {
        let uri = lease
            .get("status")?
            .get("services")?
            .get("miner")?
            .get("uris")?
            .as_array()?
            .first()?
            .as_str()?;
        Some(if uri.contains("://") {
            uri.to_string()
        } else {
            format!("http://{uri}")
        })
    })
}

impl Provisioner for Akash {
    fn name(&self) -> &'static str {
        "akash"
    }

    fn start<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, Result<Miner, GatewayError>> {
        Box::pin(async move {
            let sdl = self.manifest(session)?;
            let created = self
                .call(
                    reqwest::Method::POST,
                    "/v1/deployments",
                    Some(deployment_body(&sdl)),
                )
                .await?;
            let dseq = created.get("dseq").and_then(Value::as_str).ok_or_else(|| {
                GatewayError::AkashMalformed {
                    path: "/v1/deployments".into(),
                    got: created.to_string(),
                }
            })?;
            Ok(Miner {
                provider: self.name().into(),
                // The miner makes its own hotkey in its container; the deployment is the record.
                hotkey: String::new(),
                endpoint: String::new(),
                pid: None,
                dir: None,
                deployment: Some(
                    json!({
                        "dseq": dseq,
                        "manifest": created.get("manifest").cloned().unwrap_or(Value::Null),
                    })
                    .to_string(),
                ),
            })
        })
    }

    fn ready<'a>(&'a self, miner: &'a Miner) -> BoxFuture<'a, Result<Miner, GatewayError>> {
        Box::pin(async move {
            let record: Value = miner
                .deployment
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or(Value::Null);
            let (Some(dseq), Some(manifest)) = (
                record.get("dseq").and_then(Value::as_str),
                record.get("manifest").and_then(Value::as_str),
            ) else {
                return Err(GatewayError::AkashMalformed {
                    path: "deployment record".into(),
                    got: record.to_string(),
                });
            };
            let started = Instant::now();
            let timeout = || GatewayError::Miner {
                endpoint: format!("akash deployment {dseq}"),
                reason: format!("no lease serving within {} s", READY_TIMEOUT.as_secs()),
            };
            // Asked again after a restart: a deployment that has its lease already only needs
            // its URI.
            let status = self.deployment(dseq).await?;
            let leased = status
                .get("leases")
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty());
            if !leased {
                let bid = loop {
                    let bids = self
                        .call(reqwest::Method::GET, &format!("/v1/bids?dseq={dseq}"), None)
                        .await?;
                    if let Some(b) = cheapest_bid(&bids) {
                        break b;
                    }
                    if started.elapsed() > READY_TIMEOUT {
                        return Err(timeout());
                    }
                    tokio::time::sleep(POLL).await;
                };
                self.call(
                    reqwest::Method::POST,
                    "/v1/leases",
                    Some(lease_body(manifest, &bid)),
                )
                .await?;
            }
            loop {
                let status = self.deployment(dseq).await?;
                if let Some(uri) = service_uri(&status) {
                    return Ok(Miner {
                        endpoint: uri,
                        ..miner.clone()
                    });
                }
                if started.elapsed() > READY_TIMEOUT {
                    return Err(timeout());
                }
                tokio::time::sleep(POLL).await;
            }
        })
    }

    fn stop<'a>(&'a self, miner: &'a Miner) -> BoxFuture<'a, Result<(), GatewayError>> {
        Box::pin(async move {
            let dseq = miner
                .deployment
                .as_deref()
                .and_then(|d| serde_json::from_str::<Value>(d).ok())
                .and_then(|r| r.get("dseq").and_then(Value::as_str).map(str::to_owned));
            if let Some(dseq) = dseq {
                self.call(
                    reqwest::Method::DELETE,
                    &format!("/v1/deployments/{dseq}"),
                    None,
                )
                .await?;
            }
            Ok(())
        })
    }

    /// As far as the gateway knows without asking: a deployment on record runs (Akash keeps
    /// it running while its escrow lasts; the care loop does not poll the API every second).
    fn alive(&self, miner: &Miner) -> bool {
        miner.deployment.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shapes from the Console API's own schema (`apps/api/swagger/openapi.json`).
    #[test]
    fn bodies_and_answers_follow_the_console_api() {
        assert_eq!(
            deployment_body("version: \"2.0\"\n"),
            json!({"data": {"sdl": "version: \"2.0\"\n", "deposit": 5.0}})
        );
        let bids = json!([
            {"bid": {"id": {"owner": "akash1me", "dseq": "1234", "gseq": 1, "oseq": 1, "provider": "akash1pricey", "bseq": 0},
                     "state": "open", "price": {"denom": "uact", "amount": "1.5"}}, "escrow_account": {}},
            {"bid": {"id": {"owner": "akash1me", "dseq": "1234", "gseq": 1, "oseq": 1, "provider": "akash1cheap", "bseq": 0},
                     "state": "open", "price": {"denom": "uact", "amount": "0.75"}}, "escrow_account": {}},
            {"bid": {"id": {"owner": "akash1me", "dseq": "1234", "gseq": 1, "oseq": 1, "provider": "akash1closed", "bseq": 0},
                     "state": "closed", "price": {"denom": "uact", "amount": "0.01"}}, "escrow_account": {}},
        ]);
        let bid = cheapest_bid(&bids).unwrap();
        assert_eq!((bid.provider.as_str(), bid.price), ("akash1cheap", 0.75));
        assert_eq!(cheapest_bid(&json!([])), None);
        assert_eq!(
            lease_body("[{}]", &bid),
            json!({"manifest": "[{}]", "leases": [{"dseq": "1234", "gseq": 1, "oseq": 1, "provider": "akash1cheap"}]})
        );
        let pending = json!({"deployment": {}, "leases": [{"id": {}, "status": null}]});
        assert_eq!(service_uri(&pending), None);
        let up = json!({"leases": [{"status": {"services": {"miner": {"name": "miner", "available": 1, "total": 1,
            "uris": ["abc123.provider.example.com"]}}, "forwarded_ports": {}}}]});
        assert_eq!(
            service_uri(&up).as_deref(),
            Some("http://abc123.provider.example.com")
        );
    }
}
