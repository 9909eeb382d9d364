//! OCR with the real tesseract (installed by `scripts/test-tools.sh`, which `make test`
//! runs): text in PNG and JPEG screenshots comes back as text.

use engram_media::{Limits, image, ocr};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[tokio::test]
async fn tesseract_reads_text_in_png_and_jpeg() {
    assert!(
        ocr::available().await,
        "tesseract is not installed; run scripts/test-tools.sh (make test does)"
    );
    for name in ["text.png", "text.jpg"] {
        let bytes = fixture(name);
        let info = image::inspect(&bytes, &Limits::default()).unwrap();
        assert_eq!((info.width, info.height), (800, 180), "{name}");
        let text = ocr::tesseract(&bytes).await.unwrap();
        assert!(
            text.contains("Quarterly revenue grew 42 percent"),
            "{name}: {text:?}"
        );
        assert!(
            text.contains("Engram stores memories forever"),
            "{name}: {text:?}"
        );
    }
}
