//! What counts as a keyword in a text, in every script.
//!
//! Text and keywords are compared after Unicode NFC and full case folding
//! (CaseFolding.txt statuses C and F: `Straße` matches `STRASSE`), in
//! [`Folded`] form: the folded text, and for each of its bytes whether the
//! character of the original text it came from is a *word character* (a
//! letter, digit or `_` of a script written with spaces between words;
//! [`class::is_word`]). Folding changes lengths (`ß` becomes `ss`, `İ`
//! becomes `i̇`), so the classes are carried byte by byte from the original
//! characters rather than recomputed on the folded ones.
//!
//! A keyword matches where it occurs in the folded text, except that on
//! each side whose keyword character is a word character, the neighbouring
//! text character must not be one ([`Pattern::fits`]). Han, Hiragana,
//! Katakana, Thai, Lao, Khmer and Myanmar are written without spaces, and
//! Hangul counts with them, so their letters never block a match: `张三`
//! matches in `请张三看`, `bob` in `请看bob`. A combining mark is part of the
//! character before it: it is a word character exactly when its base is,
//! so `bob` does not match in `bob` followed by U+0301, nor Devanagari
//! `राम` in `रामायण`.
//!
//! Every user's folded keywords are one set of [`Patterns`], searched by a
//! few Aho–Corasick automata at once (`automaton.rs`): a message's text is
//! scanned once, however many users have keywords.

mod automaton;
pub(crate) mod class;
mod fold;

pub(crate) use automaton::{PatternId, Patterns};
pub(crate) use class::is_letter_digit_or_symbol;
pub(crate) use fold::{nfc, Folded};

/// A folded keyword, with what its boundary rule needs: whether its first
/// and last characters are word characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pattern {
    folded: Box<str>,
    word_start: bool,
    word_end: bool,
}

impl Pattern {
    /// The pattern of `keyword` (any text; NFC is applied here).
    pub(crate) fn of(keyword: &str) -> Pattern {
        let folded = Folded::new(keyword);
        Pattern {
            word_start: folded.word_at(0),
            word_end: folded.len() > 0 && folded.word_at(folded.len() - 1),
            folded: folded.text().into(),
        }
    }

    /// The folded keyword.
    pub(crate) fn folded(&self) -> &str {
        &self.folded
    }

    /// Whether the rule checks the text before an occurrence: the
    /// keyword's first character is a word character.
    pub(crate) fn word_start(&self) -> bool {
        self.word_start
    }

    /// Whether the rule checks the text after an occurrence.
    pub(crate) fn word_end(&self) -> bool {
        self.word_end
    }

    /// Whether an occurrence of this pattern at bytes `start..end` of `text`
    /// keeps the boundary rule.
    #[inline]
    pub(crate) fn fits(&self, text: &Folded, start: usize, end: usize) -> bool {
        let blocked_before = self.word_start && start > 0 && text.word_at(start - 1);
        let blocked_after = self.word_end && text.word_at(end);
        !blocked_before && !blocked_after
    }
}

/// Whether `keyword` occurs in `text` under the rules above, searched
/// directly: the slow, obviously right reading that the automata are
/// checked against.
pub fn keyword_occurs(keyword: &str, text: &str) -> bool {
    let pattern = Pattern::of(keyword);
    let text = Folded::new(text);
    let p = pattern.folded();
    !p.is_empty()
        && (0..text.len())
            .filter(|&i| text.text().is_char_boundary(i))
            .any(|i| text.text()[i..].starts_with(p) && pattern.fits(&text, i, i + p.len()))
}

#[cfg(test)]
mod tests;
