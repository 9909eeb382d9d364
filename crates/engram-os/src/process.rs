//! Other processes: is one alive, tell it to stop, and is it the one we started.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};

/// Whether process `pid` runs. On Linux a look at `/proc/<pid>/stat` (no fork: callers poll
/// this from async loops), where a zombie — a killed process its parent has not reaped yet —
/// counts as dead; elsewhere `kill -0`.
pub fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        // "pid (comm) state …": the state follows the last ')' (comm may hold one).
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next());
        return !matches!(state, None | Some('Z' | 'X'));
    }
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The address a child announced in `path` (`engram serve --listen 127.0.0.1:0 --addr-file
/// PATH`), `None` until it has. A supervisor that picked a free port itself and passed it
/// down would race every other process on the machine for that port between its probe and
/// the child's bind; letting the child bind port 0 has no such window. The file is written
/// atomically, so a read never sees half an address; remove it before starting the child.
pub fn announced_addr(path: &Path) -> Option<SocketAddr> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether `pid` is alive and its command line names `marker` (a path only that process
/// was given): a pid written to a file long ago may belong to another process by now, which
/// must never be signalled. Off Linux, where there is no `/proc`, only [`alive`].
pub fn alive_with(pid: u32, marker: &Path) -> bool {
    if !alive(pid) {
        return false;
    }
    if !cfg!(target_os = "linux") {
        return true;
    }
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let marker = marker.as_os_str().as_encoded_bytes();
    cmdline
        .split(|&b| b == 0)
        .any(|arg| arg.windows(marker.len()).any(|w| w == marker))
}

/// Sends `sig` (`-TERM`, `-KILL`) to `pid`; best effort, since the process may have exited
/// since it was seen alive.
pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args([sig, &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_is_known_by_its_command_line_and_dead_once_killed() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        assert!(alive(pid));
        // Right after fork the child still shows the parent's command line, until it execs.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !alive_with(pid, Path::new("sleep")) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(alive_with(pid, Path::new("sleep")));
        assert!(!alive_with(pid, dir.path()), "another process's marker");
        signal(pid, "-KILL");
        // Killed but not reaped: a zombie, dead to `alive`.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while alive(pid) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(!alive(pid));
        child.wait().unwrap();
        assert!(!alive(pid));
    }
}
