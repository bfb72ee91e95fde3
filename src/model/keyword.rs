//! A user's keywords: words that count as a mention of them in group and
//! ultra-group messages (`docs/rules.md` §11).

use crate::error::Error;
use crate::matching::{is_letter_digit_or_symbol, nfc};

/// A user's keywords, each in Unicode NFC, in the order given, each once.
///
/// A keyword is 1 to [`Keywords::MAX_CHARS`] characters (code points) after
/// NFC and holds at least one letter, digit or symbol; a list holds at most
/// [`Keywords::MAX`]. The empty list clears a user's keywords.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Keywords(Vec<Box<str>>);

impl Keywords {
    /// The most keywords a user has.
    pub const MAX: usize = 50;
    /// The most characters (code points, after NFC) of one keyword.
    pub const MAX_CHARS: usize = 64;

    /// The keywords `words`, checked; a repeat (after NFC) is kept once.
    /// Errors name the element (`keywords[2]: ...`).
    pub fn new<S: AsRef<str>>(words: &[S]) -> Result<Keywords, Error> {
        if words.len() > Self::MAX {
            return Err(Error::Invalid(format!(
                "keywords: {} keywords, more than {}",
                words.len(),
                Self::MAX
            )));
        }
        let mut kept: Vec<Box<str>> = Vec::with_capacity(words.len());
        for (i, word) in words.iter().enumerate() {
            let word = nfc(word.as_ref());
            let chars = word.chars().count();
            if !(1..=Self::MAX_CHARS).contains(&chars) {
                return Err(Error::Invalid(format!(
                    "keywords[{i}]: {chars} characters after NFC, not 1 to {}",
                    Self::MAX_CHARS
                )));
            }
            if !word.chars().any(is_letter_digit_or_symbol) {
                return Err(Error::Invalid(format!(
                    "keywords[{i}]: {} holds no letter, digit or symbol",
                    crate::error::excerpt::Excerpt::new(&word)
                )));
            }
            if !kept.iter().any(|k| **k == *word) {
                kept.push(word.into());
            }
        }
        Ok(Keywords(kept))
    }

    /// The keywords of a form field: one JSON array of strings.
    pub fn parse(json: &str) -> Result<Keywords, Error> {
        const MUST_BE: &str = "must be a JSON array of at most 50 strings";
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| Error::Invalid(format!("keywords: {MUST_BE}; not JSON: {e}")))?;
        let serde_json::Value::Array(items) = value else {
            return Err(Error::Invalid(format!("keywords: {MUST_BE}")));
        };
        let mut words = Vec::with_capacity(items.len().min(Self::MAX + 1));
        for (i, item) in items.iter().enumerate() {
            let serde_json::Value::String(word) = item else {
                return Err(Error::Invalid(format!("keywords[{i}]: must be a string")));
            };
            words.push(word.as_str());
        }
        Keywords::new(&words)
    }

    /// The keywords, in the order given.
    #[must_use]
    pub fn as_slice(&self) -> &[Box<str>] {
        &self.0
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A JSON array of strings, checked as [`Keywords::new`] checks a form's.
impl<'de> serde::Deserialize<'de> for Keywords {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Keywords, D::Error> {
        let words = <Vec<String> as serde::Deserialize>::deserialize(deserializer)?;
        Keywords::new(&words).map_err(serde::de::Error::custom)
    }
}
