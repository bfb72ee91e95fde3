//! The snapshot file: the settings after the first `seq` changes, with a
//! checksum verified before a byte of it is trusted.
//!
//! Format 2: one header line, `DNDSNAP 2 len=LLLLLLLLLLLLLLLLLLLL crc32=CCCCCCCC`
//! (fixed width: the length of the JSON in decimal, its CRC-32 in hex),
//! then exactly that many bytes of JSON, `{"seq":N,"settings":{...}}`, the
//! core's serde snapshot (with the held items beside the settings, format 3,
//! when any are held: `dnd_engine::snapshot::save_with_held`), and
//! `"released"` after it once a digest was released (the kept digests, with
//! their cursors and ids). Reading checks the length and the checksum over
//! the whole file first (streamed, in bounded memory), and only then parses
//! it. Format 1 (the JSON alone, written before the header existed) is still
//! read, without a check; the next snapshot is written as format 2.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use dnd_engine::snapshot::{save_with_held, Restored, WithHeld};
use serde::{Deserialize, Serialize};

use super::{StateRef, Stored};
use crate::hold::released::ReleasedStore;

const TAG: &str = "DNDSNAP 2 ";
/// The header line's length, newline included.
const HEADER_LEN: usize = TAG.len() + "len=".len() + 20 + " crc32=".len() + 8 + 1;

#[derive(Serialize)]
struct SnapshotOut<'a> {
    seq: u64,
    settings: WithHeld<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    released: Option<&'a ReleasedStore>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotIn {
    seq: u64,
    settings: Restored,
    #[serde(default)]
    released: Option<ReleasedStore>,
}

fn header(len: u64, crc: u32) -> String {
    format!("{TAG}len={len:020} crc32={crc:08x}\n")
}

fn invalid(path: &Path, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{}: {what}", path.display()))
}

/// Counts and checksums what passes through.
struct Summing<W> {
    inner: W,
    len: u64,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for Summing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the snapshot of `state` after change `seq` to `path`, synced.
pub fn write(path: &Path, seq: u64, state: &StateRef<'_>) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(header(0, 0).as_bytes())?;
    let mut out = Summing {
        inner: BufWriter::new(&mut file),
        len: 0,
        crc: crc32fast::Hasher::new(),
    };
    let snapshot = SnapshotOut {
        seq,
        settings: save_with_held(state.settings, state.held),
        released: Some(state.released).filter(|r| r.last_cursor() > 0),
    };
    serde_json::to_writer(&mut out, &snapshot).map_err(io::Error::other)?;
    out.flush()?;
    let (len, crc) = (out.len, out.crc.clone().finalize());
    drop(out);
    file.seek(SeekFrom::Start(0))?;
    file.write_all(header(len, crc).as_bytes())?;
    file.sync_all()
}

/// Reads the snapshot at `path`: its sequence number and what it keeps, or
/// an error naming the file if it is damaged in any way.
pub fn read(path: &Path) -> io::Result<(u64, Stored)> {
    let mut file = BufReader::new(File::open(path)?);
    let format_2 = file.fill_buf()?.starts_with(TAG.as_bytes());
    let body_len = if format_2 {
        let mut line = Vec::new();
        (&mut file).take(HEADER_LEN as u64).read_until(b'\n', &mut line)?;
        let (len, crc) = parse_header(&line).ok_or_else(|| invalid(path, "the snapshot's header is damaged"))?;
        let mut sum = crc32fast::Hasher::new();
        let mut left = len;
        let mut buf = vec![0; 64 * 1024];
        while left > 0 {
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = file.read(&mut buf[..want])?;
            if n == 0 {
                return Err(invalid(
                    path,
                    format!("the snapshot is cut short ({left} of {len} bytes missing)"),
                ));
            }
            sum.update(&buf[..n]);
            left -= n as u64;
        }
        if file.read(&mut buf[..1])? != 0 {
            return Err(invalid(path, "the snapshot has bytes after its end"));
        }
        if sum.finalize() != crc {
            return Err(invalid(
                path,
                "the snapshot fails its checksum: it is damaged; refusing to start on it (restore it from a backup)",
            ));
        }
        file.seek(SeekFrom::Start(HEADER_LEN as u64))?;
        Some(len)
    } else {
        None
    };
    let snap: SnapshotIn = match body_len {
        Some(len) => serde_json::from_reader(file.take(len)),
        None => serde_json::from_reader(file),
    }
    .map_err(|e| invalid(path, e))?;
    let Restored { settings, held, .. } = snap.settings;
    Ok((
        snap.seq,
        Stored {
            settings,
            held,
            released: snap.released.unwrap_or_default(),
        },
    ))
}

fn parse_header(line: &[u8]) -> Option<(u64, u32)> {
    let line = std::str::from_utf8(line).ok()?.strip_suffix('\n')?;
    let rest = line.strip_prefix(TAG)?;
    let (len, crc) = rest.split_once(' ')?;
    let len = len.strip_prefix("len=")?;
    let crc = crc.strip_prefix("crc32=")?;
    if len.len() != 20 || crc.len() != 8 {
        return None;
    }
    Some((len.parse().ok()?, u32::from_str_radix(crc, 16).ok()?))
}
