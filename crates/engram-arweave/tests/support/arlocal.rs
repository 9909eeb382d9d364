//! A real arlocal (a local Arweave gateway from the npm registry) for tests: installed by
//! `scripts/arlocal.sh` when missing, started on a free loopback port with a database of its
//! own, killed when dropped. Shared by this crate's tests and the CLI's (`#[path]`), so there
//! is one harness.

#![allow(dead_code, unreachable_pub)]

use std::error::Error;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use engram_arweave::ArweaveError;
use tokio::process::{Child, ChildStdin, Command};

/// Winston minted to each funded wallet: 10^15, far below 2^53 (arlocal keeps balances as
/// doubles) and enough for ~15 GB at arlocal's price.
pub const MINT: u128 = 1_000_000_000_000_000;
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

/// A running arlocal; killed when dropped (and, through its stdin, when this process dies).
pub struct Arlocal {
    child: Child,
    _stdin: ChildStdin,
    pub url: String,
    log: PathBuf,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Arlocal {
    pub async fn start() -> Self {
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
    pub fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("arlocal exited early ({status})\n{}", self.log_tail());
        }
    }

    /// Unwraps a crate result; on error fails with the cause chain, whether arlocal is still
    /// running, and its log.
    pub fn ok<T>(&mut self, result: Result<T, ArweaveError>) -> T {
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

    pub async fn get(&mut self, path: &str) -> String {
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

    pub async fn post(&mut self, path: &str, json: String) -> (u16, String) {
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
    pub async fn mint(&mut self, address: &str) {
        self.get(&format!("/mint/{address}/{MINT}")).await;
    }

    /// Mines one block holding every pending transaction.
    pub async fn mine(&mut self) {
        self.get("/mine").await;
    }

    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        format!("--- arlocal log ({}) ---\n{tail}", self.log.display())
    }
}

/// Installs arlocal if needed and returns the wrapper that starts it.
pub fn install() -> PathBuf {
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
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("scripts/arlocal.sh").is_file())
        .unwrap_or_else(|| panic!("no scripts/arlocal.sh above {}", manifest.display()))
        .to_path_buf()
}

/// A port nobody listens on right now (the OS picks it; arlocal binds it a moment later).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
