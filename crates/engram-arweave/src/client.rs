//! An async client for an Arweave gateway (arweave.net, a node, or arlocal in tests).
//!
//! An upload is: an anchor (`GET /tx_anchor`) and a price (`GET /price/{bytes}`), a balance check,
//! the signed header (`POST /tx`), then for data over 256 KiB the chunks (`POST /chunk`) one at a
//! time in order. Chunks go sequentially because arlocal stores them in arrival order and
//! reassembles by that order; mainnet does not care, and one in-flight chunk also keeps memory
//! flat. A chunk the gateway answers with a transient error (`data_root_not_found` while the
//! header propagates, 429, 5xx, a timeout) is retried with backoff; any other refusal stops the
//! upload with the gateway's reason.
//!
//! Every request has a timeout. Answers outside 2xx become [`ArweaveError::Status`] with the
//! start of the body, since that is where gateways explain themselves.
//!
//! Nothing is kept between calls: a failed upload leaves at most an unpaid-for header or orphan
//! chunks on the gateway, and retrying the upload signs a new transaction.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::b64;
use crate::error::{ArweaveError, Result};
use crate::tags::{Tag, validate_tags};
use crate::tx::merkle::{Chunk, DataLayout};
use crate::tx::{Transaction, TxId};
use crate::wallet::Wallet;

/// Default time allowed for one request, body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Time allowed to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts per chunk, the first included.
const CHUNK_ATTEMPTS: u32 = 5;
/// Delay before the second attempt; doubled for each further one.
const CHUNK_RETRY_DELAY: Duration = Duration::from_millis(500);
/// Most of a response body quoted in an error.
const BODY_EXCERPT: usize = 512;
/// `/chunk` errors a node gives while it catches up; anything else is final.
const RETRYABLE_CHUNK_ERRORS: [&str; 4] = [
    "data_root_not_found",
    "not_joined",
    "timeout",
    "exceeds_disk_pool_size_limit",
];

/// Where a transaction stands on the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxStatus {
    /// Accepted, not yet in a block.
    Pending,
    /// In a block.
    Confirmed {
        /// Height of the block.
        height: u64,
        /// Blocks mined on top of it (0 right after inclusion).
        confirmations: u64,
    },
    /// Unknown to the gateway: never posted, dropped, or not propagated yet.
    NotFound,
}

/// A client for one gateway.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

#[derive(Deserialize)]
struct ConfirmedJson {
    block_height: u64,
    number_of_confirmations: u64,
}

/// The JSON body of `POST /chunk`; every value is a string.
#[derive(serde::Serialize)]
struct ChunkJson<'a> {
    data_root: &'a str,
    data_size: &'a str,
    data_path: String,
    offset: String,
    chunk: String,
}

impl Client {
    /// A client for the gateway at `gateway_url` (e.g. `https://arweave.net` or
    /// `http://127.0.0.1:1984`) with [`DEFAULT_TIMEOUT`] per request.
    ///
    /// # Errors
    /// As [`Client::with_timeout`].
    pub fn new(gateway_url: &str) -> Result<Self> {
        Self::with_timeout(gateway_url, DEFAULT_TIMEOUT)
    }

    /// A client whose requests each time out after `timeout`.
    ///
    /// # Errors
    /// [`ArweaveError::GatewayUrl`] or [`ArweaveError::GatewayScheme`] for a URL that is not an
    /// http(s) base, [`ArweaveError::HttpClient`] if TLS cannot be set up.
    pub fn with_timeout(gateway_url: &str, timeout: Duration) -> Result<Self> {
        let url = reqwest::Url::parse(gateway_url).map_err(|source| ArweaveError::GatewayUrl {
            url: gateway_url.to_owned(),
            source,
        })?;
        let usable = matches!(url.scheme(), "http" | "https")
            && url.query().is_none()
            && url.fragment().is_none();
        if !usable {
            return Err(ArweaveError::GatewayScheme {
                url: gateway_url.to_owned(),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .user_agent(concat!("engram-arweave/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ArweaveError::HttpClient)?;
        Ok(Self {
            http,
            base: url.as_str().trim_end_matches('/').to_owned(),
        })
    }

    /// The gateway URL, without a trailing slash.
    pub fn gateway(&self) -> &str {
        &self.base
    }

    /// The URL the data of `id` is served at: `{gateway}/{id}`.
    pub fn data_url(&self, id: &TxId) -> String {
        format!("{}/{id}", self.base)
    }

    /// Stores `data` permanently, signed by `wallet`, with `tags`; returns the transaction id as
    /// soon as the gateway has accepted the header and every chunk. The transaction is then
    /// pending until a block includes it (see [`Client::status`]).
    ///
    /// # Errors
    /// [`ArweaveError::EmptyTagName`] or [`ArweaveError::TagsTooLarge`] before anything is sent;
    /// [`ArweaveError::InsufficientFunds`] when the wallet cannot pay the price; otherwise the
    /// error of the first request that failed.
    pub async fn upload(&self, wallet: &Wallet, data: &[u8], tags: &[Tag]) -> Result<TxId> {
        validate_tags(tags)?;
        let layout = DataLayout::new(data);
        let anchor = self.anchor().await?;
        let reward = self.price(layout.data_size()).await?;
        let balance = self.balance(wallet.address()).await?;
        if balance < reward {
            return Err(ArweaveError::InsufficientFunds {
                address: wallet.address().to_owned(),
                balance,
                required: reward,
            });
        }
        let mut tx = Transaction::new(&layout, tags.to_vec(), &anchor, reward)?;
        let id = tx.sign(wallet)?;
        match layout.data_root() {
            Some(data_root) if !layout.fits_inline() => {
                // The header first: a node only takes chunks for a data_root it knows.
                self.post_tx(&tx.to_json(None)?).await?;
                let data_root = b64::encode(data_root);
                let data_size = layout.data_size().to_string();
                for chunk in layout.chunks() {
                    self.post_chunk(&data_root, &data_size, chunk, data).await?;
                }
            }
            _ => self.post_tx(&tx.to_json(Some(data))?).await?,
        }
        Ok(id)
    }

    /// Where transaction `id` stands (`GET /tx/{id}/status`).
    ///
    /// # Errors
    /// [`ArweaveError::Request`], [`ArweaveError::Status`] for answers other than 200, 202 and
    /// 404, or [`ArweaveError::ResponseJson`] for a confirmation of an unexpected shape.
    pub async fn status(&self, id: &TxId) -> Result<TxStatus> {
        let url = format!("{}/tx/{id}/status", self.base);
        let (status, body) = self.send(self.http.get(&url), "GET", &url).await?;
        match status {
            StatusCode::NOT_FOUND => Ok(TxStatus::NotFound),
            StatusCode::ACCEPTED => Ok(TxStatus::Pending),
            StatusCode::OK if body.trim_ascii() == b"Pending" => Ok(TxStatus::Pending),
            StatusCode::OK => {
                let confirmed: ConfirmedJson =
                    serde_json::from_slice(&body).map_err(|source| ArweaveError::ResponseJson {
                        method: "GET",
                        url,
                        source,
                    })?;
                Ok(TxStatus::Confirmed {
                    height: confirmed.block_height,
                    confirmations: confirmed.number_of_confirmations,
                })
            }
            _ => Err(status_error("GET", url, status, &body)),
        }
    }

    /// The data of transaction `id` (`GET /{id}`), as the gateway serves it.
    ///
    /// # Errors
    /// [`ArweaveError::NotFound`], [`ArweaveError::DataUnavailable`] while a chunked upload's
    /// data is not assembled yet (HTTP 204), or a request error.
    pub async fn download(&self, id: &TxId) -> Result<Vec<u8>> {
        let url = self.data_url(id);
        let (status, body) = self.send(self.http.get(&url), "GET", &url).await?;
        match status {
            StatusCode::OK => Ok(body),
            StatusCode::NOT_FOUND => Err(ArweaveError::NotFound { id: id.clone() }),
            StatusCode::NO_CONTENT => Err(ArweaveError::DataUnavailable {
                id: id.clone(),
                status: status.as_u16(),
            }),
            _ => Err(status_error("GET", url, status, &body)),
        }
    }

    /// The data of transaction `id`, returned only if its SHA-256 is `expected_sha256`.
    ///
    /// A gateway is not trusted to serve the bytes that were stored: the hash the caller kept
    /// (Engram's content CID) decides.
    ///
    /// # Errors
    /// [`ArweaveError::HashMismatch`] for other bytes; otherwise as [`Client::download`].
    pub async fn download_verified(&self, id: &TxId, expected_sha256: [u8; 32]) -> Result<Vec<u8>> {
        let data = self.download(id).await?;
        let actual: [u8; 32] = Sha256::digest(&data).into();
        if actual != expected_sha256 {
            return Err(ArweaveError::HashMismatch {
                id: id.clone(),
                expected: expected_sha256,
                actual,
            });
        }
        Ok(data)
    }

    /// The header of transaction `id` (`GET /tx/{id}`), tags decoded. Check it with
    /// [`Transaction::verify`] before trusting its fields.
    ///
    /// # Errors
    /// [`ArweaveError::NotFound`], a request error, or a parse error of the JSON.
    pub async fn transaction(&self, id: &TxId) -> Result<Transaction> {
        let url = format!("{}/tx/{id}", self.base);
        let (status, body) = self.send(self.http.get(&url), "GET", &url).await?;
        match status {
            StatusCode::OK => Transaction::from_json(&String::from_utf8_lossy(&body)),
            StatusCode::NOT_FOUND => Err(ArweaveError::NotFound { id: id.clone() }),
            _ => Err(status_error("GET", url, status, &body)),
        }
    }

    /// The balance of wallet `address` in winston (`GET /wallet/{address}/balance`).
    ///
    /// # Errors
    /// A request error, or [`ArweaveError::UnexpectedBody`] if the answer is not a number.
    pub async fn balance(&self, address: &str) -> Result<u128> {
        let url = format!("{}/wallet/{address}/balance", self.base);
        let text = self.get_text(&url).await?;
        parse_winston(&text).ok_or_else(|| unexpected("GET", url, "a winston amount", &text))
    }

    /// The anchor to sign a new transaction against (`GET /tx_anchor`).
    ///
    /// # Errors
    /// A request error, or [`ArweaveError::UnexpectedBody`] if the answer is not base64url.
    pub async fn anchor(&self) -> Result<String> {
        let url = format!("{}/tx_anchor", self.base);
        let text = self.get_text(&url).await?;
        let anchor = text.trim();
        if anchor.is_empty() || b64::decode(anchor).is_err() {
            return Err(unexpected("GET", url, "a base64url anchor", &text));
        }
        Ok(anchor.to_owned())
    }

    /// The price in winston of storing `bytes` bytes (`GET /price/{bytes}`).
    ///
    /// # Errors
    /// A request error, or [`ArweaveError::UnexpectedBody`] if the answer is not a number.
    pub async fn price(&self, bytes: u64) -> Result<u128> {
        let url = format!("{}/price/{bytes}", self.base);
        let text = self.get_text(&url).await?;
        text.trim()
            .parse()
            .map_err(|_| unexpected("GET", url, "a winston amount", &text))
    }

    async fn post_tx(&self, json: &str) -> Result<()> {
        let url = format!("{}/tx", self.base);
        self.post_json(&url, json.to_owned()).await
    }

    async fn post_chunk(
        &self,
        data_root: &str,
        data_size: &str,
        chunk: &Chunk,
        data: &[u8],
    ) -> Result<()> {
        let url = format!("{}/chunk", self.base);
        let body = serde_json::to_string(&ChunkJson {
            data_root,
            data_size,
            data_path: b64::encode(&chunk.data_path),
            offset: chunk.offset().to_string(),
            chunk: b64::encode(&data[chunk.range.clone()]),
        })
        .expect("a chunk always serializes");
        let mut delay = CHUNK_RETRY_DELAY;
        let mut attempt = 1;
        loop {
            match self.post_json(&url, body.clone()).await {
                Err(err) if attempt < CHUNK_ATTEMPTS && chunk_error_is_transient(&err) => {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    async fn post_json(&self, url: &str, body: String) -> Result<()> {
        let request = self
            .http
            .request(Method::POST, url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        let (status, body) = self.send(request, "POST", url).await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(status_error("POST", url.to_owned(), status, &body))
        }
    }

    async fn get_text(&self, url: &str) -> Result<String> {
        let (status, body) = self.send(self.http.get(url), "GET", url).await?;
        if !status.is_success() {
            return Err(status_error("GET", url.to_owned(), status, &body));
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// Sends `request` and reads the whole body; any status is returned to the caller.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        method: &'static str,
        url: &str,
    ) -> Result<(StatusCode, Vec<u8>)> {
        let transport = |source| ArweaveError::Request {
            method,
            url: url.to_owned(),
            source,
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        Ok((status, body.to_vec()))
    }
}

/// Whether a failed `POST /chunk` may succeed if sent again.
fn chunk_error_is_transient(err: &ArweaveError) -> bool {
    match err {
        ArweaveError::Request { source, .. } => {
            source.is_timeout() || source.is_connect() || source.is_request()
        }
        ArweaveError::Status { status, body, .. } => {
            *status == 429
                || *status >= 500
                || RETRYABLE_CHUNK_ERRORS
                    .iter()
                    .any(|code| body.contains(code))
        }
        _ => false,
    }
}

/// A winston amount as gateways write it: an integer, or (arlocal, which keeps balances as
/// floating point) a non-negative float, rounded down.
fn parse_winston(text: &str) -> Option<u128> {
    let text = text.trim();
    if let Ok(amount) = text.parse() {
        return Some(amount);
    }
    let amount: f64 = text.parse().ok()?;
    (amount.is_finite() && amount >= 0.0).then_some(amount as u128)
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(BODY_EXCERPT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn status_error(
    method: &'static str,
    url: String,
    status: StatusCode,
    body: &[u8],
) -> ArweaveError {
    ArweaveError::Status {
        method,
        url,
        status: status.as_u16(),
        body: excerpt(body),
    }
}

fn unexpected(
    method: &'static str,
    url: String,
    expected: &'static str,
    body: &str,
) -> ArweaveError {
    ArweaveError::UnexpectedBody {
        method,
        url,
        expected,
        body: excerpt(body.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_urls() {
        let client = Client::new("http://127.0.0.1:1984/").unwrap();
        assert_eq!(client.gateway(), "http://127.0.0.1:1984");
        let id: TxId = "YYsecjlH5ymDGTRWWP9xFJzoPrQCxzaRsuC1xGoF2cA"
            .parse()
            .unwrap();
        assert_eq!(
            client.data_url(&id),
            "http://127.0.0.1:1984/YYsecjlH5ymDGTRWWP9xFJzoPrQCxzaRsuC1xGoF2cA"
        );
        let client = Client::new("https://arweave.net").unwrap();
        assert_eq!(client.data_url(&id), format!("https://arweave.net/{id}"));
        let with_path = Client::new("https://gw.example/arweave/").unwrap();
        assert_eq!(with_path.gateway(), "https://gw.example/arweave");

        assert!(matches!(
            Client::new("arweave.net").unwrap_err(),
            ArweaveError::GatewayUrl { .. }
        ));
        assert!(matches!(
            Client::new("ftp://arweave.net").unwrap_err(),
            ArweaveError::GatewayScheme { .. }
        ));
    }

    #[test]
    fn winston_amounts() {
        assert_eq!(parse_winston("0"), Some(0));
        assert_eq!(
            parse_winston("1000000000000000\n"),
            Some(1_000_000_000_000_000)
        );
        assert_eq!(
            parse_winston("999999934404492.5"),
            Some(999_999_934_404_492)
        );
        assert_eq!(parse_winston("-1"), None);
        assert_eq!(parse_winston("NaN"), None);
        assert_eq!(parse_winston("Not Found"), None);
    }

    #[test]
    fn transient_chunk_errors() {
        let status = |status, body: &str| ArweaveError::Status {
            method: "POST",
            url: "u".into(),
            status,
            body: body.into(),
        };
        assert!(chunk_error_is_transient(&status(
            400,
            "{\"error\":\"data_root_not_found\"}"
        )));
        assert!(chunk_error_is_transient(&status(503, "")));
        assert!(chunk_error_is_transient(&status(429, "")));
        assert!(!chunk_error_is_transient(&status(
            400,
            "{\"error\":\"invalid_proof\"}"
        )));
        assert!(!chunk_error_is_transient(&ArweaveError::Unsigned));
    }

    #[test]
    fn excerpts_are_bounded() {
        assert_eq!(excerpt(b"  Not Found \n"), "Not Found");
        let long = "é".repeat(BODY_EXCERPT + 10);
        assert_eq!(excerpt(long.as_bytes()).chars().count(), BODY_EXCERPT + 1);
    }
}
