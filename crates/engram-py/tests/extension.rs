//! The extension module exists and exports what CPython imports (`PyInit__engram`). The
//! Python suite (python/tests, run by `make test`) imports this very file: the test build
//! makes it (`target/<profile>/deps/lib_engram.so`) because this test depends on the crate.

#[test]
fn the_extension_exports_its_init_function() {
    let lib = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target")
        .join(if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        })
        .join("deps/lib_engram.so");
    let bytes = std::fs::read(&lib)
        .unwrap_or_else(|e| panic!("{}: {e} (built with this test)", lib.display()));
    assert!(
        bytes.windows(14).any(|w| w == b"PyInit__engram"),
        "{} does not export PyInit__engram",
        lib.display()
    );
}
