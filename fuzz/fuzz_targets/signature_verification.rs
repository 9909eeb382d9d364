//! Signature checks on hostile input: arbitrary hotkeys, messages and signature strings
//! never panic; a real signature verifies only over the exact message it signed.
#![no_main]

use std::sync::OnceLock;

use engram_core::auth::verify_message;
use engram_core::keys::Keypair;
use libfuzzer_sys::fuzz_target;

fn alice() -> &'static Keypair {
    static KEY: OnceLock<Keypair> = OnceLock::new();
    KEY.get_or_init(|| Keypair::from_uri("//Alice").expect("dev key"))
}

fuzz_target!(|data: &[u8]| {
    // Arbitrary text split into hotkey, message and signature.
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let (hotkey, message, sig) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let _ = verify_message(hotkey, message, sig);
    let _ = engram_core::keys::ss58_decode(hotkey);
    let _ = engram_core::auth::parse_signature(sig);

    // A real signature over the input: valid as signed, invalid once any byte changes.
    let key = alice();
    let message = text.as_ref();
    let signature = hex_of(&key.sign(message.as_bytes()));
    assert!(verify_message(&key.ss58(), message, &signature).is_ok());
    if !message.is_empty() {
        let mut changed = message.as_bytes().to_vec();
        changed[0] ^= 1;
        if let Ok(changed) = String::from_utf8(changed) {
            assert!(verify_message(&key.ss58(), &changed, &signature).is_err());
        }
    }
});

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
