//! `vectors/shamir.json`: the original SDK's splits, reproduced from its recorded
//! coefficient stream, and every listed subset recombined.

use engram_core::shamir::{Share, combine, split};

use super::{cases, vectors};

#[test]
fn splits_and_recombinations_match_the_original() {
    let doc = vectors("shamir.json");
    for case in cases(&doc, "cases") {
        let name = case["name"].as_str().unwrap();
        let secret = hex::decode(case["secret_hex"].as_str().unwrap()).unwrap();
        let k = u8::try_from(case["threshold"].as_u64().unwrap()).unwrap();
        let n = u8::try_from(case["total"].as_u64().unwrap()).unwrap();
        let mut stream = case["random_coefficient_stream"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| u8::try_from(v.as_u64().unwrap()).unwrap());
        let shares = split(&secret, k, n, || stream.next().expect("stream long enough")).unwrap();
        assert!(
            stream.next().is_none(),
            "{name}: every coefficient consumed"
        );
        let want: Vec<Share> = serde_json::from_value(case["shares"].clone()).unwrap();
        assert_eq!(shares, want, "{name}");
        for subset in case["reconstructing_subsets"].as_array().unwrap() {
            let pick: Vec<Share> = subset
                .as_array()
                .unwrap()
                .iter()
                .map(|i| want[usize::try_from(i.as_u64().unwrap()).unwrap() - 1].clone())
                .collect();
            assert_eq!(combine(&pick).unwrap(), secret, "{name} {subset}");
        }
    }
}
