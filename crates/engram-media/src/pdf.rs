//! Text from PDFs, page by page.
//!
//! Extraction is pdf-extract over lopdf (pure Rust, no C library, no subprocess). Measured
//! on this project's fixtures (docs/media.md): it decodes fonts' ToUnicode maps and simple
//! encodings, so accented, Greek and CJK text comes out right, and it keeps the reading
//! order and paragraph breaks that lopdf's own `extract_text` loses; it takes a few
//! milliseconds a page. Its output is normalized to NFKC, which folds ligatures (`ﬁ`) and
//! the compatibility forms some PDF generators map CJK characters to (`⽇` → `日`).
//!
//! A PDF is untrusted input: before any page is read, every Flate stream is inflated
//! through a counting reader, and the file is refused when they expand past
//! [`Limits::max_expanded_bytes`] or [`Limits::max_expansion_ratio`] times its size.
//! pdf-extract panics on some malformed files; a panic is caught and reported as a damaged
//! PDF, never allowed to take the process down; drawings (form XObjects) that draw
//! themselves, which would overflow the stack (an abort, beyond `catch_unwind`), or that
//! nest or repeat past `MAX_FORM_DEPTH`/`MAX_FORM_CALLS`, are refused before reading.
//! Not covered: lopdf inflates object streams (`/ObjStm`) while parsing, before the bomb
//! check runs, and only Flate streams are counted; the file cap bounds both.

use std::io::Read;

use lopdf::{Document as Lopdf, Object};
use unicode_normalization::UnicodeNormalization;

use crate::{Document, Kind, Limits, MediaError};

/// The MIME type of PDFs.
pub const MIME: &str = "application/pdf";

/// Reads a PDF: its title and each page's text.
///
/// # Errors
/// [`MediaError::Empty`], [`MediaError::TooLarge`], [`MediaError::WrongType`] (no `%PDF-`
/// header), [`MediaError::Encrypted`], [`MediaError::Pdf`], [`MediaError::PdfPage`],
/// [`MediaError::PdfPanic`], [`MediaError::NoPages`], [`MediaError::PdfLoop`],
/// [`MediaError::PdfNesting`], [`MediaError::Bomb`],
/// [`MediaError::NoText`] when no page has text.
pub fn extract(
    bytes: Vec<u8>,
    source: &str,
    filename: Option<&str>,
    limits: &Limits,
) -> Result<Document, MediaError> {
    limits.check_size("PDF", bytes.len())?;
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(MediaError::WrongType {
            expected: "PDF",
            reason: format!("no %PDF- header (starts with {:?})", sniff(&bytes)),
        });
    }
    let (title, pages) = guarded(|| read(&bytes, limits))?;
    if pages.iter().all(|p| p.trim().is_empty()) {
        return Err(MediaError::NoText { pages: pages.len() });
    }
    Ok(Document {
        kind: Kind::Pdf,
        content_type: MIME.into(),
        source: source.into(),
        filename: filename.map(str::to_string),
        title,
        pages,
        bytes,
    })
}

/// The first bytes of a file, printable, for error messages.
fn sniff(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(16)])
        .chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect()
}

/// Runs `f`, turning a panic inside the PDF libraries into [`MediaError::PdfPanic`].
fn guarded<T>(f: impl FnOnce() -> Result<T, MediaError>) -> Result<T, MediaError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the parser gave up".into());
        Err(MediaError::PdfPanic(why))
    })
}

fn read(bytes: &[u8], limits: &Limits) -> Result<(Option<String>, Vec<String>), MediaError> {
    let mut doc = Lopdf::load_mem(bytes).map_err(MediaError::Pdf)?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(MediaError::Encrypted);
    }
    check_expansion(&doc, bytes.len(), limits)?;
    check_forms(&doc)?;
    let title = title(&doc);
    let numbers: Vec<u32> = doc.get_pages().keys().copied().collect();
    if numbers.is_empty() {
        return Err(MediaError::NoPages);
    }
    let mut pages = Vec::with_capacity(numbers.len());
    for n in numbers {
        let mut text = String::new();
        {
            let mut out = pdf_extract::PlainTextOutput::new(&mut text);
            pdf_extract::output_doc_page(&doc, &mut out, n)
                .map_err(|source| MediaError::PdfPage { page: n, source })?;
        }
        pages.push(text.nfkc().collect());
    }
    Ok((title, pages))
}

/// Refuses documents whose Flate streams expand past the limits, without holding the
/// expanded bytes.
fn check_expansion(doc: &Lopdf, file_len: usize, limits: &Limits) -> Result<(), MediaError> {
    let limit = limits
        .max_expanded_bytes
        .min(file_len.saturating_mul(limits.max_expansion_ratio))
        .max(1 << 20);
    let mut total = 0usize;
    let mut sink = [0u8; 64 * 1024];
    for obj in doc.objects.values() {
        let Object::Stream(stream) = obj else {
            continue;
        };
        let flate = stream
            .filters()
            .is_ok_and(|f| f.iter().any(|f| f == b"FlateDecode"));
        if !flate {
            total = total.saturating_add(stream.content.len());
            continue;
        }
        let mut reader = flate2::read::ZlibDecoder::new(&stream.content[..]);
        loop {
            match reader.read(&mut sink) {
                Ok(0) => break,
                Ok(n) => total += n,
                // A damaged stream is the page reader's problem, not a bomb.
                Err(_) => break,
            }
            if total > limit {
                return Err(MediaError::Bomb { limit });
            }
        }
    }
    Ok(())
}

/// Deepest nesting of drawings (form XObjects) a document may have.
const MAX_FORM_DEPTH: usize = 16;
/// Most drawing invocations one drawing may cause, nested ones counted.
const MAX_FORM_CALLS: u64 = 100_000;

/// Refuses drawings that draw themselves (the extractor follows `Do` with no cycle check,
/// and a loop would overflow the stack: an abort no `catch_unwind` can catch) and drawings
/// nested or repeated so much that reading them would take hours.
fn check_forms(doc: &Lopdf) -> Result<(), MediaError> {
    use std::collections::{HashMap, HashSet};
    type Id = lopdf::ObjectId;

    // The XObjects each name stands for: in a drawing's own resources, else (inherited)
    // in any page's, which is conservative.
    fn deref<'a>(doc: &'a Lopdf, o: &'a Object) -> Option<&'a lopdf::Dictionary> {
        match o {
            Object::Reference(id) => doc.get_dictionary(*id).ok(),
            Object::Dictionary(d) => Some(d),
            _ => None,
        }
    }
    let names = |dict: &lopdf::Dictionary| -> Vec<(Vec<u8>, Id)> {
        dict.get(b"Resources")
            .ok()
            .and_then(|o| deref(doc, o))
            .and_then(|r| r.get(b"XObject").ok())
            .and_then(|o| deref(doc, o))
            .map(|x| {
                x.iter()
                    .filter_map(|(k, v)| v.as_reference().ok().map(|id| (k.clone(), id)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut inherited: HashMap<Vec<u8>, HashSet<Id>> = HashMap::new();
    for page in doc.get_pages().values() {
        if let Ok(dict) = doc.get_dictionary(*page) {
            for (k, id) in names(dict) {
                inherited.entry(k).or_default().insert(id);
            }
        }
    }
    // Each drawing's calls: (callee, how many times its content says `Do` of it).
    let mut calls: HashMap<Id, Vec<(Id, u64)>> = HashMap::new();
    for (id, obj) in &doc.objects {
        let Object::Stream(stream) = obj else {
            continue;
        };
        if !stream
            .dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .is_ok_and(|n| n == b"Form")
        {
            continue;
        }
        let own: HashMap<Vec<u8>, Id> = names(&stream.dict).into_iter().collect();
        let content = stream
            .decompressed_content()
            .unwrap_or_else(|_| stream.content.clone());
        let ops = lopdf::content::Content::decode(&content)
            .map(|c| c.operations)
            .unwrap_or_default();
        let mut counted: HashMap<Id, u64> = HashMap::new();
        for op in ops.iter().filter(|o| o.operator == "Do") {
            let Some(name) = op.operands.first().and_then(|o| o.as_name().ok()) else {
                continue;
            };
            let targets: Vec<Id> = match own.get(name) {
                Some(t) => vec![*t],
                None => inherited
                    .get(name)
                    .map(|s| s.iter().copied().collect())
                    .unwrap_or_default(),
            };
            for t in targets {
                *counted.entry(t).or_default() += 1;
            }
        }
        calls.insert(*id, counted.into_iter().collect());
    }
    // Depth-first over the call graph, without recursion: a cycle is an edge back to a
    // drawing still being explored; depth and invocation counts come back on the way out.
    let mut done: HashMap<Id, (usize, u64)> = HashMap::new();
    let mut open: HashSet<Id> = HashSet::new();
    for &start in calls.keys() {
        if done.contains_key(&start) {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        open.insert(start);
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let children = calls.get(&node).map(Vec::as_slice).unwrap_or_default();
            if let Some(&(child, _)) = children.get(*next) {
                *next += 1;
                if open.contains(&child) {
                    return Err(MediaError::PdfLoop);
                }
                if !done.contains_key(&child) && calls.contains_key(&child) {
                    open.insert(child);
                    stack.push((child, 0));
                }
                continue;
            }
            let (mut depth, mut total) = (0usize, 0u64);
            for (child, times) in children {
                let (d, c) = done.get(child).copied().unwrap_or((0, 0));
                depth = depth.max(d + 1);
                total = total.saturating_add(times.saturating_mul(c.saturating_add(1)));
            }
            if depth > MAX_FORM_DEPTH || total > MAX_FORM_CALLS {
                return Err(MediaError::PdfNesting {
                    depth,
                    calls: total,
                    max_depth: MAX_FORM_DEPTH,
                    max_calls: MAX_FORM_CALLS,
                });
            }
            done.insert(node, (depth, total));
            open.remove(&node);
            stack.pop();
        }
    }
    Ok(())
}

/// The document's `/Title`, if it has a non-empty one.
fn title(doc: &Lopdf) -> Option<String> {
    let info = doc.trailer.get(b"Info").ok()?;
    let info = match info {
        Object::Reference(id) => doc.get_dictionary(*id).ok()?,
        Object::Dictionary(d) => d,
        _ => return None,
    };
    let raw = info.get(b"Title").ok()?;
    let title = lopdf::decode_text_string(raw).ok()?;
    let title: String = title.nfkc().collect::<String>().trim().to_string();
    (!title.is_empty()).then_some(title)
}

/// A PDF of `pages`, one string a page in Helvetica (Latin-1 text), made with lopdf: the
/// documents tests and benchmarks need, built rather than downloaded.
pub fn build(title: &str, pages: &[String]) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Dictionary, Stream, StringFormat, dictionary};

    let mut doc = Lopdf::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font } });
    let mut kids = Vec::new();
    for text in pages {
        let mut ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 11.into()]),
            Operation::new("TL", vec![14.into()]),
            Operation::new("Td", vec![50.into(), 780.into()]),
        ];
        for line in wrap(text, 90) {
            let latin1: Vec<u8> = line
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect();
            ops.push(Operation::new(
                "Tj",
                vec![Object::String(latin1, StringFormat::Literal)],
            ));
            ops.push(Operation::new("T*", vec![]));
        }
        ops.push(Operation::new("ET", vec![]));
        let content = Content { operations: ops }
            .encode()
            .expect("content encodes");
        let mut stream = Stream::new(Dictionary::new(), content);
        let _ = stream.compress();
        let content_id = doc.add_object(stream);
        kids.push(
            doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
                "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            })
            .into(),
        );
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources,
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    let info = doc.add_object(dictionary! {
        "Title" => Object::string_literal(title),
    });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("an in-memory PDF saves");
    out
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
