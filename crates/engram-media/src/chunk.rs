//! Overlapping chunks of text, cut where a reader would pause.
//!
//! The model reads at most 256 tokens (about 1,000 characters of English), so a long text
//! embedded whole is mostly ignored. Each chunk is at most `max` characters, cut at the
//! last paragraph break in its window, else the last sentence end, else the last space,
//! else mid-word; the next chunk starts `overlap` characters earlier (moved forward to a
//! word start), so a sentence cut by one chunk is whole in the next. Whitespace runs are
//! collapsed (paragraph breaks kept) so that layout noise from PDFs does not count.

/// Normalizes whitespace: runs of spaces and tabs become one space, single line breaks
/// become spaces, two or more become one paragraph break; ends are trimmed.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut spaces = 0usize;
    let mut newlines = 0usize;
    for c in text.chars() {
        if c == '\n' {
            newlines += 1;
        } else if c.is_whitespace() {
            spaces += 1;
        } else {
            if !out.is_empty() {
                if newlines >= 2 {
                    out.push_str("\n\n");
                } else if newlines == 1 || spaces > 0 {
                    out.push(' ');
                }
            }
            spaces = 0;
            newlines = 0;
            out.push(c);
        }
    }
    out
}

/// `text` (normalized first) as chunks of at most `max` characters, each repeating up to
/// `overlap` characters of the one before. Empty text gives no chunks.
///
/// # Panics
/// If `max` is 0 or `overlap >= max`.
pub fn split(text: &str, max: usize, overlap: usize) -> Vec<String> {
    assert!(
        max > 0 && overlap < max,
        "chunk size must exceed the overlap"
    );
    let text = normalize(text);
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let hard_end = (start + max).min(chars.len());
        let end = if hard_end == chars.len() {
            hard_end
        } else {
            cut_point(&chars[start..hard_end]).map_or(hard_end, |c| start + c)
        };
        let chunk: String = chars[start..end].iter().collect();
        let chunk = chunk.trim();
        if !chunk.is_empty() {
            out.push(chunk.to_string());
        }
        if end == chars.len() {
            break;
        }
        // Step back by the overlap, then forward to the start of a word, always past `start`.
        let mut next = end.saturating_sub(overlap).max(start + 1);
        if next < end && next > 0 && !chars[next - 1].is_whitespace() {
            while next < end && !chars[next - 1].is_whitespace() {
                next += 1;
            }
        }
        while next < chars.len() && chars[next].is_whitespace() {
            next += 1;
        }
        start = next;
    }
    out
}

/// Where to end a window: after its last paragraph break, sentence end or space, if that
/// keeps at least half the window; `None` cuts at the window's end.
fn cut_point(window: &[char]) -> Option<usize> {
    let half = window.len() / 2;
    let last = |pred: &dyn Fn(usize) -> bool| (half..window.len()).rev().find(|&i| pred(i));
    last(&|i| window[i] == '\n' && i > 0 && window[i - 1] == '\n')
        .or_else(|| {
            last(&|i| {
                window[i].is_whitespace()
                    && i > 0
                    && matches!(window[i - 1], '.' | '!' | '?' | '。' | '！' | '？')
            })
        })
        .or_else(|| last(&|i| window[i].is_whitespace()))
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_normalized() {
        assert_eq!(normalize("  a \t b\nc\n\n\n d  "), "a b c\n\nd");
        assert_eq!(normalize(" \n "), "");
    }

    #[test]
    fn boundaries_empty_one_limit_and_limit_plus_one() {
        assert!(split("", 10, 2).is_empty());
        assert!(split("   \n\n ", 10, 2).is_empty());
        assert_eq!(split("a", 10, 2), vec!["a"]);
        let exactly = "abcdefg hi"; // 10 characters
        assert_eq!(split(exactly, 10, 2), vec![exactly]);
        let over = "abcdefg hij"; // 11: cut at the space, then the rest
        assert_eq!(split(over, 10, 2), vec!["abcdefg", "hij"]);
    }

    #[test]
    fn chunks_respect_the_limit_and_overlap_whole_words() {
        let text = "The quick brown fox jumps over the lazy dog. ".repeat(60);
        let chunks = split(&text, 200, 50);
        assert!(chunks.len() > 10);
        for w in chunks.windows(2) {
            assert!(w[0].chars().count() <= 200);
            let first_word = w[1].split(' ').next().unwrap();
            assert!(
                [
                    "The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog."
                ]
                .contains(&first_word),
                "chunk starts mid-word: {:?}",
                &w[1][..20]
            );
            // The overlap: the next chunk starts inside the previous one.
            let tail: String = w[0]
                .chars()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            assert!(w[1].contains(tail.trim()) || w[1].starts_with(first_word));
        }
        // Every sentence ending survives in some chunk.
        assert!(chunks.iter().all(|c| c.contains("dog")));
    }

    #[test]
    fn cuts_prefer_paragraphs_then_sentences() {
        let text = format!("{}\n\n{}", "a".repeat(70), "b ".repeat(40));
        let chunks = split(&text, 100, 10);
        assert_eq!(chunks[0], "a".repeat(70));
        let text = format!("{}. {}", "word ".repeat(14).trim(), "next ".repeat(30));
        let chunks = split(&text, 100, 0);
        assert!(chunks[0].ends_with('.'), "{:?}", chunks[0]);
    }

    #[test]
    fn a_word_longer_than_the_limit_is_cut() {
        let chunks = split(&"x".repeat(25), 10, 3);
        assert!(chunks.iter().all(|c| c.chars().count() <= 10));
        assert!(chunks.concat().len() >= 25);
    }

    #[test]
    fn multibyte_text_is_cut_on_characters() {
        let text = "日本語のテキスト。".repeat(50);
        for c in split(&text, 64, 8) {
            assert!(c.chars().count() <= 64);
        }
    }
}
