//! The crate's one error type.
//!
//! Every variant names what went wrong in terms a caller can act on (which key member, which
//! endpoint, which status) and keeps the lower-level error as its `source`, so a log line with the
//! cause chain explains a failure without a debugger. HTTP answers outside 2xx become
//! [`ArweaveError::Status`] with the status and the start of the body, because gateways put the
//! reason (`invalid_proof`, `Transaction verification failed.`) in the body.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::tx::TxId;

/// The error type of a gateway URL that does not parse.
pub type UrlParseError = <reqwest::Url as FromStr>::Err;

/// Shorthand for results of this crate.
pub type Result<T, E = ArweaveError> = std::result::Result<T, E>;

/// Where a JWK came from, so a bad key is reported against the place the operator has to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// A JSON string handed to [`Wallet::from_jwk`](crate::Wallet::from_jwk).
    Inline,
    /// An environment variable holding the JWK JSON.
    Env(&'static str),
    /// A key file.
    File(PathBuf),
}

impl fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyOrigin::Inline => f.write_str("the given JSON"),
            KeyOrigin::Env(var) => write!(f, "${var}"),
            KeyOrigin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Everything that can fail in this crate.
#[derive(Debug, thiserror::Error)]
pub enum ArweaveError {
    /// Neither `ARWEAVE_KEY` nor `ARWEAVE_KEY_FILE` is set.
    #[error(
        "no Arweave wallet configured: set ARWEAVE_KEY to the JWK JSON or ARWEAVE_KEY_FILE to the path of a JWK file"
    )]
    WalletNotConfigured,
    /// A wallet environment variable holds bytes that are not Unicode.
    #[error("environment variable {var} is not valid Unicode")]
    WalletEnvNotUnicode {
        /// The variable.
        var: &'static str,
    },
    /// The key file could not be read.
    #[error("cannot read the Arweave key file {}", path.display())]
    KeyFileRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The JWK is not JSON, or not a JSON object of strings.
    #[error("the Arweave JWK from {origin} is not a JSON object of strings")]
    JwkJson {
        /// Where the JWK came from.
        origin: KeyOrigin,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The JWK is not an RSA key.
    #[error(
        "the Arweave JWK from {origin} has kty {kty:?}; Arweave wallets are RSA keys (kty \"RSA\")"
    )]
    JwkNotRsa {
        /// Where the JWK came from.
        origin: KeyOrigin,
        /// The `kty` member found.
        kty: String,
    },
    /// A required JWK member is missing.
    #[error(
        "the Arweave JWK from {origin} lacks {member:?}; a wallet key needs n, e, d, p, q, dp, dq and qi (is this a public key?)"
    )]
    JwkMissingMember {
        /// Where the JWK came from.
        origin: KeyOrigin,
        /// The missing member.
        member: &'static str,
    },
    /// A JWK member is not base64url.
    #[error("the Arweave JWK member {member:?} from {origin} is not base64url")]
    JwkBase64 {
        /// Where the JWK came from.
        origin: KeyOrigin,
        /// The member.
        member: &'static str,
        /// The decode error.
        #[source]
        source: base64::DecodeError,
    },
    /// The JWK members do not form a valid RSA key.
    #[error("the Arweave JWK from {origin} is not a valid RSA private key")]
    JwkInvalidKey {
        /// Where the JWK came from.
        origin: KeyOrigin,
        /// Why the RSA library refused it.
        #[source]
        source: rsa::Error,
    },
    /// A CRT member of the JWK does not match the key's primes.
    #[error("the Arweave JWK from {origin} is inconsistent: {member:?} does not match p, q and d")]
    JwkInconsistent {
        /// Where the JWK came from.
        origin: KeyOrigin,
        /// The member that does not match.
        member: &'static str,
    },
    /// RSA key generation failed.
    #[error("cannot generate a {bits}-bit RSA key")]
    KeyGeneration {
        /// The requested size.
        bits: usize,
        /// The RSA error.
        #[source]
        source: rsa::Error,
    },
    /// RSA-PSS signing failed.
    #[error("RSA-PSS signing failed")]
    Signing(#[source] rsa::signature::Error),

    /// A transaction field is not base64url.
    #[error("transaction field {field} is not base64url")]
    FieldBase64 {
        /// The field.
        field: &'static str,
        /// The decode error.
        #[source]
        source: base64::DecodeError,
    },
    /// A numeric transaction field is not a canonical decimal string.
    #[error("transaction field {field} is {value:?}, not a decimal number without leading zeros")]
    FieldDecimal {
        /// The field.
        field: &'static str,
        /// The value found.
        value: String,
    },
    /// A string is not a transaction id.
    #[error("{value:?} is not an Arweave transaction id (43 base64url characters, 32 bytes)")]
    InvalidTxId {
        /// The value found.
        value: String,
    },
    /// A transaction's JSON does not have the format-2 shape.
    #[error("transaction JSON does not have the Arweave shape")]
    TxJson(#[source] serde_json::Error),
    /// A transaction of another format than 2.
    #[error("transaction format {format} is not supported; this crate reads and writes format 2")]
    UnsupportedFormat {
        /// The format found.
        format: u64,
    },
    /// A tag name or value is not UTF-8.
    #[error("tag {index} has a {part} that is not UTF-8")]
    TagNotUtf8 {
        /// Position of the tag.
        index: usize,
        /// `"name"` or `"value"`.
        part: &'static str,
        /// The UTF-8 error.
        #[source]
        source: std::string::FromUtf8Error,
    },
    /// A tag with an empty name.
    #[error("tag {index} has an empty name")]
    EmptyTagName {
        /// Position of the tag.
        index: usize,
    },
    /// Tags larger than a transaction may carry.
    #[error("the tags take {size} bytes; an Arweave transaction carries at most {limit}")]
    TagsTooLarge {
        /// Bytes of all names and values.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The operation needs a signed transaction.
    #[error("the transaction is not signed")]
    Unsigned,
    /// The signature does not verify against the owner key.
    #[error("the transaction signature does not verify against its owner key")]
    BadSignature,
    /// The owner is not a usable RSA modulus.
    #[error("the transaction owner is not a usable RSA public key")]
    BadOwner(#[source] rsa::Error),
    /// The id is not the SHA-256 of the signature.
    #[error("the transaction id {claimed} is not the SHA-256 of its signature ({actual})")]
    IdMismatch {
        /// The id the transaction carries.
        claimed: String,
        /// The id its signature gives.
        actual: TxId,
    },
    /// Inline data of another length than the transaction's `data_size`.
    #[error("the data is {got} bytes but the transaction was signed for {expected}")]
    DataSizeMismatch {
        /// `data_size` of the transaction.
        expected: u64,
        /// Bytes given.
        got: u64,
    },

    /// The gateway URL does not parse.
    #[error("gateway URL {url:?} is not a URL")]
    GatewayUrl {
        /// The URL given.
        url: String,
        /// The parse error.
        #[source]
        source: UrlParseError,
    },
    /// The gateway URL is not http(s) or cannot be a base.
    #[error("gateway URL {url:?} must be an http:// or https:// base URL")]
    GatewayScheme {
        /// The URL given.
        url: String,
    },
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
    /// A request did not complete: connection refused, timeout, broken body.
    #[error("{method} {url} failed")]
    Request {
        /// HTTP method.
        method: &'static str,
        /// The URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The gateway answered with a status this call does not accept.
    #[error("{method} {url} answered HTTP {status}: {body}")]
    Status {
        /// HTTP method.
        method: &'static str,
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the body, as text.
        body: String,
    },
    /// A 2xx answer whose body is not what the endpoint returns.
    #[error("{method} {url} answered {body:?}, not {expected}")]
    UnexpectedBody {
        /// HTTP method.
        method: &'static str,
        /// The URL.
        url: String,
        /// What the body should have been.
        expected: &'static str,
        /// The start of the body, as text.
        body: String,
    },
    /// A 2xx JSON answer that does not parse.
    #[error("{method} {url} answered JSON of an unexpected shape")]
    ResponseJson {
        /// HTTP method.
        method: &'static str,
        /// The URL.
        url: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The wallet cannot pay for the upload.
    #[error(
        "Arweave wallet {address} holds {balance} winston but this upload costs {required}; fund the wallet first"
    )]
    InsufficientFunds {
        /// The wallet address.
        address: String,
        /// Its balance in winston.
        balance: u128,
        /// The upload's reward in winston.
        required: u128,
    },
    /// The gateway does not know the transaction.
    #[error("transaction {id} is not known to the gateway")]
    NotFound {
        /// The transaction.
        id: TxId,
    },
    /// The gateway knows the transaction but has no data for it yet (chunks still propagating).
    #[error("the data of transaction {id} is not available yet (HTTP {status}); try again later")]
    DataUnavailable {
        /// The transaction.
        id: TxId,
        /// The status the gateway answered.
        status: u16,
    },
    /// Downloaded bytes whose SHA-256 is not the expected one.
    #[error(
        "the data of transaction {id} has SHA-256 {}, expected {}: refusing it",
        hex::encode(actual),
        hex::encode(expected)
    )]
    HashMismatch {
        /// The transaction.
        id: TxId,
        /// The SHA-256 the caller expected.
        expected: [u8; 32],
        /// The SHA-256 of the bytes received.
        actual: [u8; 32],
    },
}
