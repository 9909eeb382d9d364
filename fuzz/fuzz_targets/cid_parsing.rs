//! Any string as a CID: parsing never panics, and whatever parses prints back exactly as it
//! was written (one canonical spelling per CID).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cid) = s.parse::<engram_core::Cid>() {
        assert_eq!(cid.to_string(), s, "a parsed CID prints as written");
    }
});
