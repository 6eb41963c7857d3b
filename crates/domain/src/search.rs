//! Search keywords: one tokeniser shared by every store so `q` means the same everywhere.

use std::collections::BTreeSet;

/// Longest keyword kept (longer tokens are cut to this many characters).
pub const MAX_KEYWORD_CHARS: usize = 40;

/// Lower-cased alphanumeric tokens of `text` (split on anything else), each cut to
/// [`MAX_KEYWORD_CHARS`]. Stores index these per ticket; a search word matches a ticket when it
/// is a prefix of one of its keywords.
#[must_use]
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t.to_lowercase().chars().take(MAX_KEYWORD_CHARS).collect())
        .collect()
}

/// The distinct keywords of several texts (subject, body, customer name, customer email).
#[must_use]
pub fn keywords<'a>(texts: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    texts.into_iter().flat_map(tokens).collect()
}

/// Whether every search word is a prefix of some keyword (the reference semantics of `q`).
#[must_use]
pub fn matches(keywords: &BTreeSet<String>, words: &[String]) -> bool {
    words
        .iter()
        .all(|w| keywords.range(w.clone()..).next().is_some_and(|k| k.starts_with(w.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenises_and_matches_prefixes() {
        let kw = keywords(["Login BROKEN after update", "ann@example.com"]);
        assert!(kw.contains("login") && kw.contains("example") && kw.contains("ann"));
        assert!(matches(&kw, &tokens("broken LOG")));
        assert!(matches(&kw, &tokens("example.com")));
        assert!(!matches(&kw, &tokens("invoice")));
        assert!(matches(&kw, &[]));
    }
}
