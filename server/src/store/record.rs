//! The change log's records, as written and as read back.
//!
//! A log file (format 2) starts with [`MAGIC`], then records, each
//! `[len u32 LE][seq u64 LE][header crc32 u32 LE][payload crc32 u32 LE][payload]`:
//! the header's checksum covers `len` and `seq`, the payload's the `len`
//! bytes after the header (the change as the core's serde `Request`, JSON).
//! So a damaged length is caught by its own checksum before it is used to
//! find the next record. Format 1 (files without the magic, written before
//! it) had `[len u32][crc32 u32][seq u64][payload]`, one checksum over the
//! sequence number and the payload; it is still read, and rewritten as
//! format 2 when the store opens.

/// The first bytes of a format-2 log.
pub const MAGIC: &[u8; 8] = b"DNDLOG\0\x02";
/// The largest record payload written or read back.
pub const MAX_RECORD: usize = 1 << 20;
/// A format-2 record's header.
pub const HEADER: usize = 20;
/// A format-1 record's header.
const HEADER_1: usize = 16;

/// What the bytes at a position hold.
#[derive(Debug, PartialEq, Eq)]
pub enum Found<'a> {
    /// An intact record: its sequence number, payload and length in bytes.
    Record {
        /// The change's sequence number.
        seq: u64,
        /// The change.
        payload: &'a [u8],
        /// The record's length, header included.
        len: usize,
    },
    /// The file ends inside the record.
    Short,
    /// The record is damaged: why.
    Damaged(&'static str),
}

/// The layout of a log file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Records without a header checksum, no magic (read only).
    V1,
    /// [`MAGIC`], records with a header checksum.
    V2,
}

impl Format {
    /// The format of a log file's bytes and where its first record starts.
    pub fn of(bytes: &[u8]) -> (Format, usize) {
        if bytes.starts_with(MAGIC) {
            (Format::V2, MAGIC.len())
        } else if bytes.is_empty() {
            (Format::V2, 0)
        } else {
            (Format::V1, 0)
        }
    }

    /// The record at the start of `bytes`.
    pub fn read(self, bytes: &[u8]) -> Found<'_> {
        match self {
            Format::V1 => read_1(bytes),
            Format::V2 => read_2(bytes),
        }
    }

    /// Where the first intact record after the start of `bytes` begins, if
    /// any: whether a damaged record is followed by data that was written
    /// whole (corruption) or by nothing intact (a torn tail).
    pub fn intact_after(self, bytes: &[u8]) -> Option<usize> {
        (1..bytes.len()).find(|&p| matches!(self.read(&bytes[p..]), Found::Record { .. }))
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

fn read_2(bytes: &[u8]) -> Found<'_> {
    let Some(header) = bytes.get(..HEADER) else {
        return Found::Short;
    };
    if crc32fast::hash(&header[..12]) != u32_at(header, 12) {
        return Found::Damaged("its header fails its checksum");
    }
    let len = u32_at(header, 0) as usize;
    if len > MAX_RECORD {
        return Found::Damaged("its length is over the largest record");
    }
    let Some(payload) = bytes.get(HEADER..HEADER + len) else {
        return Found::Short;
    };
    if crc32fast::hash(payload) != u32_at(header, 16) {
        return Found::Damaged("its payload fails its checksum");
    }
    Found::Record {
        seq: u64_at(header, 4),
        payload,
        len: HEADER + len,
    }
}

fn read_1(bytes: &[u8]) -> Found<'_> {
    let Some(header) = bytes.get(..HEADER_1) else {
        return Found::Short;
    };
    let len = u32_at(header, 0) as usize;
    if len > MAX_RECORD {
        return Found::Damaged("its length is over the largest record");
    }
    let Some(body) = bytes.get(8..HEADER_1 + len) else {
        return Found::Short;
    };
    if crc32fast::hash(body) != u32_at(header, 4) {
        return Found::Damaged("it fails its checksum");
    }
    Found::Record {
        seq: u64_at(body, 0),
        payload: &body[8..],
        len: HEADER_1 + len,
    }
}

/// Appends the format-2 record of change `seq`, whose payload `payload`
/// writes, to `out`.
pub fn write(
    out: &mut Vec<u8>,
    seq: u64,
    payload: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER]);
    payload(out)?;
    let len = out.len() - start - HEADER;
    if len > MAX_RECORD {
        out.truncate(start);
        return Err(std::io::Error::other(format!(
            "a change of {len} bytes is over the largest record ({MAX_RECORD} bytes)"
        )));
    }
    let pcrc = crc32fast::hash(&out[start + HEADER..]);
    let header = &mut out[start..start + HEADER];
    header[0..4].copy_from_slice(&(len as u32).to_le_bytes());
    header[4..12].copy_from_slice(&seq.to_le_bytes());
    let hcrc = crc32fast::hash(&header[..12]);
    header[12..16].copy_from_slice(&hcrc.to_le_bytes());
    header[16..20].copy_from_slice(&pcrc.to_le_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write(&mut out, seq, |o| {
            o.extend_from_slice(payload);
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn every_flipped_bit_of_a_record_is_caught_and_every_cut_is_short() {
        let r = record(7, b"{\"x\":1}");
        assert_eq!(
            Format::V2.read(&r),
            Found::Record {
                seq: 7,
                payload: b"{\"x\":1}",
                len: r.len()
            }
        );
        for bit in 0..r.len() * 8 {
            let mut bad = r.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(
                !matches!(Format::V2.read(&bad), Found::Record { .. }),
                "bit {bit} went unnoticed"
            );
        }
        for cut in 0..r.len() {
            assert_eq!(Format::V2.read(&r[..cut]), Found::Short, "cut at {cut}");
        }
    }

    #[test]
    fn an_intact_record_after_damage_is_found() {
        let mut bytes = record(1, b"aaaa");
        bytes[HEADER] ^= 4;
        let second = bytes.len();
        bytes.extend(record(2, b"bbbb"));
        assert_eq!(Format::V2.intact_after(&bytes), Some(second));
        assert_eq!(Format::V2.intact_after(&[0; 100]), None, "zeros hold no record");
        let mut out = Vec::new();
        assert!(write(&mut out, 1, |o| {
            o.resize(HEADER + MAX_RECORD + 1, 0);
            Ok(())
        })
        .is_err());
        assert!(out.is_empty(), "a refused record leaves nothing behind");
    }
}
