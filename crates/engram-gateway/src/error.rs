//! The one error type of `engram-gateway`.

use std::path::PathBuf;

use thiserror::Error;

/// Why the gateway could not do something.
#[derive(Debug, Error)]
pub enum GatewayError {
    /// A payment, tier, address or key that `engram-cloud` refused.
    #[error(transparent)]
    Cloud(#[from] engram_cloud::CloudError),
    /// The chain's JSON-RPC endpoint could not be reached or answered garbage.
    #[error("chain RPC {method}: {source}")]
    Rpc {
        /// The JSON-RPC method.
        method: &'static str,
        /// The transport or decoding failure.
        #[source]
        source: reqwest::Error,
    },
    /// The chain answered a JSON-RPC error.
    #[error("chain RPC {method} failed: {message}")]
    RpcRefused {
        /// The JSON-RPC method.
        method: &'static str,
        /// The node's message (a revert reason, for calls).
        message: String,
    },
    /// The chain answered something that is not what the method returns.
    #[error("chain RPC {method} answered {got}")]
    RpcMalformed {
        /// The JSON-RPC method.
        method: &'static str,
        /// What it answered.
        got: String,
    },
    /// The RPC endpoint serves another chain than the one configured.
    #[error("the RPC endpoint serves chain {served}, the gateway is configured for {configured}")]
    WrongChain {
        /// What `eth_chainId` says.
        served: u64,
        /// What the configuration says.
        configured: u64,
    },
    /// A file of the gateway's state could not be read or written.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The session file does not parse.
    #[error("session state {} is damaged: {source}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parse failure.
        #[source]
        source: serde_json::Error,
    },
    /// A miner wallet could not be made or read.
    #[error(transparent)]
    Wallet(#[from] engram_chain::ChainError),
    /// The operating system had no randomness.
    #[error("no randomness from the operating system")]
    Randomness(#[source] getrandom::Error),
    /// Akash's Console API could not be reached or answered garbage.
    #[error("Akash API {path}: {source}")]
    Akash {
        /// The request path.
        path: String,
        /// The transport or decoding failure.
        #[source]
        source: reqwest::Error,
    },
    /// Akash's Console API refused a request.
    #[error("Akash API {path} answered {status}: {message}")]
    AkashRefused {
        /// The request path.
        path: String,
        /// The HTTP status.
        status: u16,
        /// Its message.
        message: String,
    },
    /// Akash's Console API answered something it does not define.
    #[error("Akash API {path} answered {got}")]
    AkashMalformed {
        /// The request path.
        path: String,
        /// What it answered.
        got: String,
    },
    /// Another gateway holds the state directory.
    #[error("{} is in use by another gateway", dir.display())]
    Locked {
        /// The state directory.
        dir: PathBuf,
    },
    /// The configured token does not have the EIP-712 domain payments are signed for.
    #[error(
        "the token at {token} does not have the EIP-712 domain (name {name:?}, version {version:?}) on this chain: check --token, --token-name and --token-version"
    )]
    WrongToken {
        /// The configured address.
        token: engram_cloud::eth::Address,
        /// The configured name.
        name: String,
        /// The configured version.
        version: String,
    },
    /// Both a key and a key file were given.
    #[error("give the settlement key once: ENGRAM_GATEWAY_KEY or a key file, not both")]
    TwoKeys,
    /// A miner could not be started or did not come up.
    #[error("the miner at {endpoint}: {reason}")]
    Miner {
        /// Where it was to serve.
        endpoint: String,
        /// What happened (with the tail of its log).
        reason: String,
    },
    /// The listen address could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A required setting is missing.
    #[error("the gateway needs `{0}` (flag, environment or config file)")]
    Missing(&'static str),
    /// A setting outside its range.
    #[error("`{name}` must be {range}")]
    OutOfRange {
        /// The setting.
        name: &'static str,
        /// Its range.
        range: &'static str,
    },
    /// A settings file that does not parse.
    #[error("settings {}: {source}", path.display())]
    Settings {
        /// The file.
        path: PathBuf,
        /// The parse failure.
        #[source]
        source: toml::de::Error,
    },
}
