//! `dht.json`: node ids, CID keys, XOR distances and replica sets of the original.

use engram_core::dht::{by_distance, cid_key, distance, node_id, replicas};

use super::{cases, vectors};

#[test]
fn every_placement_matches_the_original() {
    let doc = vectors("dht.json");
    let peers = cases(&doc, "peers");
    let hotkeys: Vec<&str> = peers
        .iter()
        .map(|p| p["hotkey"].as_str().unwrap())
        .collect();
    for p in peers {
        assert_eq!(
            hex::encode(node_id(p["hotkey"].as_str().unwrap())),
            p["node_id_hex"].as_str().unwrap()
        );
    }
    let uid = |i: usize| peers[i]["uid"].as_u64().unwrap();
    for case in cases(&doc, "cases") {
        let cid = case["cid"].as_str().unwrap();
        let key = cid_key(cid);
        assert_eq!(hex::encode(key), case["key_hex"].as_str().unwrap());

        let order: Vec<u64> = by_distance(cid, &hotkeys).into_iter().map(uid).collect();
        let expected = case["all_peers_including_local_by_distance"]
            .as_array()
            .unwrap();
        let want: Vec<u64> = expected
            .iter()
            .map(|e| e["uid"].as_u64().unwrap())
            .collect();
        assert_eq!(order, want, "{cid}");
        for e in expected {
            let i = e["uid"].as_u64().unwrap() as usize;
            assert_eq!(
                hex::encode(distance(&key, &node_id(hotkeys[i]))),
                e["xor_distance_hex"].as_str().unwrap()
            );
        }

        // The original's routing table excludes its local node (uid 0).
        let remote = &hotkeys[1..];
        for (field, r) in [("assign_r3_uids", 3), ("assign_r6_uids", 6)] {
            let got: Vec<u64> = replicas(cid, remote, r)
                .into_iter()
                .map(|i| uid(i + 1))
                .collect();
            let want: Vec<u64> = case[field]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u.as_u64().unwrap())
                .collect();
            assert_eq!(got, want, "{cid} {field}");
        }
        let stores_locally = replicas(cid, &hotkeys, 3).contains(&0);
        assert_eq!(
            stores_locally,
            case["should_store_local_uid0"].as_bool().unwrap()
        );
    }
}
