//! The character classes of the boundary rule.

use icu_properties::props::{GeneralCategory, GeneralCategoryGroup, Script};
use icu_properties::script::ScriptWithExtensions;
use icu_properties::CodePointMapData;

/// The scripts written without spaces between words (and Hangul, whose
/// words take particles attached: `김철수가`). A character that any of its
/// script extensions puts in one of these (the prolonged sound mark `ー`,
/// Common but used only in kana) is not a word character.
const UNSPACED: [Script; 8] = [
    Script::Han,
    Script::Hiragana,
    Script::Katakana,
    Script::Thai,
    Script::Lao,
    Script::Khmer,
    Script::Myanmar,
    Script::Hangul,
];

/// Whether `c` is a combining mark (general category M): part of the
/// character before it.
#[inline]
pub(crate) fn is_mark(c: char) -> bool {
    !c.is_ascii() && GeneralCategoryGroup::Mark.contains(CodePointMapData::<GeneralCategory>::new().get(c))
}

/// Whether `c`, a character that is not a combining mark, is a word
/// character: a letter (L), a decimal digit (Nd) or `_`, of a script
/// written with spaces.
#[inline]
pub(crate) fn is_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    let gc = CodePointMapData::<GeneralCategory>::new().get(c);
    if !(GeneralCategoryGroup::Letter.contains(gc) || gc == GeneralCategory::DecimalNumber) {
        return false;
    }
    let scripts = ScriptWithExtensions::new();
    !UNSPACED.iter().any(|&s| scripts.has_script(c, s))
}

/// Whether `c` is a letter, a number or a symbol (general categories L, N,
/// S): what a keyword must hold at least one of.
pub(crate) fn is_letter_digit_or_symbol(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || "$+<=>^`|~".contains(c);
    }
    let gc = CodePointMapData::<GeneralCategory>::new().get(c);
    GeneralCategoryGroup::Letter.contains(gc)
        || GeneralCategoryGroup::Number.contains(gc)
        || GeneralCategoryGroup::Symbol.contains(gc)
}
