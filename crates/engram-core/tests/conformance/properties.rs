use engram_core::merkle::{normalize_leaves, v1, v2};
use engram_core::{Metadata, cid_v1};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_bit_flip_in_the_vector_changes_the_cid(
        v in prop::collection::vec(-1.0f32..1.0, 384),
        index in 0usize..384,
        bit in 0u32..32,
    ) {
        let meta = Metadata::new();
        let a = cid_v1(&v, &meta, "v1");
        let mut w = v.clone();
        w[index] = f32::from_bits(w[index].to_bits() ^ (1 << bit));
        prop_assert_ne!(a, cid_v1(&w, &meta, "v1"));
    }

    #[test]
    fn any_bit_flip_in_metadata_changes_the_cid(
        value in "[a-z0-9 ]{1,40}",
        index in 0usize..40,
        bit in 0u32..7,
    ) {
        let v = vec![0.5f32; 384];
        let mut meta = Metadata::new();
        meta.insert("k".into(), value.clone().into());
        let a = cid_v1(&v, &meta, "v1");
        let mut bytes = value.into_bytes();
        let i = index % bytes.len();
        bytes[i] ^= 1 << bit;
        if let Ok(flipped) = String::from_utf8(bytes) {
            let mut other = Metadata::new();
            other.insert("k".into(), flipped.into());
            prop_assert_ne!(a, cid_v1(&v, &other, "v1"));
        }
    }

    #[test]
    fn every_leaf_proves_and_a_tampered_proof_fails(
        raw in prop::collection::vec(any::<[u8; 32]>(), 1..60),
        pick in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
    ) {
        let set = normalize_leaves(raw);
        let leaf = set[pick.index(set.len())];
        let (r1, r2) = (v1::root(&set), v2::root(&set));
        let p1 = v1::prove(&set, &leaf, "c").unwrap();
        let p2 = v2::prove(&set, &leaf, "c").unwrap();
        prop_assert!(p1.verify(&r1));
        prop_assert!(p2.verify(&r2));
        let mut t1 = p1.clone();
        t1.leaf_hex[flip.index(32)] ^= 0x80;
        prop_assert!(!t1.verify(&r1));
        let mut t2 = p2.clone();
        t2.leaf_hex[flip.index(32)] ^= 0x80;
        prop_assert!(!t2.verify(&r2));
    }

    #[test]
    fn root_does_not_depend_on_insertion_order(
        raw in prop::collection::vec(any::<[u8; 32]>(), 0..60),
        seed in any::<u64>(),
    ) {
        let mut shuffled = raw.clone();
        // deterministic shuffle from the seed
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let a = normalize_leaves(raw);
        let b = normalize_leaves(shuffled);
        prop_assert_eq!(v1::root(&a), v1::root(&b));
        prop_assert_eq!(v2::root(&a), v2::root(&b));
    }
}
