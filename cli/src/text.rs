//! Values from the input, written for people: control characters escaped, so
//! that a value cannot forge a line, and long values cut short.

use std::fmt::{self, Write};

/// At most this many characters of a value are quoted in an error.
const EXCERPT_CHARS: usize = 40;

/// A value quoted in an error: in double quotes, escaped as Rust escapes a
/// string, at most [`EXCERPT_CHARS`] characters and then the length in bytes.
pub struct Excerpt<'a>(pub &'a str);

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(EXCERPT_CHARS) {
            write!(f, "{}", c.escape_debug())?;
        }
        f.write_char('"')?;
        if chars.next().is_some() {
            write!(f, "... ({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

/// A value written as it is, but for control characters, which are escaped
/// (`\n`, `\u{1b}`), and cut after `.1` characters (then `... (N bytes)`).
pub struct Escaped<'a>(pub &'a str, pub usize);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(self.1) {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_char(c)?;
            }
        }
        if chars.next().is_some() {
            write!(f, "... ({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

/// An id (at most 64 bytes, so never cut) written for people.
pub fn id(id: &str) -> Escaped<'_> {
    Escaped(id, usize::MAX)
}

/// An instant as RFC 9557 writes it: the local time in `zone` with its
/// offset, then the zone's name, `2026-11-23T20:30:00+08:00[Asia/Shanghai]`.
pub fn rfc9557(at: chrono::DateTime<chrono::Utc>, zone: chrono_tz::Tz) -> String {
    format!(
        "{}[{}]",
        at.with_timezone(&zone)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
        zone.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_long_values_cut() {
        assert_eq!(id("a\nb\u{1b}[2Jc\u{7f}").to_string(), "a\\nb\\u{1b}[2Jc\\u{7f}");
        assert_eq!(id("plain é 中").to_string(), "plain é 中");
        assert_eq!(Excerpt("x\"y\n").to_string(), r#""x\"y\n""#);
        let long = "z".repeat(10_000_000);
        let e = Excerpt(&long).to_string();
        assert!(e.len() < 80 && e.ends_with("... (10000000 bytes)"), "{e}");
        assert_eq!(Escaped("abcdef", 3).to_string(), "abc... (6 bytes)");
        assert_eq!(Escaped("abc", 3).to_string(), "abc");
    }
}
