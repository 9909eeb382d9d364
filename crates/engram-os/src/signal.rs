//! Waiting for the operator to stop a long-running command.

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM (what `kill`, systemd and container
/// runtimes send). If the SIGTERM handler cannot be installed, SIGINT alone still works.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
