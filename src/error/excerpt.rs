//! How text from outside is written for people, everywhere in the
//! workspace: the one rule for escaping and cutting it.
//!
//! - Control characters are escaped as Rust escapes them (`\n`, `\t`,
//!   `\u{1b}`), so that a value can never forge a line of output or move a
//!   terminal's cursor; everything else is written as it is.
//! - A value quoted in an error keeps at most [`Excerpt::CHARS`] characters;
//!   a longer text (another library's whole message, which may quote a value
//!   in turn; a request echoed for people), at most [`Escaped::LONG_CHARS`].
//!   There are no other limits. A text that was cut ends in `…` and the length
//!   of the whole in bytes: `abc… (10485760 bytes)`.
//!
//! [`Excerpt`] is the owned form an error keeps; [`Escaped`] writes a
//! borrowed text, whole or [cut](Escaped::cut).

use std::fmt::{self, Write};

/// Writes `c`, escaped if it is a control character.
fn write_char(out: &mut impl Write, c: char) -> fmt::Result {
    if c.is_control() {
        for e in c.escape_debug() {
            out.write_char(e)?;
        }
        Ok(())
    } else {
        out.write_char(c)
    }
}

/// What a cut text ends with: the ellipsis and the length of the whole.
fn write_cut(out: &mut impl Write, bytes: usize) -> fmt::Result {
    write!(out, "… ({bytes} bytes)")
}

/// Writes `text` with its control characters escaped, at most `chars`
/// characters of it, and when it was cut, `…` and its length in bytes.
fn write_escaped(out: &mut impl Write, text: &str, chars: usize) -> fmt::Result {
    let mut rest = text.chars();
    for c in rest.by_ref().take(chars) {
        write_char(out, c)?;
    }
    if rest.next().is_some() {
        write_cut(out, text.len())?;
    }
    Ok(())
}

/// Another library's error text (serde's), made fit to quote: control
/// characters escaped, and cut to [`Escaped::LONG_CHARS`] characters with the
/// whole's length, so that a value it quotes whole cannot make the text long
/// or forge a line.
#[cold]
pub(crate) fn bounded(text: impl fmt::Display) -> String {
    let text = text.to_string();
    let mut out = String::new();
    // Writing to a `String` cannot fail.
    let _ = write_escaped(&mut out, &text, Escaped::LONG_CHARS);
    out
}

/// A text from outside, written for people: control characters escaped
/// (`\n`, `\u{1b}`), so that it can never forge a line; whole, or
/// [cut](Escaped::cut) after some characters.
///
/// ```
/// use dnd_engine::Escaped;
/// assert_eq!(Escaped("a\nb\u{1b}[2J").to_string(), r"a\nb\u{1b}[2J");
/// assert_eq!(Escaped("abcdef").cut(3).to_string(), "abc… (6 bytes)");
/// assert_eq!(Escaped("abc").cut(3).to_string(), "abc");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Escaped<'a>(pub &'a str);

impl<'a> Escaped<'a> {
    /// The most characters of a longer text that are written for people:
    /// another library's message (which quotes a value and then says what
    /// was expected, so it keeps more than an [`Excerpt`]), or a request
    /// echoed by an explanation.
    pub const LONG_CHARS: usize = 200;

    /// The same text cut after `chars` characters, then `…` and the whole's
    /// length in bytes.
    pub fn cut(self, chars: usize) -> impl fmt::Display + 'a {
        Cut { text: self.0, chars }
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0, usize::MAX)
    }
}

/// [`Escaped::cut`]'s answer.
struct Cut<'a> {
    text: &'a str,
    chars: usize,
}

impl fmt::Display for Cut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.text, self.chars)
    }
}

/// A value from outside, as an error quotes it: its first
/// [`CHARS`](Excerpt::CHARS) characters and the length of the whole.
///
/// It displays quoted, with quotes, backslashes and control characters
/// escaped as Rust escapes them (`"a\nb"`), and when the value was longer,
/// with an ellipsis and its length in bytes: `"xxxx…"… (10485760 bytes)`.
/// An error that quotes a 10 MB value holds and prints some 40 bytes of it.
///
/// ```
/// use dnd_engine::Excerpt;
/// assert_eq!(Excerpt::new("a\nb").to_string(), r#""a\nb""#);
/// let long = Excerpt::new(&"x".repeat(10_000_000));
/// assert_eq!(long.to_string(), format!("{:?}… (10000000 bytes)", "x".repeat(32)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Excerpt {
    head: Box<str>,
    bytes: usize,
}

impl Excerpt {
    /// The most characters an excerpt keeps.
    pub const CHARS: usize = 32;

    /// The excerpt of `value`.
    pub fn new(value: &str) -> Excerpt {
        let end = value.char_indices().nth(Self::CHARS).map_or(value.len(), |(i, _)| i);
        Excerpt {
            head: value[..end].into(),
            bytes: value.len(),
        }
    }

    /// The characters kept: the whole value when [`is_whole`](Self::is_whole).
    pub fn head(&self) -> &str {
        &self.head
    }

    /// The length of the whole value, in bytes.
    pub fn len(&self) -> usize {
        self.bytes
    }

    /// Whether the value was empty.
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// Whether the excerpt is the whole value.
    pub fn is_whole(&self) -> bool {
        self.head.len() == self.bytes
    }

    /// The excerpt without quotes: control characters escaped, and when the
    /// value was longer, `…` and its length (`abc… (6 bytes)`); for a name
    /// inside a path, as in `push.mentionedInfo.abc… (6 bytes)`.
    pub(crate) fn unquoted(&self) -> impl fmt::Display + '_ {
        struct Unquoted<'e>(&'e Excerpt);
        impl fmt::Display for Unquoted<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_escaped(f, &self.0.head, usize::MAX)?;
                if !self.0.is_whole() {
                    write_cut(f, self.0.bytes)?;
                }
                Ok(())
            }
        }
        Unquoted(self)
    }
}

impl From<&str> for Excerpt {
    fn from(value: &str) -> Excerpt {
        Excerpt::new(value)
    }
}

impl From<String> for Excerpt {
    fn from(value: String) -> Excerpt {
        Excerpt::new(&value)
    }
}

impl fmt::Display for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.head)?;
        if !self.is_whole() {
            write_cut(f, self.bytes)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod excerpt_tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_long_texts_cut_with_their_length() {
        assert_eq!(Escaped("a\nb\u{1b}[2Jc\u{7f}\t").to_string(), r"a\nb\u{1b}[2Jc\u{7f}\t");
        assert_eq!(Escaped("plain é 中 \\ \"").to_string(), "plain é 中 \\ \"");
        let long = "é".repeat(1000);
        assert_eq!(Escaped(&long).cut(2).to_string(), "éé… (2000 bytes)");
        assert_eq!(
            bounded(&long),
            format!("{}… (2000 bytes)", "é".repeat(Escaped::LONG_CHARS))
        );
        assert_eq!(bounded("x\ny"), r"x\ny");
        let excerpt = Excerpt::new(&format!("k\n{}", "z".repeat(40)));
        assert_eq!(
            excerpt.unquoted().to_string(),
            format!(r"k\n{}… (42 bytes)", "z".repeat(30))
        );
        assert_eq!(Excerpt::new("k\n").unquoted().to_string(), r"k\n");
    }
}
