//! The client against a real Arweave gateway: arlocal 1.1.66, started for this test on a free
//! loopback port.
//!
//! arlocal is found in `ENGRAM_ARLOCAL_DIR` (default `<repo root>/.arlocal`) and installed there
//! by `scripts/arlocal.sh` when missing; the script is run every time because it returns in a
//! fraction of a second once installed and prints the wrapper to start. Without Node.js or
//! network access for the first install the test fails and says why: it never skips.
//!
//! Uploads are checked the way a user of the data would: mined, then downloaded and compared byte
//! for byte and by SHA-256, and the stored header fetched back, verified and its tags compared.

use std::error::Error;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use engram_arweave::{
    ArweaveError, Client, DataLayout, Tag, Transaction, TxId, TxStatus, Wallet, engram_tags,
};
use rsa::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use tokio::process::{Child, ChildStdin, Command};

/// The signed-transaction fixture's key: a public 4096-bit test key, the production size.
const FIXTURE: &str = include_str!("vectors/signed_v2_tx.json");
/// Winston minted to each funded wallet: 10^15, far below 2^53 (arlocal keeps balances as
/// doubles) and enough for ~15 GB at arlocal's price.
const MINT: u128 = 1_000_000_000_000_000;
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn upload_confirm_and_download_against_arlocal() {
    let mut arlocal = Arlocal::start().await;
    let client = Client::with_timeout(&arlocal.url, Duration::from_secs(30)).unwrap();

    // 2048 bits keeps key generation short in a debug build; the fixture key is 4096.
    let small_wallet = Wallet::generate(2048).unwrap();
    let fixture: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    let big_wallet = Wallet::from_jwk(&fixture["jwk"].to_string()).unwrap();
    arlocal.mint(big_wallet.address()).await;

    let small = b"Engram keeps the original of this memory on Arweave.".to_vec();
    let small_sha = sha256(&small);
    let small_tags = engram_tags(
        "text/plain",
        &hex::encode(small_sha),
        Some("v1-small-memory"),
        false,
    );

    // Not funded yet: the upload is refused before anything is posted, with the numbers.
    match client.upload(&small_wallet, &small, &small_tags).await {
        Err(err @ ArweaveError::InsufficientFunds { .. }) => {
            let ArweaveError::InsufficientFunds {
                ref address,
                balance,
                required,
            } = err
            else {
                unreachable!()
            };
            assert_eq!((address.as_str(), balance), (small_wallet.address(), 0));
            assert!(required > 0);
            assert!(err.to_string().contains("fund the wallet"), "{err}");
        }
        other => panic!("an unfunded upload was not refused: {other:?}"),
    }
    // ...and arlocal applies the same rule to a transaction that reaches it.
    let layout = DataLayout::new(&small);
    let reward = arlocal.ok(client.price(layout.data_size()).await);
    let mut tx =
        Transaction::new(&layout, vec![Tag::new("App-Name", "Engram")], "", reward).unwrap();
    tx.sign(&small_wallet).unwrap();
    let (status, body) = arlocal.post("/tx", tx.to_json(Some(&small)).unwrap()).await;
    assert_eq!(
        status, 410,
        "arlocal's answer to an unfunded transaction: {body}"
    );

    // Inline: one chunk's worth or less goes in the transaction body.
    arlocal.mint(small_wallet.address()).await;
    let small_id = arlocal.ok(client.upload(&small_wallet, &small, &small_tags).await);

    // Chunked: 700 KiB of random bytes (arlocal merges byte-identical chunks, so no pattern),
    // three chunks posted after the header.
    let mut big = vec![0u8; 700 * 1024];
    OsRng.fill_bytes(&mut big);
    let big_sha = sha256(&big);
    let layout = DataLayout::new(&big);
    assert!(!layout.fits_inline());
    assert_eq!(layout.chunks().len(), 3);
    let big_tags = engram_tags(
        "application/octet-stream",
        &format!("sha256:{}", hex::encode(big_sha)),
        Some("v1-big-memory"),
        true,
    );
    let big_id = arlocal.ok(client.upload(&big_wallet, &big, &big_tags).await);

    for id in [&small_id, &big_id] {
        assert_eq!(
            arlocal.ok(client.status(id).await),
            TxStatus::Pending,
            "{id}"
        );
    }
    arlocal.mine().await;
    for id in [&small_id, &big_id] {
        match arlocal.ok(client.status(id).await) {
            TxStatus::Confirmed { height, .. } => assert!(height >= 1, "{id} at height {height}"),
            other => panic!("{id} is {other:?} after mining"),
        }
    }

    for (id, data, sha, tags, wallet) in [
        (&small_id, &small, small_sha, &small_tags, &small_wallet),
        (&big_id, &big, big_sha, &big_tags, &big_wallet),
    ] {
        let downloaded = arlocal.ok(client.download(id).await);
        assert!(
            downloaded == *data,
            "{id}: {} bytes back, {} sent",
            downloaded.len(),
            data.len()
        );
        let verified = arlocal.ok(client.download_verified(id, sha).await);
        assert_eq!(sha256(&verified), sha);

        let mut wrong = sha;
        wrong[0] ^= 0xff;
        match client.download_verified(id, wrong).await {
            Err(ArweaveError::HashMismatch {
                expected, actual, ..
            }) => assert_eq!((expected, actual), (wrong, sha)),
            other => panic!("{id}: a wrong hash was not refused: {other:?}"),
        }

        let stored = arlocal.ok(client.transaction(id).await);
        arlocal.ok(stored.verify());
        assert_eq!(stored.id(), Some(id));
        assert_eq!(stored.tags(), tags.as_slice(), "{id}");
        assert_eq!(stored.data_size(), data.len() as u64);
        assert_eq!(stored.owner_address().as_deref(), Some(wallet.address()));
        assert!(client.data_url(id).ends_with(&format!("/{id}")));
    }
    // The tags as the gateway serves them, decoded independently of the crate.
    let raw: serde_json::Value =
        serde_json::from_str(&arlocal.get(&format!("/tx/{big_id}")).await).unwrap();
    let engram_cid = raw["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|tag| tag["name"] == "RW5ncmFtLUNJRA") // base64url("Engram-CID")
        .expect("an Engram-CID tag");
    assert_eq!(engram_cid["value"], "djEtYmlnLW1lbW9yeQ"); // base64url("v1-big-memory")

    let unknown: TxId = "YYsecjlH5ymDGTRWWP9xFJzoPrQCxzaRsuC1xGoF2cA"
        .parse()
        .unwrap();
    assert_eq!(
        arlocal.ok(client.status(&unknown).await),
        TxStatus::NotFound
    );
    assert!(matches!(
        client.download(&unknown).await,
        Err(ArweaveError::NotFound { .. })
    ));

    arlocal.assert_alive();
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// A running arlocal; killed when dropped (and, through its stdin, when this process dies).
struct Arlocal {
    child: Child,
    _stdin: ChildStdin,
    url: String,
    log: PathBuf,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Arlocal {
    async fn start() -> Self {
        let wrapper = install();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("arlocal.log");
        let port = free_port();
        let log_file = std::fs::File::create(&log).unwrap();
        let mut child = Command::new("node")
            .arg(&wrapper)
            .arg(port.to_string())
            // A database of its own in the temp dir: the default is shared by every instance.
            .args(["--dbpath", "db"])
            .current_dir(dir.path())
            .env("ARLOCAL_EXIT_WITH_PARENT", "1")
            .stdin(Stdio::piped())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `node {}`: {e}", wrapper.display()));
        let stdin = child.stdin.take().unwrap();
        let mut arlocal = Self {
            child,
            _stdin: stdin,
            url: format!("http://127.0.0.1:{port}"),
            log,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            _dir: dir,
        };
        arlocal.wait_ready().await;
        arlocal
    }

    async fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            self.assert_alive();
            let info = self
                .http
                .get(format!("{}/info", self.url))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if info.is_ok_and(|r| r.status().is_success()) {
                eprintln!(
                    "arlocal ready on {} after {:?}",
                    self.url,
                    started.elapsed()
                );
                return;
            }
            if started.elapsed() > STARTUP_DEADLINE {
                panic!(
                    "arlocal did not answer GET /info within {STARTUP_DEADLINE:?}\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fails the test if arlocal has exited.
    fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("arlocal exited early ({status})\n{}", self.log_tail());
        }
    }

    /// Unwraps a crate result; on error fails with the cause chain, whether arlocal is still
    /// running, and its log.
    fn ok<T>(&mut self, result: Result<T, ArweaveError>) -> T {
        match result {
            Ok(value) => value,
            Err(err) => {
                self.assert_alive();
                let mut chain = err.to_string();
                let mut source = err.source();
                while let Some(cause) = source {
                    chain.push_str(&format!("\n  caused by: {cause}"));
                    source = cause.source();
                }
                panic!("{chain}\n{}", self.log_tail());
            }
        }
    }

    async fn get(&mut self, path: &str) -> String {
        let response = self.http.get(format!("{}{path}", self.url)).send().await;
        let response = response.unwrap_or_else(|e| {
            self.assert_alive();
            panic!("GET {path}: {e}")
        });
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.text().await.unwrap()
    }

    async fn post(&mut self, path: &str, json: String) -> (u16, String) {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(json)
            .send()
            .await;
        let response = response.unwrap_or_else(|e| {
            self.assert_alive();
            panic!("POST {path}: {e}")
        });
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// arlocal's faucet.
    async fn mint(&mut self, address: &str) {
        self.get(&format!("/mint/{address}/{MINT}")).await;
    }

    /// Mines one block holding every pending transaction.
    async fn mine(&mut self) {
        self.get("/mine").await;
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        format!("--- arlocal log ({}) ---\n{tail}", self.log.display())
    }
}

/// Installs arlocal if needed and returns the wrapper that starts it.
fn install() -> PathBuf {
    let root = repo_root();
    let dir = std::env::var_os("ENGRAM_ARLOCAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".arlocal"));
    let script = root.join("scripts/arlocal.sh");
    let output = std::process::Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        output.status.success(),
        "{} {} failed ({}): arlocal is needed for this test; it requires Node.js >= 18 with npm, \
         and network access to npm for the first install (see the script's messages above)",
        script.display(),
        dir.display(),
        output.status
    );
    let wrapper = PathBuf::from(String::from_utf8(output.stdout).unwrap().trim());
    assert!(
        wrapper.is_file(),
        "the install script printed {wrapper:?}, which is not a file"
    );
    wrapper
}

/// The nearest directory above this crate holding `scripts/arlocal.sh`: the repository root in
/// the workspace and in a standalone checkout alike.
fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("scripts/arlocal.sh").is_file())
        .unwrap_or_else(|| panic!("no scripts/arlocal.sh above {}", manifest.display()))
        .to_path_buf()
}

/// A port nobody listens on right now (the OS picks it; arlocal binds it a moment later).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
