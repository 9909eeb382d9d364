//! `engram cloud`: every tier's Akash manifest, parsed by Akash's own SDL parser (akashjs,
//! installed by scripts/akash-sdl.sh), which must derive exactly the tier's resources.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::{engram, json};

const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

/// The akashjs parser script (installed when missing).
fn parser() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(root.join("scripts/akash-sdl.sh"))
        .output()
        .expect("scripts/akash-sdl.sh runs");
    assert!(
        out.status.success(),
        "installing akashjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Akash's reading of `yaml`: Ok(JSON) or Err(its refusal).
fn akash(parser: &PathBuf, yaml: &str) -> Result<Value, String> {
    let mut child = Command::new("node")
        .arg(parser)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn every_tier_manifest_is_accepted_by_akash_with_its_resources() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let parser = parser();
    let tiers = json(d, &["cloud", "tiers"]);
    assert_eq!(tiers.as_array().unwrap().len(), 3);
    for tier in tiers.as_array().unwrap() {
        let name = tier["tier"].as_str().unwrap();
        let file = d.join(format!("{name}.yaml"));
        let out = engram(
            d,
            &[
                "cloud",
                "sdl",
                "--tier",
                name,
                "--hotkey",
                ALICE,
                "--session",
                "sess-1",
                "--env",
                "ENGRAM_LOG=debug",
                "--out",
                file.to_str().unwrap(),
            ],
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let yaml = std::fs::read_to_string(&file).unwrap();
        let parsed = akash(&parser, &yaml).unwrap_or_else(|e| panic!("{name}: {e}\n{yaml}"));

        let group = &parsed["groups"][0];
        let unit = &group["resources"][0];
        let res = &unit["resource"];
        assert_eq!(
            res["cpu"]["units"]["val"],
            tier["cpu_millis"].to_string(),
            "{name}"
        );
        let mib = tier["memory_mib"].as_u64().unwrap();
        assert_eq!(
            res["memory"]["quantity"]["val"],
            (mib << 20).to_string(),
            "{name}"
        );
        let data = res["storage"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "data")
            .expect("a persistent data volume");
        let gib = tier["storage_gib"].as_u64().unwrap();
        assert_eq!(data["quantity"]["val"], (gib << 30).to_string(), "{name}");
        assert!(
            data["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["key"] == "persistent" && a["value"] == "true")
        );
        assert_eq!(unit["price"]["denom"], "uakt");
        assert_eq!(
            unit["price"]["amount"],
            tier["bid_uakt_per_block"].to_string()
        );
        assert_eq!(unit["count"], 1);

        let service = &parsed["manifest"][0]["services"][0];
        assert_eq!(service["name"], "miner");
        let env: Vec<&str> = service["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        for want in [
            format!("ENGRAM_CONTROLLER_HOTKEY={ALICE}"),
            "ENGRAM_SESSION_ID=sess-1".into(),
            "ENGRAM_DATA_DIR=/data".into(),
            "ENGRAM_LISTEN=0.0.0.0:8091".into(),
            "ENGRAM_LOG=debug".into(),
            format!("ENGRAM_TIER={name}"),
        ] {
            assert!(env.contains(&want.as_str()), "{name}: {want} in {env:?}");
        }
        let expose = &service["expose"][0];
        assert_eq!(
            (expose["port"].as_u64(), expose["externalPort"].as_u64()),
            (Some(8091), Some(80))
        );
        assert_eq!(expose["global"], true);
    }

    // The parser is not a rubber stamp: a manifest whose memory is not a size is refused.
    let good = std::fs::read_to_string(d.join("lite.yaml")).unwrap();
    let broken = good.replace("\"2048Mi\"", "\"lots\"");
    assert_ne!(good, broken);
    assert!(akash(&parser, &broken).is_err());
}

#[test]
fn bad_cloud_arguments_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (args, says) in [
        (vec!["--tier", "huge", "--hotkey", ALICE], "unknown tier"),
        (
            vec!["--tier", "lite", "--hotkey", "5notahotkey"],
            "bad hotkey",
        ),
        (
            vec!["--tier", "lite", "--hotkey", ALICE, "--env", "lower=1"],
            "environment variable",
        ),
        (
            vec!["--tier", "lite", "--hotkey", ALICE, "--env", "NOVALUE"],
            "NAME=VALUE",
        ),
        (
            vec!["--tier", "lite", "--hotkey", ALICE, "--image", "a b"],
            "bad image",
        ),
    ] {
        let mut all = vec!["cloud", "sdl"];
        all.extend(args);
        let out = engram(d, &all, None);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{all:?}: {err}");
    }
}
