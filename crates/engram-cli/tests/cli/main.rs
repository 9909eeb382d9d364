//! End-to-end tests of the `engram` binary: real model, real store, real processes.
//! Needs the model from `./setup.sh` (found via ENGRAM_MODEL_DIR or the data directory).

mod bad_input;
mod cloud;
mod devnet;
mod exchange;
mod flows;
mod keys;
mod media;
mod private;
mod serve_crash;
mod snapshot;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The `engram` binary as a user runs it: no model flags, so it finds the model where setup
/// put it although every test uses a throwaway data directory.
pub fn engram_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_engram"))
}

/// Runs `engram --data-dir DIR ARGS…` with `stdin`, returning the whole output.
pub fn engram(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = engram_command();
    cmd.arg("--data-dir").arg(dir).args(args);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("engram runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// Runs and expects success; returns stdout parsed as JSON (the command gets `--json`).
pub fn json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = engram(dir, &all, None);
    assert!(
        out.status.success(),
        "engram {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

/// Runs and expects failure with `code`; returns stderr.
pub fn fails(dir: &Path, args: &[&str], stdin: Option<&str>, code: i32) -> String {
    let out = engram(dir, args, stdin);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(code),
        "engram {args:?}: stderr {err}"
    );
    assert!(
        err.starts_with("engram: error: "),
        "one clear message: {err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    err
}

/// Count and commitment root: what must not change after a rejected command.
pub fn fingerprint(dir: &Path) -> (u64, String) {
    let s = json(dir, &["status"]);
    (
        s["count"].as_u64().unwrap(),
        s["commitment"]["root_v1"].as_str().unwrap().to_string(),
    )
}

/// A child process killed (and reaped) when the guard drops, so a failing test leaves no
/// node running.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `engram --data-dir DIR serve --listen 127.0.0.1:PORT --ingest-rate-per-minute 0 EXTRA…`
/// as a real process, with `envs` set for it. Port 0 lets the node pick one (no race with
/// other tests for a probed free port): [`url_of`] then says which.
pub fn serve(dir: &Path, port: u16, extra: &[&str], envs: &[(&str, &str)]) -> Child {
    let addr_file = dir.join("node.addr");
    let _ = std::fs::remove_file(&addr_file);
    engram_command()
        .envs(envs.iter().copied())
        .args([
            "--data-dir",
            dir.to_str().unwrap(),
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--addr-file",
            addr_file.to_str().unwrap(),
            "--ingest-rate-per-minute",
            "0",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The URL of the node [`serve`] started in `dir`, once it listens (up to a minute; fails
/// at once if it exits).
pub async fn url_of(dir: &Path, child: &mut Child) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(addr) = std::fs::read_to_string(dir.join("node.addr")) {
            return format!("http://{}", addr.trim());
        }
        assert!(child.try_wait().unwrap().is_none(), "engram serve exited");
        assert!(Instant::now() < deadline, "engram serve did not listen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits up to a minute for a node to answer `/health`.
pub async fn wait_healthy(client: &engram_client::Client) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while client.health().await.is_err() {
        assert!(Instant::now() < deadline, "node did not become healthy");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
