//! What Engram asks of the operating system, written once: replacing a file atomically,
//! reading the wall clock, waiting for a shutdown signal, watching and stopping processes.
//!
//! `engram-core` stays pure (no I/O, no clock), so every crate that persists small files or
//! stamps times used to carry its own copy of these few lines; the copies drifted (one
//! skipped the `fsync`). They live here, below every crate with I/O.
//!
//! # Layout
//! - `fs`: [`write_atomic`], [`write_atomic_private`].
//! - `clock`: [`now_ms`].
//! - `signal`: [`shutdown_signal`] (feature `signal`).
//! - [`process`]: `alive`, `alive_with` (is it still the process we started), `signal`.
//!
//! # Example
//! ```
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("state.json");
//! engram_os::write_atomic(&path, b"{}")?;
//! assert_eq!(std::fs::read(&path)?, b"{}");
//! assert!(engram_os::now_ms() > 1_600_000_000_000);
//! # Ok::<(), std::io::Error>(())
//! ```

mod clock;
mod fs;
pub mod process;
#[cfg(feature = "signal")]
mod signal;

pub use clock::now_ms;
pub use fs::{remove_durable, rename_durable, write_atomic, write_atomic_private};
#[cfg(feature = "signal")]
pub use signal::shutdown_signal;
