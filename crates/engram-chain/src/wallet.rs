//! Wallets: hotkeys kept on disk, one JSON file per key, readable only by their owner.
//!
//! A wallet file holds the key's mnemonic (from which everything derives), its SS58
//! address and public key. Like Bittensor's hotkeys, the file is not encrypted: its
//! protection is the file mode (0600) and the directory's (0700). Coldkeys, which hold
//! funds, are out of scope for a devnet.

use std::path::{Path, PathBuf};

use engram_core::keys::Keypair;
use serde::{Deserialize, Serialize};

use crate::ChainError;

/// A named hotkey in a wallet directory.
#[derive(Clone, Debug)]
pub struct Wallet {
    /// The wallet's name (its file is `<dir>/<name>.json`).
    pub name: String,
    /// The key.
    pub key: Keypair,
}

#[derive(Serialize, Deserialize)]
struct WalletFile {
    name: String,
    ss58: String,
    public_key_hex: String,
    mnemonic: String,
}

fn path_of(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.json"))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ChainError + '_ {
    move |source| ChainError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn check_name(name: &str) -> Result<(), ChainError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ChainError::BadWallet {
            reason: format!("wallet name {name:?}: use 1-64 letters, digits, '-' or '_'"),
        })
    }
}

impl Wallet {
    /// Creates `<dir>/<name>.json` with a new key from `entropy` (16 random bytes).
    ///
    /// # Errors
    /// [`ChainError::BadWallet`] for a bad name or an existing wallet, or an I/O failure.
    pub fn create(dir: &Path, name: &str, entropy: &[u8; 16]) -> Result<Self, ChainError> {
        check_name(name)?;
        let path = path_of(dir, name);
        if path.exists() {
            return Err(ChainError::BadWallet {
                reason: format!("wallet {name:?} already exists at {}", path.display()),
            });
        }
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        restrict(dir, 0o700)?;
        let (key, mnemonic) = Keypair::from_entropy(entropy);
        let file = WalletFile {
            name: name.to_string(),
            ss58: key.ss58(),
            public_key_hex: hex::encode(key.public()),
            mnemonic,
        };
        let bytes = serde_json::to_vec_pretty(&file).expect("serializes");
        engram_os::write_atomic_private(&path, &bytes).map_err(io(&path))?;
        Ok(Self {
            name: name.to_string(),
            key,
        })
    }

    /// Loads `<dir>/<name>.json`, checking that its address matches its mnemonic.
    ///
    /// # Errors
    /// [`ChainError::BadWallet`] for a missing, unreadable or inconsistent wallet.
    pub fn load(dir: &Path, name: &str) -> Result<Self, ChainError> {
        check_name(name)?;
        let path = path_of(dir, name);
        let bytes = std::fs::read(&path).map_err(|e| ChainError::BadWallet {
            reason: format!(
                "cannot read wallet {name:?} at {}: {e} (create it with `engram wallet new {name}`)",
                path.display()
            ),
        })?;
        let file: WalletFile =
            serde_json::from_slice(&bytes).map_err(|e| ChainError::BadWallet {
                reason: format!("{}: {e}", path.display()),
            })?;
        let key = Keypair::from_mnemonic(&file.mnemonic).map_err(|e| ChainError::BadWallet {
            reason: format!("{}: {e}", path.display()),
        })?;
        if key.ss58() != file.ss58 {
            return Err(ChainError::BadWallet {
                reason: format!("{}: address does not match the mnemonic", path.display()),
            });
        }
        Ok(Self {
            name: file.name,
            key,
        })
    }

    /// Every wallet in `dir`, by name (an absent directory has none).
    ///
    /// # Errors
    /// [`ChainError::BadWallet`] if a wallet file is damaged, or an I/O failure.
    pub fn list(dir: &Path) -> Result<Vec<Self>, ChainError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(dir)(e)),
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let stem = name.strip_suffix(".json")?;
                (!stem.starts_with('.')).then(|| stem.to_string())
            })
            .collect();
        names.sort();
        names.iter().map(|n| Self::load(dir, n)).collect()
    }
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> Result<(), ChainError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io(path))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> Result<(), ChainError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_load_list_and_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let wallets = dir.path().join("wallets");
        let a = Wallet::create(&wallets, "miner-1", &[1; 16]).unwrap();
        Wallet::create(&wallets, "validator", &[2; 16]).unwrap();
        assert_eq!(
            Wallet::load(&wallets, "miner-1").unwrap().key.ss58(),
            a.key.ss58()
        );
        let names: Vec<String> = Wallet::list(&wallets)
            .unwrap()
            .into_iter()
            .map(|w| w.name)
            .collect();
        assert_eq!(names, ["miner-1", "validator"]);
        assert!(
            Wallet::create(&wallets, "miner-1", &[3; 16]).is_err(),
            "no overwrite"
        );
        assert!(Wallet::create(&wallets, "../escape", &[3; 16]).is_err());
        assert!(
            Wallet::load(&wallets, "absent")
                .unwrap_err()
                .to_string()
                .contains("engram wallet new")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(wallets.join("miner-1.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
