//! The node's configuration: one typed struct, layered defaults → TOML file → `ENGRAM_*`
//! environment → command-line flags (the binary applies the last layer).
//! `config.example.toml` at the repository root documents every field.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::NodeError;
use crate::fault::Fault;

/// Everything a node needs to start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Address to listen on (`ENGRAM_LISTEN`).
    pub listen: SocketAddr,
    /// Data directory (`ENGRAM_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Model directory (`ENGRAM_MODEL_DIR`); the user's model location
    /// (`~/.local/share/engram/model`) when unset, whatever the data directory.
    pub model_dir: Option<PathBuf>,
    /// Largest request body in bytes; larger ones get 413 (`ENGRAM_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Texts waiting to be embedded before new ones get 503 (`ENGRAM_EMBED_QUEUE`).
    pub embed_queue: usize,
    /// Most texts embedded in one forward pass (`ENGRAM_MAX_BATCH`).
    pub max_batch: usize,
    /// Embedding threads, 1 to [`MAX_EMBED_WORKERS`], each running its batches on an equal
    /// share of the cores (`ENGRAM_EMBED_WORKERS`).
    pub embed_workers: usize,
    /// Ingests per caller per minute, 0 for no limit (`ENGRAM_INGEST_RATE_PER_MINUTE`).
    pub ingest_rate_per_minute: u32,
    /// Seconds between checks for segments to index (`ENGRAM_INDEX_INTERVAL_S`).
    pub index_interval_s: u64,
    /// Seconds between replication repair rounds when on a network
    /// (`ENGRAM_REPAIR_INTERVAL_S`).
    pub repair_interval_s: u64,
    /// Seconds between reads of attested namespace owners' stake when on a network
    /// (`ENGRAM_ATTESTATION_REFRESH_S`).
    pub attestation_refresh_s: u64,
    /// Refuse unsigned data requests (`REQUIRE_HOTKEY_SIG` or `ENGRAM_REQUIRE_HOTKEY_SIG`).
    pub require_hotkey_sig: bool,
    /// SS58 hotkeys allowed to send challenges; empty allows anyone
    /// (`ENGRAM_CHALLENGE_ALLOWLIST`, comma-separated).
    pub challenge_allowlist: Vec<String>,
    /// ε of the noise added to embeddings the node makes for private namespaces; `None`
    /// disables it (`DP_EPSILON`, `none` to disable; default 3).
    pub dp_epsilon: Option<f64>,
    /// Largest document (PDF, image, fetched page) `POST /IngestDocument` reads, in bytes
    /// (`ENGRAM_MAX_DOCUMENT_BYTES`, default 50 MB).
    pub max_document_bytes: usize,
    /// Let `POST /IngestDocument` fetch URLs on loopback, private and link-local addresses
    /// (`ENGRAM_ALLOW_PRIVATE_URLS`; default false, so the node is no proxy into its own
    /// network).
    pub allow_private_urls: bool,
    /// Seconds between retries of pending Arweave uploads, when `ARWEAVE_KEY` or
    /// `ARWEAVE_KEY_FILE` configures a wallet (`ENGRAM_ARWEAVE_RETRY_S`).
    pub arweave_retry_s: u64,
    /// How public blobs are cut into Reed–Solomon shards when spread over a network:
    /// `data` of `total` rebuild a file (`ENGRAM_ERASURE=k/n`, default 4/6).
    pub erasure: engram_core::erasure::Layout,
    /// Test-only misbehaviour (`ENGRAM_FAULT`); never read from the file, and absent from
    /// builds without the `fault-injection` feature.
    #[cfg(feature = "fault-injection")]
    #[serde(skip)]
    pub fault: Fault,
}

/// Most embedding threads a node starts.
pub const MAX_EMBED_WORKERS: usize = 64;

impl NodeConfig {
    /// The misbehaviour this node is configured for: always [`Fault::None`] in builds
    /// without the `fault-injection` feature, so the handlers' fault branches compile away.
    #[inline]
    pub fn fault(&self) -> Fault {
        #[cfg(feature = "fault-injection")]
        return self.fault;
        #[cfg(not(feature = "fault-injection"))]
        Fault::None
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], engram_core::DEFAULT_PORT)),
            data_dir: engram_embed::model_dir::default_data_dir(),
            model_dir: None,
            max_body_bytes: 1 << 20,
            embed_queue: 1024,
            max_batch: 32,
            embed_workers: 1,
            ingest_rate_per_minute: 100,
            index_interval_s: 5,
            repair_interval_s: 60,
            attestation_refresh_s: 600,
            require_hotkey_sig: false,
            challenge_allowlist: Vec::new(),
            dp_epsilon: Some(engram_core::noise::DEFAULT_EPSILON),
            max_document_bytes: engram_media::DEFAULT_MAX_BYTES,
            allow_private_urls: false,
            arweave_retry_s: 60,
            erasure: engram_core::erasure::DEFAULT_LAYOUT,
            #[cfg(feature = "fault-injection")]
            fault: Fault::None,
        }
    }
}

fn env_parse<T: std::str::FromStr>(name: &'static str, slot: &mut T) -> Result<(), NodeError>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    if let Ok(raw) = std::env::var(name) {
        *slot = raw.parse().map_err(|e| NodeError::Env {
            name,
            raw: raw.clone(),
            source: Box::new(e),
        })?;
    }
    Ok(())
}

impl NodeConfig {
    /// Defaults, then the TOML file (when given), then the environment.
    ///
    /// # Errors
    /// [`NodeError::Config`] for an unreadable file, an unknown key or a bad value.
    pub fn load(file: Option<&Path>) -> Result<Self, NodeError> {
        let mut config = match file {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| NodeError::ConfigRead {
                        path: path.to_path_buf(),
                        source,
                    })?;
                toml::from_str(&text).map_err(|source| NodeError::ConfigParse {
                    path: path.to_path_buf(),
                    source,
                })?
            }
            None => Self::default(),
        };
        env_parse("ENGRAM_LISTEN", &mut config.listen)?;
        env_parse("ENGRAM_DATA_DIR", &mut config.data_dir)?;
        if let Ok(dir) = std::env::var("ENGRAM_MODEL_DIR") {
            config.model_dir = Some(dir.into());
        }
        env_parse("ENGRAM_MAX_BODY_BYTES", &mut config.max_body_bytes)?;
        env_parse("ENGRAM_EMBED_QUEUE", &mut config.embed_queue)?;
        env_parse("ENGRAM_MAX_BATCH", &mut config.max_batch)?;
        env_parse("ENGRAM_EMBED_WORKERS", &mut config.embed_workers)?;
        env_parse(
            "ENGRAM_INGEST_RATE_PER_MINUTE",
            &mut config.ingest_rate_per_minute,
        )?;
        env_parse("ENGRAM_INDEX_INTERVAL_S", &mut config.index_interval_s)?;
        env_parse("ENGRAM_REPAIR_INTERVAL_S", &mut config.repair_interval_s)?;
        env_parse(
            "ENGRAM_ATTESTATION_REFRESH_S",
            &mut config.attestation_refresh_s,
        )?;
        env_parse("ENGRAM_MAX_DOCUMENT_BYTES", &mut config.max_document_bytes)?;
        env_parse("ENGRAM_ALLOW_PRIVATE_URLS", &mut config.allow_private_urls)?;
        env_parse("ENGRAM_ARWEAVE_RETRY_S", &mut config.arweave_retry_s)?;
        env_parse("ENGRAM_ERASURE", &mut config.erasure)?;
        env_parse("REQUIRE_HOTKEY_SIG", &mut config.require_hotkey_sig)?;
        env_parse("ENGRAM_REQUIRE_HOTKEY_SIG", &mut config.require_hotkey_sig)?;
        if let Ok(raw) = std::env::var("DP_EPSILON") {
            config.dp_epsilon = match raw.trim() {
                "none" | "off" => None,
                v => Some(v.parse().map_err(|e| NodeError::Env {
                    name: "DP_EPSILON",
                    raw: raw.clone(),
                    source: Box::new(e),
                })?),
            };
        }
        if config
            .dp_epsilon
            .is_some_and(|e| !(e.is_finite() && e > 0.0))
        {
            return Err(NodeError::Config(
                "dp_epsilon must be a positive number".into(),
            ));
        }
        if let Ok(list) = std::env::var("ENGRAM_CHALLENGE_ALLOWLIST") {
            config.challenge_allowlist = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
        }
        for hotkey in &config.challenge_allowlist {
            engram_core::keys::ss58_decode(hotkey).map_err(NodeError::Allowlist)?;
        }
        let fault = Fault::from_env()?;
        #[cfg(feature = "fault-injection")]
        {
            config.fault = fault;
        }
        #[cfg(not(feature = "fault-injection"))]
        let _ = fault; // `from_env` refuses every fault in this build
        if config.max_batch == 0 || config.embed_queue == 0 {
            return Err(NodeError::Config(
                "max_batch and embed_queue must be at least 1".into(),
            ));
        }
        if !(1..=MAX_EMBED_WORKERS).contains(&config.embed_workers) {
            return Err(NodeError::Config(format!(
                "embed_workers must be between 1 and {MAX_EMBED_WORKERS}"
            )));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_parses_and_unknown_keys_are_refused() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config.example.toml");
        let c = NodeConfig::load(Some(&example)).unwrap();
        assert_eq!(c.max_batch, 32);
        assert_eq!(c.embed_workers, 1);
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "listne = \"127.0.0.1:1\"\n").unwrap();
        let e = NodeConfig::load(Some(&bad)).unwrap_err();
        assert!(matches!(e, NodeError::ConfigParse { .. }), "{e}");
        assert!(e.to_string().contains("listne"), "{e}");
        assert!(matches!(
            NodeConfig::load(Some(&dir.path().join("missing.toml"))),
            Err(NodeError::ConfigRead { .. })
        ));
    }

    #[test]
    fn embed_workers_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("node.toml");
        for (workers, ok) in [
            (0, false),
            (1, true),
            (MAX_EMBED_WORKERS, true),
            (MAX_EMBED_WORKERS + 1, false),
        ] {
            std::fs::write(&file, format!("embed_workers = {workers}\n")).unwrap();
            match NodeConfig::load(Some(&file)) {
                Ok(c) => {
                    assert!(ok, "{workers} accepted");
                    assert_eq!(c.embed_workers, workers);
                }
                Err(e) => {
                    assert!(!ok, "{workers} refused: {e}");
                    assert!(matches!(e, NodeError::Config(_)), "{e}");
                    assert!(e.to_string().contains("embed_workers"), "{e}");
                }
            }
        }
    }
}
