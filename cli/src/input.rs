//! The input: files and standard input read in order as one stream of lines,
//! each line at most a given length, in bounded memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

/// One input, open.
struct Input {
    /// For errors: the file's name, or "standard input".
    name: String,
    source: Source,
}

/// Where an input's bytes come from.
enum Source {
    /// Standard input, locked only while it is read (it may be named twice).
    Stdin,
    File(File),
}

impl Input {
    fn reader(self) -> Current {
        let reader: Box<dyn BufRead> = match self.source {
            Source::Stdin => Box::new(io::stdin().lock()),
            Source::File(file) => Box::new(BufReader::with_capacity(64 << 10, file)),
        };
        Current {
            name: self.name,
            reader,
        }
    }
}

/// The input being read.
struct Current {
    name: String,
    reader: Box<dyn BufRead>,
}

/// An input that could not be opened.
#[derive(Debug)]
pub struct OpenError {
    name: String,
    error: io::Error,
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.error)
    }
}

/// Reading an input failed.
#[derive(Debug)]
pub struct ReadError {
    name: String,
    error: io::Error,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "reading {}: {}", self.name, self.error)
    }
}

/// A line, as read.
pub enum Line<'a> {
    /// Its bytes, without the newline (and a carriage return before it).
    Text(&'a [u8]),
    /// Empty, or only whitespace.
    Blank,
    /// Longer than the limit: this many bytes, none of them kept.
    TooLong(u64),
}

/// The lines of the inputs in order, numbered from 1 across all of them.
pub struct Lines {
    inputs: std::vec::IntoIter<Input>,
    current: Option<Current>,
    /// Whether the next line is the first of the current input.
    first: bool,
    buf: Vec<u8>,
    max: u64,
    number: u64,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

impl Lines {
    /// Opens `files` in order ("-" and no file at all are standard input);
    /// lines longer than `max` bytes are not read into memory.
    pub fn open(files: &[PathBuf], max: u64) -> Result<Lines, OpenError> {
        let stdin = [PathBuf::from("-")];
        let files = if files.is_empty() { &stdin[..] } else { files };
        let inputs = files.iter().map(|f| open(f)).collect::<Result<Vec<_>, _>>()?;
        let mut inputs = inputs.into_iter();
        Ok(Lines {
            current: inputs.next().map(Input::reader),
            inputs,
            first: true,
            buf: Vec::new(),
            max,
            number: 0,
        })
    }

    /// The next line and its number, or `None` after the last input.
    pub fn next_line(&mut self) -> Result<Option<(u64, Line<'_>)>, ReadError> {
        loop {
            let Some(input) = self.current.as_mut() else {
                return Ok(None);
            };
            match read_line(&mut *input.reader, &mut self.buf, self.max) {
                Ok(Some(len)) => {
                    self.number += 1;
                    let first = std::mem::replace(&mut self.first, false);
                    if len > self.max {
                        return Ok(Some((self.number, Line::TooLong(len))));
                    }
                    let mut text = &self.buf[..];
                    if first {
                        text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
                    }
                    text = text.strip_suffix(b"\r").unwrap_or(text);
                    let line = if text.iter().all(u8::is_ascii_whitespace) {
                        Line::Blank
                    } else {
                        Line::Text(text)
                    };
                    return Ok(Some((self.number, line)));
                }
                Ok(None) => {
                    // The last input is dropped (and standard input unlocked) first.
                    self.current = None;
                    self.current = self.inputs.next().map(Input::reader);
                    self.first = true;
                }
                Err(error) => {
                    return Err(ReadError {
                        name: input.name.clone(),
                        error,
                    })
                }
            }
        }
    }
}

fn open(path: &Path) -> Result<Input, OpenError> {
    if path.as_os_str() == "-" {
        return Ok(Input {
            name: "standard input".into(),
            source: Source::Stdin,
        });
    }
    let name = path.display().to_string();
    let file = File::open(path).and_then(|f| {
        if f.metadata()?.is_dir() {
            Err(io::Error::new(io::ErrorKind::InvalidInput, "is a directory"))
        } else {
            Ok(f)
        }
    });
    match file {
        Ok(file) => Ok(Input {
            name,
            source: Source::File(file),
        }),
        Err(error) => Err(OpenError { name, error }),
    }
}

/// Reads one line into `buf`, without its newline, keeping at most `max`
/// bytes: past that the rest of the line is read in the reader's chunks and
/// dropped. Answers the line's length in bytes, or `None` at the end of the
/// input. A last line without a newline is a line.
fn read_line(reader: &mut dyn BufRead, buf: &mut Vec<u8>, max: u64) -> io::Result<Option<u64>> {
    buf.clear();
    let mut len: u64 = 0;
    let mut any = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(any.then_some(len));
        }
        any = true;
        let (part, used, end) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], i + 1, true),
            None => (chunk, chunk.len(), false),
        };
        let new_len = len + part.len() as u64;
        if new_len <= max {
            buf.extend_from_slice(part);
        } else if len <= max {
            // The line has just passed the limit: keep nothing of it.
            buf.clear();
        }
        len = new_len;
        reader.consume(used);
        if end {
            return Ok(Some(len));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: u64) -> Vec<String> {
        let mut reader = io::BufReader::with_capacity(4, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(len) = read_line(&mut reader, &mut buf, max).unwrap() {
            out.push(if len > max {
                format!("too long: {len}, kept {}", buf.len())
            } else {
                String::from_utf8(buf.clone()).unwrap()
            });
        }
        out
    }

    #[test]
    fn lines_are_cut_at_newlines_and_long_ones_dropped_in_chunks() {
        assert_eq!(lines(b"ab\ncd\n", 10), ["ab", "cd"]);
        assert_eq!(lines(b"ab\n\ncd", 10), ["ab", "", "cd"]);
        assert_eq!(lines(b"", 10), Vec::<String>::new());
        assert_eq!(lines(b"abcde\nabcdef\nab\n", 5), ["abcde", "too long: 6, kept 0", "ab"]);
        assert_eq!(
            lines(b"0123456789012345678901234\nok\n", 5),
            ["too long: 25, kept 0", "ok"]
        );
    }
}
