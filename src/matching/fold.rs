//! NFC and full case folding, keeping track of where each folded byte came from.

use std::borrow::Cow;

use icu_casemap::CaseMapper;
use icu_normalizer::ComposingNormalizerBorrowed;
use writeable::Writeable;

use super::class::{is_mark, is_word};

/// `s` in Unicode NFC (borrowed when it already is).
pub(crate) fn nfc(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        return Cow::Borrowed(s);
    }
    ComposingNormalizerBorrowed::new_nfc().normalize(s)
}

/// A text after NFC and full case folding, with the class of the original
/// character behind each byte.
#[derive(Clone, Debug, Default)]
pub(crate) struct Folded {
    text: String,
    /// Per byte of `text`: whether the original character it came from is a
    /// word character (a combining mark: whether its base is).
    word: Vec<bool>,
}

impl Folded {
    /// `s`, normalized and folded.
    pub(crate) fn new(s: &str) -> Folded {
        let mut folded = Folded::default();
        folded.fold(s);
        folded
    }

    /// Replaces this with `s` normalized and folded, reusing the buffers.
    pub(crate) fn fold(&mut self, s: &str) {
        self.text.clear();
        self.word.clear();
        if s.is_ascii() {
            // NFC leaves ASCII alone, and its folding is the lower case.
            self.text.push_str(s);
            self.text.make_ascii_lowercase();
            self.word
                .extend(s.bytes().map(|b| b.is_ascii_alphanumeric() || b == b'_'));
            return;
        }
        let s = nfc(s);
        let mapper = CaseMapper::new();
        let mut base_is_word = false;
        for (i, c) in s.char_indices() {
            let word = if is_mark(c) { base_is_word } else { is_word(c) };
            base_is_word = word;
            if c.is_ascii() {
                self.text.push(c.to_ascii_lowercase());
            } else {
                // Writing into a String cannot fail.
                let _ = mapper.fold(&s[i..i + c.len_utf8()]).write_to(&mut self.text);
            }
            self.word.resize(self.text.len(), word);
        }
    }

    /// The folded text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Its length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether the character behind byte `i` is a word character (false
    /// past the end).
    #[inline]
    pub(crate) fn word_at(&self, i: usize) -> bool {
        self.word.get(i).copied().unwrap_or(false)
    }
}
