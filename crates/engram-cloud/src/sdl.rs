//! The Akash deployment manifest (SDL 2.0) of one cloud miner.
//!
//! One service, `miner`: the miner image (docker/miner.Dockerfile) serving `engram serve`
//! on port 8091, exposed to the world as port 80; its data directory on a persistent
//! volume mounted at `/data`, so a provider restart keeps the memories; the tier's CPU,
//! memory and storage; and the network settings as environment variables, which
//! `engram serve` reads (`ENGRAM_*`, docs/node.md). The controller hotkey is the phone's
//! SS58 address: the session's owner, who alone may stop it.

use serde_json::{Map, Value, json};

use crate::CloudError;
use crate::tiers::Tier;

/// The miner image the manifests name unless told otherwise.
pub const DEFAULT_IMAGE: &str = "ghcr.io/engram-network/engram-miner:0.1.0";
/// The port `engram serve` listens on inside the container.
pub const MINER_PORT: u16 = 8091;
/// Where the persistent volume is mounted (`ENGRAM_DATA_DIR`).
pub const DATA_MOUNT: &str = "/data";

/// Variables the manifest sets from its own checked inputs: `--env` cannot override them
/// (the hotkey was checked, and the listen address and data directory are what the exposed
/// port, the volume and the health check depend on).
pub const RESERVED_ENV: [&str; 5] = [
    "ENGRAM_LISTEN",
    "ENGRAM_DATA_DIR",
    "ENGRAM_CONTROLLER_HOTKEY",
    "ENGRAM_TIER",
    "ENGRAM_SESSION_ID",
];

/// A manifest being built.
#[derive(Debug, Clone)]
pub struct Sdl {
    tier: Tier,
    hotkey: String,
    image: String,
    session: Option<String>,
    env: Vec<(String, String)>,
}

fn env_name_ok(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

impl Sdl {
    /// The manifest of a `tier` miner controlled by `hotkey` (SS58).
    ///
    /// # Errors
    /// [`CloudError::BadHotkey`] when `hotkey` is not an SS58 address.
    pub fn new(tier: Tier, hotkey: &str) -> Result<Self, CloudError> {
        engram_core::keys::ss58_decode(hotkey).map_err(|source| CloudError::BadHotkey {
            hotkey: hotkey.to_string(),
            source,
        })?;
        Ok(Self {
            tier,
            hotkey: hotkey.to_string(),
            image: DEFAULT_IMAGE.to_string(),
            session: None,
            env: Vec::new(),
        })
    }

    /// Another image reference (`registry/name:tag` or `…@sha256:…`).
    ///
    /// # Errors
    /// [`CloudError::BadImage`] for an empty reference or one with spaces or quotes.
    pub fn image(mut self, image: &str) -> Result<Self, CloudError> {
        let ok = !image.is_empty()
            && image
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"./:-_@".contains(&b));
        if !ok {
            return Err(CloudError::BadImage(image.to_string()));
        }
        self.image = image.to_string();
        Ok(self)
    }

    /// The gateway's session id, for the miner to name itself by.
    pub fn session(mut self, id: &str) -> Self {
        self.session = Some(id.to_string());
        self
    }

    /// One more environment variable (e.g. `ENGRAM_LOG=debug`); set twice, the last wins.
    ///
    /// # Errors
    /// [`CloudError::BadEnv`] for a name outside `[A-Z_][A-Z0-9_]*`;
    /// [`CloudError::ReservedEnv`] for one the manifest sets itself ([`RESERVED_ENV`]).
    pub fn env(mut self, name: &str, value: &str) -> Result<Self, CloudError> {
        if !env_name_ok(name) {
            return Err(CloudError::BadEnv(name.to_string()));
        }
        if RESERVED_ENV.contains(&name) {
            return Err(CloudError::ReservedEnv(name.to_string()));
        }
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.to_string(), value.to_string()));
        Ok(self)
    }

    /// The environment the miner starts with, in order.
    pub fn environment(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = vec![
            ("ENGRAM_LISTEN".into(), format!("0.0.0.0:{MINER_PORT}")),
            ("ENGRAM_DATA_DIR".into(), DATA_MOUNT.into()),
            ("ENGRAM_CONTROLLER_HOTKEY".into(), self.hotkey.clone()),
            ("ENGRAM_TIER".into(), self.tier.name().into()),
        ];
        if let Some(id) = &self.session {
            env.push(("ENGRAM_SESSION_ID".into(), id.clone()));
        }
        env.extend(self.env.iter().cloned());
        env
    }

    /// The manifest as a JSON value (the structure of the YAML).
    pub fn to_value(&self) -> Value {
        let spec = self.tier.spec();
        let env: Vec<Value> = self
            .environment()
            .into_iter()
            .map(|(n, v)| Value::String(format!("{n}={v}")))
            .collect();
        let mut data = Map::new();
        data.insert("mount".into(), json!(DATA_MOUNT));
        data.insert("readOnly".into(), json!(false));
        json!({
            "version": "2.0",
            "services": {
                "miner": {
                    "image": self.image,
                    "env": env,
                    "expose": [{"port": MINER_PORT, "as": 80, "to": [{"global": true}]}],
                    "params": {"storage": {"data": data}},
                }
            },
            "profiles": {
                "compute": {
                    "miner": {
                        "resources": {
                            "cpu": {"units": f64::from(spec.cpu_millis) / 1000.0},
                            "memory": {"size": format!("{}Mi", spec.memory_mib)},
                            "storage": [
                                {"size": "1Gi"},
                                {"name": "data", "size": format!("{}Gi", spec.storage_gib),
                                 "attributes": {"persistent": true, "class": "beta3"}},
                            ],
                        }
                    }
                },
                "placement": {
                    "akash": {
                        "pricing": {"miner": {"denom": "uakt", "amount": spec.bid_uakt_per_block}}
                    }
                }
            },
            "deployment": {"miner": {"akash": {"profile": "miner", "count": 1}}},
        })
    }

    /// The manifest as SDL YAML.
    pub fn to_yaml(&self) -> String {
        crate::yaml::to_yaml(&self.to_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> String {
        engram_core::keys::Keypair::from_uri("//Alice")
            .unwrap()
            .ss58()
    }

    #[test]
    fn the_manifest_carries_the_tier_the_hotkey_and_the_environment() {
        let sdl = Sdl::new(Tier::Pro, &alice())
            .unwrap()
            .session("s-1")
            .env("ENGRAM_LOG", "debug")
            .unwrap()
            .env("ENGRAM_LOG", "info")
            .unwrap();
        let v = sdl.to_value();
        let res = &v["profiles"]["compute"]["miner"]["resources"];
        assert_eq!(res["cpu"]["units"], 4.0);
        assert_eq!(res["memory"]["size"], "8192Mi");
        assert_eq!(res["storage"][1]["size"], "40Gi");
        let env: Vec<&str> = v["services"]["miner"]["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        assert!(env.contains(&format!("ENGRAM_CONTROLLER_HOTKEY={}", alice()).as_str()));
        assert!(env.contains(&"ENGRAM_SESSION_ID=s-1"));
        assert_eq!(
            env.iter().filter(|e| e.starts_with("ENGRAM_LOG=")).count(),
            1
        );
        assert!(env.contains(&"ENGRAM_LOG=info"));
        assert!(sdl.to_yaml().starts_with("---\nversion: \"2.0\"\n"));
    }

    #[test]
    fn bad_hotkeys_env_names_and_images_are_refused() {
        assert!(matches!(
            Sdl::new(Tier::Lite, "5notanaddress"),
            Err(CloudError::BadHotkey { .. })
        ));
        let sdl = Sdl::new(Tier::Lite, &alice()).unwrap();
        for name in ["", "1X", "lower", "A-B", "A B"] {
            assert!(sdl.clone().env(name, "v").is_err(), "{name:?}");
        }
        assert!(sdl.clone().env("_OK_1", "v").is_ok());
        for name in RESERVED_ENV {
            assert!(
                matches!(sdl.clone().env(name, "x"), Err(CloudError::ReservedEnv(_))),
                "{name}"
            );
        }
        for image in ["", "a b", "x\"y", "img\n"] {
            assert!(sdl.clone().image(image).is_err(), "{image:?}");
        }
        assert!(sdl.image("ghcr.io/me/engram@sha256:abc").is_ok());
    }
}
