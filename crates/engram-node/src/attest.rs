//! Namespace attestations and the trust tiers they carry (DESIGN §5).
//!
//! An owner signs `engram-attest:{namespace}:{timestamp_ms}` (±60 s) to bind a namespace
//! publicly to its hotkey; from then on `GET /attestation/{ns}` names the owner, and every
//! query result from the namespace carries the tier its owner's stake buys. Unlike the
//! original, where the last signer of any namespace wins, only the namespace's owner may
//! attest it (the first hotkey to sign for an unowned namespace becomes its owner), so
//! nobody can lend their stake to, or steal, someone else's namespace.
//!
//! Stake comes from the chain the node joined. It is read when a namespace is attested and
//! again on a cadence (`attestation_refresh_s`), so a tier falls when its owner unstakes.
//! A node on no network knows no stake: its attestations are `anonymous`.
//! Attestations live in `attestations.json` in the data directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use engram_chain::Chain;
use engram_core::auth::{NAMESPACE_WINDOW_MS, attestation_message, verify_message, within};
use engram_core::tier::TrustTier;
use engram_wire::{AttestRequest, AttestationResponse};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, NodeError};
use crate::namespaces::{Namespaces, Owner, private_name};

const FILE: &str = "attestations.json";

/// One attested namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Attestation {
    /// The owner's SS58 hotkey.
    pub(crate) owner_hotkey: String,
    /// Stake at the last read.
    pub(crate) stake_tao: f64,
    /// The tier that stake buys.
    pub(crate) trust_tier: TrustTier,
    /// When it was attested (unix ms).
    pub(crate) attested_at_ms: u64,
    /// When the stake was last read (unix ms).
    pub(crate) refreshed_at_ms: u64,
}

/// The attestations of one node and where it reads stake.
pub(crate) struct Attestations {
    path: PathBuf,
    records: Mutex<HashMap<String, Attestation>>,
    chain: OnceLock<Arc<dyn Chain>>,
}

impl Attestations {
    /// Loads the attestations of `data_dir` (none when there is no file).
    pub(crate) fn open(data_dir: &Path) -> Result<Self, NodeError> {
        let path = data_dir.join(FILE);
        Ok(Self {
            records: Mutex::new(crate::persist::load(&path)?),
            path,
            chain: OnceLock::new(),
        })
    }

    /// Reads stake from `chain` from now on (set once, when the node joins a network).
    pub(crate) fn use_chain(&self, chain: Arc<dyn Chain>) {
        let _ = self.chain.set(chain);
    }

    /// The owner's stake; 0 with no chain, or when the chain cannot be read (logged).
    fn stake_of(&self, hotkey: &str) -> f64 {
        let Some(chain) = self.chain.get() else {
            return 0.0;
        };
        chain.stake_of(hotkey).unwrap_or_else(|e| {
            tracing::warn!(hotkey, error = %e, "cannot read stake; counting it as 0");
            0.0
        })
    }

    /// Verifies and records an attestation. Blocking: reads the chain.
    ///
    /// # Errors
    /// 400 for the public namespace or a malformed name, 401 for a stale or wrong
    /// signature, 403 when the namespace belongs to another key.
    pub(crate) fn attest(
        &self,
        req: &AttestRequest,
        namespaces: &Namespaces,
        now_ms: u64,
    ) -> Result<Attestation, ApiError> {
        let ns = private_name(Some(&req.namespace))?.ok_or_else(|| {
            ApiError::BadRequest(
                "the public namespace has no owner to attest; name a namespace".into(),
            )
        })?;
        if !within(req.timestamp_ms, now_ms, NAMESPACE_WINDOW_MS) {
            return Err(ApiError::Unauthorized(format!(
                "attestation timestamp {} is outside the ±{} s window",
                req.timestamp_ms,
                NAMESPACE_WINDOW_MS / 1000
            )));
        }
        verify_message(
            &req.owner_hotkey,
            &attestation_message(ns, req.timestamp_ms),
            &req.signature,
        )
        .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
        namespaces.settle(ns, Owner::Hotkey(req.owner_hotkey.clone()), true)?;
        let stake_tao = self.stake_of(&req.owner_hotkey);
        let record = Attestation {
            owner_hotkey: req.owner_hotkey.clone(),
            stake_tao,
            trust_tier: TrustTier::from_stake(stake_tao),
            attested_at_ms: now_ms,
            refreshed_at_ms: now_ms,
        };
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records.insert(ns.to_string(), record.clone());
        crate::persist::save(&self.path, &*records)?;
        Ok(record)
    }

    /// The tier of `namespace` (`None` is the public namespace): anonymous unless attested.
    pub(crate) fn tier(&self, namespace: Option<&str>) -> TrustTier {
        namespace
            .and_then(|ns| {
                let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
                records.get(ns).map(|a| a.trust_tier)
            })
            .unwrap_or_default()
    }

    /// What `GET /attestation/{namespace}` answers.
    pub(crate) fn describe(&self, namespace: &str) -> AttestationResponse {
        let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let found = records.get(namespace);
        let secs = |ms: u64| ms as f64 / 1000.0;
        AttestationResponse {
            namespace: namespace.to_string(),
            trust_tier: found.map(|a| a.trust_tier).unwrap_or_default(),
            attested: found.is_some(),
            owner_hotkey: found.map(|a| a.owner_hotkey.clone()),
            stake_tao: found.map(|a| a.stake_tao),
            attested_at: found.map(|a| secs(a.attested_at_ms)),
            stake_refreshed_at: found.map(|a| secs(a.refreshed_at_ms)),
        }
    }

    /// Reads every owner's stake again and re-tiers; returns how many tiers changed.
    /// Blocking: reads the chain.
    ///
    /// # Errors
    /// [`ApiError::Persist`] when the file cannot be saved.
    pub(crate) fn refresh(&self, now_ms: u64) -> Result<usize, ApiError> {
        let owners: Vec<(String, String)> = {
            let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
            records
                .iter()
                .map(|(ns, a)| (ns.clone(), a.owner_hotkey.clone()))
                .collect()
        };
        if owners.is_empty() {
            return Ok(0);
        }
        // Stake is read without the lock: the chain may be slow.
        let stakes: Vec<(String, f64)> = owners
            .into_iter()
            .map(|(ns, hotkey)| {
                let stake = self.stake_of(&hotkey);
                (ns, stake)
            })
            .collect();
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let mut changed = 0;
        for (ns, stake) in stakes {
            if let Some(a) = records.get_mut(&ns) {
                let tier = TrustTier::from_stake(stake);
                if tier != a.trust_tier {
                    tracing::info!(namespace = %ns, from = %a.trust_tier, to = %tier, stake, "trust tier changed");
                    changed += 1;
                }
                a.stake_tao = stake;
                a.trust_tier = tier;
                a.refreshed_at_ms = now_ms;
            }
        }
        crate::persist::save(&self.path, &*records)?;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engram_chain::Devnet;
    use engram_core::keys::Keypair;

    const NOW: u64 = 1_800_000_000_000;

    #[test]
    fn only_the_owner_attests_and_tiers_follow_stake() {
        let dir = tempfile::tempdir().unwrap();
        let ns = Namespaces::open(dir.path()).unwrap();
        let att = Attestations::open(dir.path()).unwrap();
        let alice = Keypair::from_uri("//Alice").unwrap();
        let bob = Keypair::from_uri("//Bob").unwrap();

        // No chain yet: attested, but no stake is known.
        let a = att
            .attest(&AttestRequest::signed("mem", &alice, NOW), &ns, NOW)
            .unwrap();
        assert_eq!(a.trust_tier, TrustTier::Anonymous);
        assert!(att.describe("mem").attested);
        assert!(!att.describe("other").attested);

        // Bob cannot take Alice's namespace, nor attest the public one.
        let stolen = att.attest(&AttestRequest::signed("mem", &bob, NOW), &ns, NOW);
        assert!(matches!(stolen, Err(ApiError::Forbidden(_))), "{stolen:?}");
        let public = att.attest(&AttestRequest::signed("public", &bob, NOW), &ns, NOW);
        assert!(matches!(public, Err(ApiError::BadRequest(_))));
        // Stale and forged signatures.
        let stale = AttestRequest::signed("x", &bob, NOW - 61_000);
        assert!(matches!(
            att.attest(&stale, &ns, NOW),
            Err(ApiError::Unauthorized(_))
        ));
        let mut forged = AttestRequest::signed("x", &bob, NOW);
        forged.namespace = "y".into();
        assert!(matches!(
            att.attest(&forged, &ns, NOW),
            Err(ApiError::Unauthorized(_))
        ));
        assert!(
            !att.describe("y").attested,
            "a refused attestation records nothing"
        );

        // With a chain, stake sets the tier and a refresh follows changes.
        let chain = Arc::new(Devnet::open(&dir.path().join("chain")));
        chain.register(&alice).unwrap();
        chain.add_stake(&alice.ss58(), 150.0).unwrap();
        att.use_chain(chain.clone());
        assert_eq!(att.refresh(NOW + 1).unwrap(), 1);
        assert_eq!(att.tier(Some("mem")), TrustTier::Verified);
        chain.add_stake(&alice.ss58(), 900.0).unwrap();
        assert_eq!(att.refresh(NOW + 2).unwrap(), 1);
        assert_eq!(att.tier(Some("mem")), TrustTier::Sovereign);
        assert_eq!(att.tier(None), TrustTier::Anonymous);

        // Kept across restarts.
        let reopened = Attestations::open(dir.path()).unwrap();
        let d = reopened.describe("mem");
        assert_eq!(d.trust_tier, TrustTier::Sovereign);
        assert_eq!(d.owner_hotkey.as_deref(), Some(alice.ss58().as_str()));
        assert_eq!(d.stake_tao, Some(1050.0));
    }
}
