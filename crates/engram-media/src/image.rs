//! Images: what they are and how big, read from the header before anything decodes them.
//!
//! A "PNG" may be anything; a 40-byte PNG may claim 100,000 × 100,000 pixels and make a
//! decoder (tesseract's, a vision service's) allocate 40 GB. So an image is accepted only
//! when its magic bytes say PNG, JPEG, GIF or WebP and its header's dimensions stay under
//! [`Limits::max_pixels`]; its text then comes from a description, a vision model, or OCR
//! (see the crate's `ocr` and `vision` modules), in that order.

use crate::{Document, Kind, Limits, MediaError};

/// What the header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// MIME type from the magic bytes.
    pub mime: &'static str,
    /// Width in pixels.
    pub width: u64,
    /// Height in pixels.
    pub height: u64,
}

const EXPECTED: &str = "PNG, JPEG, GIF or WebP image";

/// The image's type and size.
///
/// # Errors
/// [`MediaError::Empty`], [`MediaError::TooLarge`], [`MediaError::WrongType`] for other
/// bytes or an unreadable header, [`MediaError::TooManyPixels`].
pub fn inspect(bytes: &[u8], limits: &Limits) -> Result<ImageInfo, MediaError> {
    limits.check_size("image", bytes.len())?;
    let mime = match bytes {
        [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, ..] => "image/png",
        [0xff, 0xd8, 0xff, ..] => "image/jpeg",
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => "image/gif",
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => "image/webp",
        _ => {
            return Err(MediaError::WrongType {
                expected: EXPECTED,
                reason: "its first bytes match none of these formats".into(),
            });
        }
    };
    let size = imagesize::blob_size(bytes).map_err(|e| MediaError::WrongType {
        expected: EXPECTED,
        reason: format!("unreadable {mime} header: {e}"),
    })?;
    let (width, height) = (size.width as u64, size.height as u64);
    if width == 0 || height == 0 {
        return Err(MediaError::WrongType {
            expected: EXPECTED,
            reason: format!("the header gives {width}×{height} pixels"),
        });
    }
    if width.saturating_mul(height) > limits.max_pixels {
        return Err(MediaError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    Ok(ImageInfo {
        mime,
        width,
        height,
    })
}

/// An image document whose text (description, vision output or OCR) is already known.
///
/// # Errors
/// As [`inspect`]; [`MediaError::NoTextFound`] when `text` is blank.
pub fn document(
    bytes: Vec<u8>,
    text: String,
    filename: &str,
    limits: &Limits,
) -> Result<Document, MediaError> {
    let info = inspect(&bytes, limits)?;
    if text.trim().is_empty() {
        return Err(MediaError::NoTextFound { what: "image" });
    }
    Ok(Document {
        kind: Kind::Image,
        content_type: info.mime.into(),
        source: filename.into(),
        filename: Some(filename.into()),
        title: None,
        pages: vec![text],
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG header (signature + IHDR) claiming `w`×`h` pixels.
    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
        b.extend_from_slice(b"IHDR");
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    #[test]
    fn reads_type_and_size_from_the_header() {
        let info = inspect(&png(640, 480), &Limits::default()).unwrap();
        assert_eq!(
            info,
            ImageInfo {
                mime: "image/png",
                width: 640,
                height: 480
            }
        );
    }

    #[test]
    fn refuses_non_images_bombs_and_empty_files() {
        let limits = Limits::default();
        assert!(matches!(
            inspect(b"%PDF-1.7 not an image", &limits),
            Err(MediaError::WrongType { .. })
        ));
        assert!(matches!(
            inspect(&png(100_000, 100_000), &limits),
            Err(MediaError::TooManyPixels { .. })
        ));
        assert!(matches!(
            inspect(b"", &limits),
            Err(MediaError::Empty { .. })
        ));
        assert!(matches!(
            inspect(&png(0, 10), &limits),
            Err(MediaError::WrongType { .. })
        ));
        let small = Limits {
            max_bytes: 10,
            ..limits
        };
        assert!(matches!(
            inspect(&png(1, 1), &small),
            Err(MediaError::TooLarge { .. })
        ));
        // At the pixel limit exactly: accepted; one row more: refused.
        let tight = Limits {
            max_pixels: 100 * 100,
            ..limits
        };
        assert!(inspect(&png(100, 100), &tight).is_ok());
        assert!(inspect(&png(100, 101), &tight).is_err());
    }

    #[test]
    fn a_blank_description_is_refused() {
        let err = document(png(2, 2), "  ".into(), "a.png", &Limits::default()).unwrap_err();
        assert!(matches!(err, MediaError::NoTextFound { .. }));
    }
}
