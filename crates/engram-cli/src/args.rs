//! Command-line arguments. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Engram: permanent, content-addressed semantic memory.
///
/// With no node configured, commands work on a local store in the data directory and
/// embed in-process. Exit codes: 0 success, 1 error, 2 usage.
#[derive(Debug, Parser)]
#[command(name = "engram", version)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// Data directory [default: $ENGRAM_DATA_DIR, else ~/.local/share/engram].
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Model directory [default: $ENGRAM_MODEL_DIR, else the user's model location that setup
    /// filled, ~/.local/share/engram/model; never per data directory].
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) model_dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Talk to this Engram node instead of the local store (e.g. http://127.0.0.1:8091).
    #[arg(long, global = true, env = "ENGRAM_NODE", value_name = "URL")]
    pub(crate) node: Option<String>,
    /// Use the network whose registry is in DIR (a devnet directory): ingest writes to the
    /// 3 nodes nearest each CID, query fans out, get reads any replica; serve and validate
    /// join it.
    #[arg(
        long,
        global = true,
        env = "ENGRAM_NETWORK",
        value_name = "DIR",
        conflicts_with = "node"
    )]
    pub(crate) network: Option<PathBuf>,
    /// Wallet directory [default: $ENGRAM_WALLET_DIR, else <network>/wallets with
    /// --network, else <data dir>/wallets].
    #[arg(long, global = true, env = "ENGRAM_WALLET_DIR", value_name = "DIR")]
    pub(crate) wallet_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Store memories: one TEXT, a file of them (--file), or a ready-made vector (--vector).
    Ingest(IngestArgs),
    /// Find the memories nearest in meaning to TEXT.
    Query(QueryArgs),
    /// Show the memory stored under a CID.
    Get(CidArgs),
    /// Page through a namespace's memories (oldest first), optionally filtered by metadata.
    List(ListArgs),
    /// Delete memories by CID (in one pass), or a document by its file's CID (`sha256:…`):
    /// the file and every memory made from it. Prints the new commitment.
    Delete(DeleteArgs),
    /// Print the embedding of TEXT.
    Embed {
        /// The text to embed.
        text: String,
    },
    /// Read a record ({"embedding", "metadata", "model_version"}) on stdin and print its
    /// CID: offline verification of anything fetched from the network.
    Cid,
    /// Show the data directory, model, record count, commitment root and disk use; with
    /// --live and --network, the network: every neuron's stake, weight, incentive, score and
    /// health.
    Status {
        /// The network's metagraph and each node's health, one table (needs --network).
        #[arg(long)]
        live: bool,
    },
    /// Documents' raw bytes, kept under their content CID (sha256:…).
    #[command(subcommand)]
    Blob(BlobCommand),
    /// Report near-duplicate memories of a namespace (embeddings at least THRESHOLD
    /// similar), each against the earliest copy; --remove deletes them (private
    /// namespaces only: public memories are permanent). Local store only.
    Dedup {
        /// Cosine similarity from which two memories count as copies, in (0, 1].
        #[arg(long, default_value_t = 0.98)]
        threshold: f32,
        /// The namespace [default: public].
        #[arg(long)]
        namespace: Option<String>,
        /// Delete the later copies (and print the new commitment).
        #[arg(long)]
        remove: bool,
    },
    /// Consistent copies of the store (vectors, texts, blobs, commitment) in one file,
    /// taken while it serves, and their checked restore.
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// Run a node: the Engram wire protocol over HTTP on this data directory. With
    /// --network and --wallet it registers, announces itself and repairs replication.
    Serve(ServeArgs),
    /// The web app on this data directory, for you alone: playground, memory browser, CID
    /// verification and dashboard at http://127.0.0.1:8090/ (loopback only; `serve` serves
    /// the same app to others).
    Web(WebArgs),
    /// Keep hotkeys: create, list, show.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Run a validator on --network: scoring, storage-proof challenges, audits, weights.
    Validate(ValidateArgs),
    /// A whole subnet on this machine: nodes and validators as real processes.
    #[command(subcommand)]
    Devnet(DevnetCommand),
    /// Encryption keys for private memories.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Cloud mining: the tiers a rented miner comes in and its Akash deployment manifest.
    #[command(subcommand)]
    Cloud(CloudCommand),
    /// Write every memory of a namespace as JSON lines (CID, exact vector, metadata, text;
    /// a private namespace's as stored: sealed) to --out or stdout.
    Export {
        /// The namespace [default: public].
        #[arg(long)]
        namespace: Option<String>,
        /// The file to write (never overwritten); stdout when absent.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Store the memories of an export file (`-` for stdin), every CID verified first:
    /// one that does not match its content and nothing is stored (exit 1).
    Import {
        /// The export file.
        file: PathBuf,
        /// Store them all into this namespace [default: each into its own].
        #[arg(long)]
        namespace: Option<String>,
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Bind NAMESPACE publicly to --wallet's hotkey on --node, so its memories carry the
    /// trust tier that hotkey's stake buys.
    Attest {
        /// The namespace (yours: the first hotkey to sign for a namespace owns it).
        namespace: String,
        /// The wallet whose hotkey owns the namespace.
        #[arg(long, value_name = "NAME")]
        wallet: String,
    },
    /// Show who vouches for NAMESPACE on --node, and its trust tier.
    Attestation {
        /// The namespace.
        namespace: String,
    },
    /// Read an encrypted memory blob on stdin and print its plaintext JSON
    /// ({"text", "metadata"}).
    Decrypt {
        /// Key file from `engram keys new`.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
}

/// `engram cloud …`.
#[derive(Debug, Subcommand)]
pub(crate) enum CloudCommand {
    /// The tiers: CPU, memory, storage and price per hour.
    Tiers,
    /// Write the Akash SDL (deployment manifest) of one cloud miner.
    Sdl {
        /// lite (1 vCPU, 2 GiB), standard (2, 4) or pro (4, 8).
        #[arg(long)]
        tier: engram_cloud::tiers::Tier,
        /// The SS58 hotkey that controls the miner (the phone's).
        #[arg(long)]
        hotkey: String,
        /// The miner image [default: the project's published image].
        #[arg(long)]
        image: Option<String>,
        /// The gateway's session id, passed to the miner as ENGRAM_SESSION_ID.
        #[arg(long)]
        session: Option<String>,
        /// More environment for `engram serve` in the container (repeatable).
        #[arg(long = "env", value_name = "NAME=VALUE")]
        env: Vec<String>,
        /// The file to write; stdout when absent.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Sell miner hours: paid sessions over x402 (USDC, EIP-3009), each a real `engram
    /// serve` on this machine (on --network when given). The settlement key comes from
    /// --key-file or ENGRAM_GATEWAY_KEY, never from a flag.
    Gateway(Box<GatewayArgs>),
}

/// `engram cloud gateway`: each setting from a flag, else its ENGRAM_GATEWAY_* variable,
/// else --config's TOML file.
#[derive(Debug, Args)]
pub(crate) struct GatewayArgs {
    /// A TOML file with any of the settings below (snake_case keys: rpc, token, pay_to, …).
    #[arg(long, value_name = "FILE", env = "ENGRAM_GATEWAY_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8095].
    #[arg(long, value_name = "ADDR", env = "ENGRAM_GATEWAY_LISTEN")]
    pub(crate) listen: Option<std::net::SocketAddr>,
    /// The chain's JSON-RPC endpoint.
    #[arg(long, value_name = "URL", env = "ENGRAM_GATEWAY_RPC")]
    pub(crate) rpc: Option<String>,
    /// The chain id the endpoint must serve [default: whatever it serves].
    #[arg(long, value_name = "ID", env = "ENGRAM_GATEWAY_CHAIN_ID")]
    pub(crate) chain_id: Option<u64>,
    /// The EIP-3009 token contract (USDC).
    #[arg(long, value_name = "ADDRESS", env = "ENGRAM_GATEWAY_TOKEN")]
    pub(crate) token: Option<String>,
    /// The token's EIP-712 domain name [default: USD Coin].
    #[arg(long, value_name = "NAME", env = "ENGRAM_GATEWAY_TOKEN_NAME")]
    pub(crate) token_name: Option<String>,
    /// The token's EIP-712 domain version [default: 2].
    #[arg(long, value_name = "VERSION", env = "ENGRAM_GATEWAY_TOKEN_VERSION")]
    pub(crate) token_version: Option<String>,
    /// Who is paid.
    #[arg(long, value_name = "ADDRESS", env = "ENGRAM_GATEWAY_PAY_TO")]
    pub(crate) pay_to: Option<String>,
    /// A file with the hex secp256k1 key that submits settlements (and pays their gas).
    #[arg(long, value_name = "FILE", env = "ENGRAM_GATEWAY_KEY_FILE")]
    pub(crate) key_file: Option<PathBuf>,
    /// Sessions, payments and local miners [default: <data dir>/gateway].
    #[arg(long, value_name = "DIR", env = "ENGRAM_GATEWAY_STATE")]
    pub(crate) state_dir: Option<PathBuf>,
    /// Seconds a signed payment stays good for (10–3600) [default: 60].
    #[arg(long, value_name = "S", env = "ENGRAM_GATEWAY_MAX_TIMEOUT")]
    pub(crate) max_timeout_s: Option<u64>,
    /// The URL clients reach the gateway at, as named in its 402 answers.
    #[arg(long, value_name = "URL", env = "ENGRAM_GATEWAY_PUBLIC_URL")]
    pub(crate) public_url: Option<String>,
    /// Seconds a paid request waits for its settlement to be mined before answering 202
    /// `settlement_pending` (1–600) [default: 60].
    #[arg(long, value_name = "S", env = "ENGRAM_GATEWAY_SETTLE_WAIT")]
    pub(crate) settle_wait_s: Option<u64>,
    /// Where miners run: `local` (`engram serve` processes on this machine) or `akash`
    /// (Akash's Console API, key in ENGRAM_GATEWAY_AKASH_KEY; not tested against Akash).
    #[arg(
        long,
        value_name = "WHERE",
        default_value = "local",
        env = "ENGRAM_GATEWAY_PROVISIONER"
    )]
    pub(crate) provisioner: Provisioner,
    /// With --provisioner akash: the Console API [default: https://console-api.akash.network].
    #[arg(long, value_name = "URL", env = "ENGRAM_GATEWAY_AKASH_API")]
    pub(crate) akash_api: Option<String>,
    /// With --provisioner akash: the miner image [default: the manifest's].
    #[arg(long, value_name = "IMAGE", env = "ENGRAM_GATEWAY_IMAGE")]
    pub(crate) image: Option<String>,
}

/// Where the gateway's miners run.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum Provisioner {
    /// `engram serve` processes on this machine.
    Local,
    /// Deployments on Akash.
    Akash,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Write a new X25519 private key (64 hex characters, mode 0600) and print its public key.
    New {
        /// Where to write the key; an existing file is never overwritten.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Split a private namespace's key file K-of-N (Shamir over GF(256)) and give one share
    /// to each of the N live nodes nearest the namespace on --network; any K recover it,
    /// K−1 learn nothing. Dealing again replaces every share (re-deal after a node is lost).
    Split {
        /// The key file to split.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The private namespace whose key it is (its owner's --wallet signs each share).
        #[arg(long, value_name = "NAMESPACE")]
        namespace: String,
        /// K: shares needed to recover.
        #[arg(long, default_value_t = 2)]
        threshold: u8,
        /// N: shares dealt, one per node.
        #[arg(long, default_value_t = 3)]
        shares: u8,
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Recover a private namespace's key from K of its shares on --network and write it as
    /// a key file (mode 0600; an existing file is never overwritten).
    Recover {
        /// The private namespace.
        #[arg(long, value_name = "NAMESPACE")]
        namespace: String,
        /// Where to write the key.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        sign: SignArgs,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum WalletCommand {
    /// Create a hotkey from fresh randomness (mnemonic-derived, file mode 0600).
    New {
        /// The wallet's name.
        name: String,
    },
    /// List the wallets.
    List,
    /// Show a wallet's address and public key (never its mnemonic).
    Show {
        /// The wallet's name.
        name: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The wallet whose hotkey the validator signs with.
    #[arg(long, value_name = "NAME")]
    pub(crate) wallet: String,
    /// Where the validator keeps its state [default: <data dir>/validator].
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
    /// Seconds between scoring rounds.
    #[arg(long, default_value_t = 120)]
    pub(crate) scoring_interval_s: u64,
    /// Seconds between challenge rounds.
    #[arg(long, default_value_t = 300)]
    pub(crate) challenge_interval_s: u64,
    /// Seconds between weight sets.
    #[arg(long, default_value_t = 600)]
    pub(crate) weights_interval_s: u64,
    /// Retrieval audits per node per challenge round.
    #[arg(long, default_value_t = 4)]
    pub(crate) audits_per_node: usize,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DevnetCommand {
    /// Start a devnet: N nodes and M validators with their own wallets and data dirs.
    Up(DevnetUpArgs),
    /// Show the metagraph, the validators' latest scores and the weights.
    Status {
        /// The devnet directory.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Stop every process of the devnet cleanly.
    Down {
        /// The devnet directory.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Devnet faucet: register a wallet's hotkey and add stake to it (trust tiers follow
    /// stake: community ≥ 1, verified ≥ 100, sovereign ≥ 1000).
    Stake {
        /// The devnet directory.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The wallet (in --wallet-dir, else DIR/wallets).
        #[arg(long, value_name = "NAME")]
        wallet: String,
        /// Stake to add.
        #[arg(long)]
        amount: f64,
    },
}

#[derive(Debug, Args)]
pub(crate) struct DevnetUpArgs {
    /// The devnet directory (created).
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: PathBuf,
    /// Storage nodes to start.
    #[arg(long, default_value_t = 5)]
    pub(crate) miners: usize,
    /// Validators to start.
    #[arg(long, default_value_t = 1)]
    pub(crate) validators: usize,
    /// Seconds between scoring rounds (devnet cadence).
    #[arg(long, default_value_t = 5)]
    pub(crate) scoring_interval_s: u64,
    /// Seconds between challenge rounds (devnet cadence).
    #[arg(long, default_value_t = 8)]
    pub(crate) challenge_interval_s: u64,
    /// Seconds between weight sets (devnet cadence).
    #[arg(long, default_value_t = 20)]
    pub(crate) weights_interval_s: u64,
    /// Seconds between the nodes' repair rounds (devnet cadence).
    #[arg(long, default_value_t = 5)]
    pub(crate) repair_interval_s: u64,
    /// How miners cut public files into erasure-code shards: any K of N rebuild one.
    #[arg(long, value_name = "K/N", default_value_t = engram_core::erasure::DEFAULT_LAYOUT)]
    pub(crate) erasure: engram_core::erasure::Layout,
    /// Test only: make a node misbehave, e.g. `miner-2=drop-half`, `miner-3=hash-only`,
    /// `miner-4=delay-ms=300` (repeatable).
    #[arg(long, value_name = "NAME=FAULT", hide = true)]
    pub(crate) fault: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8091; env ENGRAM_LISTEN].
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<std::net::SocketAddr>,
    /// A TOML config file (see config.example.toml); flags and ENGRAM_* override it.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Ingests per caller per minute, 0 for no limit.
    #[arg(long, value_name = "N")]
    pub(crate) ingest_rate_per_minute: Option<u32>,
    /// Largest request body in bytes.
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_body_bytes: Option<usize>,
    /// Texts waiting to be embedded before new ones get 503.
    #[arg(long, value_name = "N")]
    pub(crate) embed_queue: Option<usize>,
    /// With --network: the wallet whose hotkey identifies this node.
    #[arg(long, value_name = "NAME")]
    pub(crate) wallet: Option<String>,
    /// Writes the address actually bound (`127.0.0.1:40123`) to FILE once the node listens:
    /// how a supervisor learns the port of `--listen 127.0.0.1:0`.
    #[arg(long, value_name = "FILE")]
    pub(crate) addr_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct WebArgs {
    /// Loopback address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8090")]
    pub(crate) listen: std::net::SocketAddr,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["text", "file", "vector", "pdf", "url", "image"]))]
pub(crate) struct IngestArgs {
    /// The memory's text.
    pub(crate) text: Option<String>,
    /// A file of memories: JSONL ({"text", "metadata"?} per line) or plain text (one
    /// memory per line). `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    /// A JSON record {"embedding": [384 floats], "metadata"?, "model_version"?} whose
    /// exact vector is stored. `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub(crate) vector: Option<PathBuf>,
    /// A PDF: its text, page by page, in overlapping chunks (one memory each); the file is
    /// kept as a blob under its content CID (and put on Arweave with a wallet).
    #[arg(long, value_name = "FILE")]
    pub(crate) pdf: Option<PathBuf>,
    /// A web page (or PDF) to fetch: its readable text in chunks; the page kept as a blob.
    #[arg(long, value_name = "URL")]
    pub(crate) url: Option<String>,
    /// An image (PNG, JPEG, GIF, WebP): embedded by its --description, else a vision model
    /// (ENGRAM_VISION_URL), else its text by OCR (tesseract); kept as a blob.
    #[arg(long, value_name = "FILE")]
    pub(crate) image: Option<PathBuf>,
    /// The text that stands for --image.
    #[arg(long, value_name = "TEXT", requires = "image")]
    pub(crate) description: Option<String>,
    /// Largest document read by --pdf, --url, --image [default: 50000000].
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_bytes: Option<usize>,
    /// Metadata for TEXT, as a JSON object.
    #[arg(long, value_name = "JSON")]
    pub(crate) metadata: Option<String>,
    /// Namespace to store into [default: public].
    #[arg(long)]
    pub(crate) namespace: Option<String>,
    /// Seconds until this memory expires and leaves the store, its commitment and every
    /// node holding it (private --namespace only: public memories are permanent).
    #[arg(long, value_name = "SECONDS")]
    pub(crate) ttl: Option<u64>,
    #[command(flatten)]
    pub(crate) sign: SignArgs,
    /// How to read --file.
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) format: FileFormat,
    /// Encrypt TEXT and its metadata to this key file's public key before anything leaves
    /// the machine: the vector is computed locally and the store keeps only the vector and
    /// the ciphertext (metadata `engram_encrypted`). With --pdf, --url or --image (and a
    /// private --namespace) the file is sealed too, and each chunk is a sealed memory.
    #[arg(long, value_name = "KEY_FILE", conflicts_with_all = ["file", "vector"])]
    pub(crate) encrypt: Option<PathBuf>,
    /// Noise on vectors sent from here into a private namespace (--encrypt, --vector):
    /// σ = 1/(ε·√384) per dimension, then re-normalized; `none` sends them exact.
    #[arg(long, value_name = "EPS|none", default_value = "3", value_parser = parse_epsilon)]
    pub(crate) dp_epsilon: Epsilon,
}

/// ε of the noise on vectors for private namespaces; `None` for none.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Epsilon(pub(crate) Option<f64>);

fn parse_epsilon(s: &str) -> Result<Epsilon, String> {
    match s {
        "none" | "off" => Ok(Epsilon(None)),
        _ => match s.parse::<f64>() {
            Ok(e) if e.is_finite() && e > 0.0 => Ok(Epsilon(Some(e))),
            _ => Err(format!("expected a positive number or `none`, got {s:?}")),
        },
    }
}

/// `engram blob …`.
#[derive(Debug, Subcommand)]
pub(crate) enum BlobCommand {
    /// Write a blob's bytes (checked against CID) to --out or stdout.
    Get {
        /// The content CID, `sha256:<hex>`.
        cid: String,
        /// The file to write; stdout when absent.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The private namespace it belongs to (on a node: signed with --wallet).
        #[arg(long)]
        namespace: Option<String>,
        /// Open a sealed blob with this key file (the one `ingest --encrypt` sealed it to).
        #[arg(long, value_name = "KEY_FILE")]
        decrypt: Option<PathBuf>,
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Show a blob's record: size, type, namespace, Arweave state.
    Info {
        /// The content CID, `sha256:<hex>`.
        cid: String,
    },
    /// Upload the blobs whose Arweave upload is pending, now (needs ARWEAVE_KEY or
    /// ARWEAVE_KEY_FILE; gateway ENGRAM_ARWEAVE_URL).
    Push,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SnapshotCommand {
    /// Take a snapshot: of the local store, or with --node of that node (it writes the file
    /// into its own data directory; loopback only, the node's operator).
    Create {
        /// The file to write (never overwritten) [default: DATA_DIR/snapshots/<time>.tar.gz].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The snapshots in a directory, newest first: time, memories, roots, size.
    List {
        /// Where to look [default: DATA_DIR/snapshots].
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Restore a snapshot as a new data directory, after checking every file and
    /// recomputing the commitment from its records.
    Restore {
        /// The snapshot file.
        file: PathBuf,
        /// The data directory to create (absent or empty).
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
}

/// Format of an ingest file.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum FileFormat {
    /// JSONL when the first non-blank line starts with `{`, else text.
    Auto,
    /// One JSON object per line.
    Jsonl,
    /// One memory per line.
    Text,
}

#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// What to look for.
    pub(crate) text: String,
    /// How many results (1–100).
    #[arg(long, short = 'k', default_value_t = 10)]
    pub(crate) top_k: usize,
    /// Metadata equality filter KEY=VALUE (repeatable; VALUE is JSON if it parses as a
    /// number or boolean, else a string).
    #[arg(long, value_name = "KEY=VALUE")]
    pub(crate) filter: Vec<String>,
    /// Namespace to search [default: public].
    #[arg(long)]
    pub(crate) namespace: Option<String>,
    /// Only results whose namespace's owner is at least this trusted.
    #[arg(long, value_name = "TIER")]
    pub(crate) min_tier: Option<engram_core::tier::TrustTier>,
    /// Rank by meaning (dense), by words (keyword: BM25 over the stored texts) or both
    /// fused (hybrid).
    #[arg(long, value_name = "MODE", default_value = "dense")]
    pub(crate) mode: engram_core::search::SearchMode,
    /// With --mode hybrid: the keyword ranking's weight against the dense one's 1
    /// (0.01–100).
    #[arg(long, value_name = "W")]
    pub(crate) keyword_weight: Option<f64>,
    #[command(flatten)]
    pub(crate) sign: SignArgs,
    /// Embed the query locally (the text never leaves the machine) and decrypt encrypted
    /// results with this key file.
    #[arg(long, value_name = "KEY_FILE")]
    pub(crate) decrypt: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Memories per page (1–200).
    #[arg(long, default_value_t = 50)]
    pub(crate) limit: i64,
    /// Memories to skip.
    #[arg(long, default_value_t = 0)]
    pub(crate) offset: i64,
    /// Metadata equality filter KEY=VALUE (repeatable; VALUE is JSON if it parses as a
    /// number or boolean, else a string).
    #[arg(long, value_name = "KEY=VALUE")]
    pub(crate) filter: Vec<String>,
    /// Namespace to list [default: public].
    #[arg(long)]
    pub(crate) namespace: Option<String>,
    #[command(flatten)]
    pub(crate) sign: SignArgs,
}

#[derive(Debug, Args)]
pub(crate) struct CidArgs {
    /// The memory's CID (`v1::<64 hex>`).
    pub(crate) cid: String,
    /// Namespace [default: public].
    #[arg(long)]
    pub(crate) namespace: Option<String>,
    #[command(flatten)]
    pub(crate) sign: SignArgs,
}

#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    /// Memory CIDs (`v1::<64 hex>`), or one document's file CID (`sha256:<64 hex>`, the
    /// `content_cid` its ingest printed).
    #[arg(required = true, value_name = "CID")]
    pub(crate) cids: Vec<String>,
    /// Namespace [default: public].
    #[arg(long)]
    pub(crate) namespace: Option<String>,
    /// For a document in a namespace of sealed memories: the key file they were sealed to
    /// (`ingest --encrypt`), to find the document's chunks among them.
    #[arg(long, value_name = "KEY_FILE")]
    pub(crate) decrypt: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) sign: SignArgs,
}

/// Who signs requests to a node.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// With --node: sign requests with this wallet's hotkey, and private namespaces with
    /// `engram-ns` signatures (the first hotkey to sign for a namespace owns it).
    #[arg(long, value_name = "NAME", env = "ENGRAM_WALLET")]
    pub(crate) wallet: Option<String>,
}
