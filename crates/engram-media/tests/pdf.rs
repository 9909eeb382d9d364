//! PDFs in, page texts out; every kind of bad PDF refused with its own reason.

use engram_media::{Limits, MediaError, pdf};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn a_chromium_pdf_gives_each_pages_unicode_text_and_its_title() {
    let doc = pdf::extract(
        fixture("unicode-3-pages.pdf"),
        "unicode-3-pages.pdf",
        Some("unicode-3-pages.pdf"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(doc.pages.len(), 3);
    assert_eq!(doc.title.as_deref(), Some("Engram Test Document"));
    assert!(doc.pages[0].contains("mitochondria is the powerhouse of the cell"));
    // NFKC folds the Kangxi radical Chromium's font maps 日 to.
    assert!(
        doc.pages[1].contains(
            "Café crème, naïve façade, Grüße aus München. Ελληνικά γράμματα. 日本語のテキスト。"
        ),
        "{:?}",
        doc.pages[1]
    );
    assert!(doc.pages[2].contains("Rust ownership rules prevent data races"));
    let chunks = doc.chunks(&Limits::default()).unwrap();
    assert_eq!(
        chunks.iter().map(|c| c.page).collect::<Vec<_>>(),
        vec![Some(1), Some(2), Some(3)]
    );
}

#[test]
fn a_built_multi_page_pdf_round_trips() {
    let pages: Vec<String> = (1..=12)
        .map(|i| format!("Page {i} talks about topic number {i} in some detail. ").repeat(20))
        .collect();
    let bytes = pdf::build("Twelve pages", &pages);
    let doc = pdf::extract(bytes, "t.pdf", None, &Limits::default()).unwrap();
    assert_eq!(doc.pages.len(), 12);
    assert_eq!(doc.title.as_deref(), Some("Twelve pages"));
    for (i, p) in doc.pages.iter().enumerate() {
        assert!(p.contains(&format!(
            "Page {} talks about topic number {}",
            i + 1,
            i + 1
        )));
    }
    let chunks = doc.chunks(&Limits::default()).unwrap();
    assert!(chunks.len() >= 12);
    assert!(chunks.iter().all(|c| c.text.chars().count() <= 1_000));
}

#[test]
fn not_a_pdf_empty_and_oversized_are_refused() {
    let limits = Limits::default();
    let err = pdf::extract(b"hello world, not a pdf".to_vec(), "x.pdf", None, &limits).unwrap_err();
    assert!(matches!(err, MediaError::WrongType { .. }), "{err}");
    assert!(err.to_string().contains("no %PDF- header"));
    assert!(matches!(
        pdf::extract(Vec::new(), "x.pdf", None, &limits),
        Err(MediaError::Empty { .. })
    ));
    let bytes = fixture("unicode-3-pages.pdf");
    let small = Limits {
        max_bytes: bytes.len() - 1,
        ..limits
    };
    assert!(matches!(
        pdf::extract(bytes.clone(), "x.pdf", None, &small),
        Err(MediaError::TooLarge { .. })
    ));
    let exact = Limits {
        max_bytes: bytes.len(),
        ..limits
    };
    assert!(pdf::extract(bytes, "x.pdf", None, &exact).is_ok());
}

#[test]
fn a_damaged_pdf_is_refused_without_a_panic() {
    let mut bytes = fixture("unicode-3-pages.pdf");
    bytes.truncate(bytes.len() / 3);
    let err = pdf::extract(bytes, "x.pdf", None, &Limits::default()).unwrap_err();
    assert!(matches!(err, MediaError::Pdf(_)), "{err}");
    let garbage = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF".to_vec();
    let err = pdf::extract(garbage, "x.pdf", None, &Limits::default()).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::Pdf(_) | MediaError::NoPages | MediaError::PdfPanic(_)
        ),
        "{err}"
    );
    assert!(err.to_string().starts_with("the PDF is damaged"), "{err}");
}

#[test]
fn a_pdf_without_text_is_a_scan() {
    let bytes = pdf::build("Blank", &[String::new(), String::new()]);
    let err = pdf::extract(bytes, "scan.pdf", None, &Limits::default()).unwrap_err();
    assert!(matches!(err, MediaError::NoText { pages: 2 }), "{err}");
    assert!(err.to_string().contains("OCR"));
}

#[test]
fn a_decompression_bomb_is_refused_before_it_expands() {
    use lopdf::{Dictionary, Object, Stream};
    // A page whose content stream inflates from ~100 KB to 100 MB of zeros.
    let mut bytes = pdf::build("Bomb", &["some text".into()]);
    let mut doc = lopdf::Document::load_mem(&bytes).unwrap();
    let zeros = vec![0u8; 100 << 20];
    let mut stream = Stream::new(Dictionary::new(), zeros);
    stream.compress().unwrap();
    assert!(stream.content.len() < 200_000);
    doc.add_object(Object::Stream(stream));
    bytes.clear();
    doc.save_to(&mut bytes).unwrap();
    let err = pdf::extract(bytes, "bomb.pdf", None, &Limits::default()).unwrap_err();
    assert!(matches!(err, MediaError::Bomb { .. }), "{err}");
}

#[test]
fn an_encrypted_pdf_is_refused() {
    use lopdf::{EncryptionState, EncryptionVersion, Permissions};

    let bytes = pdf::build("Secret", &["classified text".into()]);
    let mut doc = lopdf::Document::load_mem(&bytes).unwrap();
    let id = lopdf::Object::String(
        b"0123456789abcdef".to_vec(),
        lopdf::StringFormat::Hexadecimal,
    );
    doc.trailer.set("ID", vec![id.clone(), id]);
    let version = EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password: "user",
        key_length: 128,
        permissions: Permissions::all(),
    };
    let state = EncryptionState::try_from(version).unwrap();
    doc.encrypt(&state).unwrap();
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    let err = pdf::extract(out, "secret.pdf", None, &Limits::default()).unwrap_err();
    assert!(matches!(err, MediaError::Encrypted), "{err}");
}

/// A page drawing form `X1`, whose own content draws `X1` again (or, with `nest`, a chain
/// of `nest` forms each drawing the next 10 times).
fn drawing_pdf(self_loop: bool, nest: usize) -> Vec<u8> {
    use lopdf::{Dictionary, Object, Stream, dictionary};
    let mut doc = lopdf::Document::load_mem(&pdf::build("Drawings", &["text".into()])).unwrap();
    let mut next: Option<lopdf::ObjectId> = None;
    let mut top = None;
    for _ in 0..nest.max(1) {
        let id = doc.new_object_id();
        let (content, xobjects) = match (self_loop, next) {
            (true, _) => (b"/X1 Do".to_vec(), dictionary! { "X1" => id }),
            (false, Some(child)) => (b"/X1 Do ".repeat(10), dictionary! { "X1" => child }),
            (false, None) => (b"0 0 m".to_vec(), Dictionary::new()),
        };
        let dict = dictionary! {
            "Type" => "XObject", "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 10.into(), 10.into()],
            "Resources" => dictionary! { "XObject" => xobjects },
        };
        doc.objects
            .insert(id, Object::Stream(Stream::new(dict, content)));
        next = Some(id);
        top = Some(id);
    }
    let top = top.unwrap();
    // The pages inherit their resources (the font) from the page tree: add X1 there.
    let pages = doc
        .catalog()
        .unwrap()
        .get(b"Pages")
        .unwrap()
        .as_reference()
        .unwrap();
    let resources = doc
        .get_dictionary(pages)
        .unwrap()
        .get(b"Resources")
        .unwrap()
        .as_reference()
        .unwrap();
    doc.get_object_mut(resources)
        .unwrap()
        .as_dict_mut()
        .unwrap()
        .set("XObject", dictionary! { "X1" => top });
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[test]
fn drawings_that_draw_themselves_or_nest_too_deep_are_refused() {
    let err = pdf::extract(drawing_pdf(true, 1), "loop.pdf", None, &Limits::default()).unwrap_err();
    assert!(matches!(err, MediaError::PdfLoop), "{err}");
    // 6 levels × 10 calls each: 10^6 invocations.
    let err =
        pdf::extract(drawing_pdf(false, 6), "deep.pdf", None, &Limits::default()).unwrap_err();
    assert!(matches!(err, MediaError::PdfNesting { .. }), "{err}");
    // 3 levels: 1,110 invocations, a document like any other.
    let doc = pdf::extract(drawing_pdf(false, 3), "ok.pdf", None, &Limits::default()).unwrap();
    assert!(doc.pages[0].contains("text"));
}
