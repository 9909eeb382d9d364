//! Image descriptions from a vision model behind an OpenAI-compatible chat-completions
//! endpoint (xAI's Grok in the original; OpenAI, a local llama.cpp or vLLM server work the
//! same way).
//!
//! Configured by `ENGRAM_VISION_URL` (the API base, e.g. `https://api.x.ai/v1`),
//! `ENGRAM_VISION_KEY` (or `XAI_API_KEY`, the original's variable) and
//! `ENGRAM_VISION_MODEL` (default `grok-2-vision-latest`, the original's). The request is
//! the original's: one user message with the image as a data URL at `detail: high` and
//! the same prompt, `max_tokens` 1024.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::MediaError;

/// The original's prompt, byte for byte.
pub const PROMPT: &str = "Describe this image in detail. Extract any visible text verbatim. Include layout, content, and context. Be thorough \u{2014} this description will be stored as a searchable memory.";
/// The model asked for when none is configured.
pub const DEFAULT_MODEL: &str = "grok-2-vision-latest";
/// Longest a description may take.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Where the vision model is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisionConfig {
    /// API base URL; `/chat/completions` is appended.
    pub url: String,
    /// Bearer key, if the endpoint needs one.
    pub key: Option<String>,
    /// Model name.
    pub model: String,
}

impl VisionConfig {
    /// The configuration in the environment, if `ENGRAM_VISION_URL` is set.
    pub fn from_env() -> Option<Self> {
        let url = std::env::var("ENGRAM_VISION_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        Some(Self {
            url,
            key: std::env::var("ENGRAM_VISION_KEY")
                .or_else(|_| std::env::var("XAI_API_KEY"))
                .ok()
                .filter(|k| !k.is_empty()),
            model: std::env::var("ENGRAM_VISION_MODEL")
                .ok()
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| DEFAULT_MODEL.into()),
        })
    }
}

/// A description of `image` (of type `mime`) from the configured model.
///
/// # Errors
/// [`MediaError::VisionRequest`], [`MediaError::VisionStatus`],
/// [`MediaError::VisionAnswer`], [`MediaError::VisionEmpty`].
pub async fn describe(
    config: &VisionConfig,
    image: &[u8],
    mime: &str,
) -> Result<String, MediaError> {
    let url = format!("{}/chat/completions", config.url.trim_end_matches('/'));
    let data_url = format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(image)
    );
    let body = json!({
        "model": config.model,
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": data_url, "detail": "high"}},
            {"type": "text", "text": PROMPT},
        ]}],
    });
    let request = |source| MediaError::VisionRequest {
        url: url.clone(),
        source,
    };
    let http = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(request)?;
    let mut req = http.post(&url).json(&body);
    if let Some(key) = &config.key {
        req = req.bearer_auth(key);
    }
    let resp = req.send().await.map_err(request)?;
    let status = resp.status();
    let text = resp.text().await.map_err(request)?;
    if !status.is_success() {
        return Err(MediaError::VisionStatus {
            url,
            status: status.as_u16(),
            body: text.chars().take(300).collect(),
        });
    }
    let answer: Value = serde_json::from_str(&text).map_err(|source| MediaError::VisionAnswer {
        url: url.clone(),
        source,
    })?;
    let content = answer["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .trim()
        .to_string();
    if content.is_empty() {
        return Err(MediaError::VisionEmpty { url });
    }
    Ok(content)
}
