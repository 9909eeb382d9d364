//! Text in images by OCR, where `tesseract` is installed.
//!
//! Tesseract is run as a program (`tesseract stdin stdout`), not linked: it is optional,
//! packaged by every distribution, and a crash in its image decoders stays in its own
//! process. Its time is bounded ([`OCR_TIMEOUT`]); the image has passed
//! [`crate::image::inspect`] first, so it is a real image of bounded size.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::MediaError;

/// Longest a recognition may take.
pub const OCR_TIMEOUT: Duration = Duration::from_secs(120);

/// The program run, `ENGRAM_TESSERACT` or `tesseract` on the `PATH`.
fn program() -> String {
    std::env::var("ENGRAM_TESSERACT").unwrap_or_else(|_| "tesseract".into())
}

/// Whether tesseract can be run here.
pub async fn available() -> bool {
    tokio::process::Command::new(program())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

/// The text tesseract reads in `image` (language `eng`), trimmed.
///
/// # Errors
/// [`MediaError::OcrSpawn`] when tesseract is missing, [`MediaError::OcrFailed`],
/// [`MediaError::OcrTimeout`], [`MediaError::OcrIo`].
pub async fn tesseract(image: &[u8]) -> Result<String, MediaError> {
    let mut child = tokio::process::Command::new(program())
        .args(["stdin", "stdout", "-l", "eng", "--psm", "3"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| MediaError::OcrSpawn {
            program: program(),
            source,
        })?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = image.to_vec();
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&input).await;
    });
    let out = tokio::time::timeout(OCR_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| MediaError::OcrTimeout {
            secs: OCR_TIMEOUT.as_secs(),
        })?
        .map_err(MediaError::OcrIo)?;
    let _ = writer.await;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(MediaError::OcrFailed {
            status: out.status.to_string(),
            message: err
                .trim()
                .lines()
                .last()
                .unwrap_or("no message")
                .to_string(),
        });
    }
    Ok(crate::chunk::normalize(&String::from_utf8_lossy(
        &out.stdout,
    )))
}
