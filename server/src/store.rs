//! The embedded store: a snapshot of the settings plus an append-only log of
//! the changes accepted since, behind the [`ChangeLog`] trait so that another
//! log (a replicated one) can take the file log's place.
//!
//! Files in the data directory:
//! - `snapshot.json`: `{"seq":N,"settings":{...}}`, the core's serde snapshot
//!   of the settings after the first `N` changes ever accepted;
//! - `changes.log`: records, each `[len u32 LE][crc32 u32 LE][seq u64 LE][payload]`,
//!   the payload being the change as the core's serde [`Request`] (JSON) and
//!   the checksum covering the sequence number and the payload.
//!
//! Recovery reads the snapshot, then applies the records whose sequence
//! number follows it, in order, and stops at the first record that is cut
//! short or fails its checksum: the tail a crash tore while it was being
//! written, which was never acknowledged (an answer waits for `sync_data`).
//! That tail is cut off. Records at or below the snapshot's sequence (left by
//! a crash between a new snapshot and the log's truncation) are skipped, so
//! nothing is applied twice.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use dnd_engine::{Request, Settings};
use serde::{Deserialize, Serialize};

/// The largest record payload read back; a longer length is a torn header.
const MAX_RECORD: usize = 1 << 20;
const HEADER: usize = 16;

/// Where accepted changes go before they are applied and acknowledged.
///
/// The service's write path is: accepted request → [`ChangeLog::append`]
/// (durable) → apply to the settings → answer. A replicated log can replace
/// the file log by implementing this trait.
pub trait ChangeLog: Send + 'static {
    /// Appends `batch`, in order, after every change already appended, and
    /// returns once the changes survive a crash.
    fn append(&mut self, batch: &[&Request]) -> io::Result<()>;

    /// How many changes were appended since the last snapshot.
    fn since_snapshot(&self) -> u64;

    /// Makes `settings` (which reflect every change appended) the new
    /// snapshot, and drops the changes it covers.
    fn snapshot(&mut self, settings: &Settings) -> io::Result<()>;
}

/// What recovery found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovery {
    /// The snapshot's sequence number (0 without one).
    pub snapshot_seq: u64,
    /// Records applied on top of the snapshot.
    pub replayed: u64,
    /// Records skipped because the snapshot already covers them.
    pub skipped: u64,
    /// Bytes of a torn tail that were cut off.
    pub torn_bytes: u64,
}

/// The file log and snapshot in one data directory.
#[derive(Debug)]
pub struct FileLog {
    dir: PathBuf,
    log: File,
    /// The sequence number of the last change appended.
    seq: u64,
    /// The sequence number the snapshot covers.
    snapshot_seq: u64,
    buf: Vec<u8>,
}

#[derive(Serialize)]
struct SnapshotOut<'a> {
    seq: u64,
    settings: &'a Settings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotIn {
    seq: u64,
    settings: Settings,
}

const SNAPSHOT: &str = SNAPSHOT_FILE;
const LOG: &str = LOG_FILE;

/// The snapshot's file name in a store's directory.
pub const SNAPSHOT_FILE: &str = "snapshot.json";
/// The log's file name in a store's directory.
pub const LOG_FILE: &str = "changes.log";

impl FileLog {
    /// Opens (creating if needed) the store in `dir` and recovers its
    /// settings; `fresh` is used when there is no snapshot yet.
    pub fn open(dir: &Path, fresh: dnd_engine::Config) -> io::Result<(FileLog, Settings, Recovery)> {
        fs::create_dir_all(dir)?;
        let mut recovery = Recovery::default();
        let mut settings = match File::open(dir.join(SNAPSHOT)) {
            Ok(file) => {
                let snap: SnapshotIn = serde_json::from_reader(BufReader::new(file))
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{SNAPSHOT}: {e}")))?;
                recovery.snapshot_seq = snap.seq;
                snap.settings
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Settings::new(fresh),
            Err(e) => return Err(e),
        };
        let path = dir.join(LOG);
        let existed = path.exists();
        let mut log = OpenOptions::new().read(true).append(true).create(true).open(&path)?;
        if !existed {
            sync_dir(dir)?;
        }
        let mut bytes = Vec::new();
        log.read_to_end(&mut bytes)?;
        let mut seq = recovery.snapshot_seq;
        let mut at = 0;
        while let Some((record_seq, payload, len)) = read_record(&bytes[at..]) {
            let request: Request = match serde_json::from_slice(payload) {
                Ok(r) => r,
                Err(_) => break,
            };
            if record_seq <= recovery.snapshot_seq {
                recovery.skipped += 1;
            } else if record_seq == seq + 1 {
                // The answer it had is not needed: applying is deterministic.
                let _ = settings.apply(&request);
                seq = record_seq;
                recovery.replayed += 1;
            } else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{LOG}: record {record_seq} follows {seq}: the log has a gap"),
                ));
            }
            at += len;
        }
        if at < bytes.len() {
            recovery.torn_bytes = (bytes.len() - at) as u64;
            log.set_len(at as u64)?;
            log.sync_all()?;
        }
        let store = FileLog {
            dir: dir.to_owned(),
            log,
            seq,
            snapshot_seq: recovery.snapshot_seq,
            buf: Vec::new(),
        };
        Ok((store, settings, recovery))
    }
}

/// One record at the start of `bytes`: its sequence number, payload and
/// length; `None` if it is cut short or fails its checksum.
fn read_record(bytes: &[u8]) -> Option<(u64, &[u8], usize)> {
    let header = bytes.get(..HEADER)?;
    let len = u32::from_le_bytes(header[0..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..8].try_into().ok()?);
    if len > MAX_RECORD {
        return None;
    }
    let body = bytes.get(8..HEADER + len)?;
    if crc32fast::hash(body) != crc {
        return None;
    }
    let seq = u64::from_le_bytes(body[0..8].try_into().ok()?);
    Some((seq, &body[8..], HEADER + len))
}

fn write_record(out: &mut Vec<u8>, seq: u64, request: &Request) -> io::Result<()> {
    let start = out.len();
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&seq.to_le_bytes());
    serde_json::to_writer(&mut *out, request).map_err(io::Error::other)?;
    let len = out.len() - start - HEADER;
    let crc = crc32fast::hash(&out[start + 8..]);
    let len = u32::try_from(len).map_err(io::Error::other)?;
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl ChangeLog for FileLog {
    fn append(&mut self, batch: &[&Request]) -> io::Result<()> {
        self.buf.clear();
        for (i, request) in batch.iter().enumerate() {
            write_record(&mut self.buf, self.seq + 1 + i as u64, request)?;
        }
        self.log.write_all(&self.buf)?;
        // One sync for the whole batch: group commit.
        self.log.sync_data()?;
        self.seq += batch.len() as u64;
        Ok(())
    }

    fn since_snapshot(&self) -> u64 {
        self.seq - self.snapshot_seq
    }

    fn snapshot(&mut self, settings: &Settings) -> io::Result<()> {
        let tmp = self.dir.join("snapshot.json.tmp");
        {
            let mut out = BufWriter::new(File::create(&tmp)?);
            serde_json::to_writer(
                &mut out,
                &SnapshotOut {
                    seq: self.seq,
                    settings,
                },
            )
            .map_err(io::Error::other)?;
            out.into_inner().map_err(io::IntoInnerError::into_error)?.sync_all()?;
        }
        fs::rename(&tmp, self.dir.join(SNAPSHOT))?;
        sync_dir(&self.dir)?;
        // A crash before this line leaves records the snapshot covers:
        // recovery skips them by sequence number.
        self.log.set_len(0)?;
        self.log.sync_all()?;
        self.snapshot_seq = self.seq;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(user: &str, level: i64) -> Request {
        Request::parse(
            "/conversation/type/notification/set.json",
            format!("conversationType=3&requestId={user}&unpushLevel={level}").as_bytes(),
        )
        .unwrap()
    }

    fn level(s: &Settings, user: &str) -> String {
        let get = Request::parse(
            "/conversation/type/notification/get.json",
            format!("conversationType=3&requestId={user}").as_bytes(),
        )
        .unwrap();
        s.query(&get).unwrap().to_json()
    }

    fn config() -> dnd_engine::Config {
        dnd_engine::Config::new(chrono_tz::UTC)
    }

    #[test]
    fn a_torn_tail_is_cut_and_the_rest_replayed() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut log, _, _) = FileLog::open(dir.path(), config()).unwrap();
            log.append(&[&request("a", 5), &request("b", 1)]).unwrap();
            log.append(&[&request("a", 2)]).unwrap();
        }
        let path = dir.path().join(LOG);
        let full = fs::read(&path).unwrap();
        // Every cut inside the last record drops exactly that record.
        let last = full.len() - {
            let mut one = Vec::new();
            write_record(&mut one, 3, &request("a", 2)).unwrap();
            one.len()
        };
        for cut in [last + 1, last + 9, full.len() - 1] {
            fs::write(&path, &full[..cut]).unwrap();
            let (_, s, r) = FileLog::open(dir.path(), config()).unwrap();
            assert_eq!((r.replayed, r.torn_bytes), (2, (cut - last) as u64));
            assert_eq!(level(&s, "a"), r#"{"code":200,"isMuted":5}"#);
            assert_eq!(fs::metadata(&path).unwrap().len(), last as u64, "the tail is cut off");
        }
        // A flipped bit fails the checksum.
        let mut bad = full.clone();
        *bad.last_mut().unwrap() ^= 1;
        fs::write(&path, &bad).unwrap();
        let (_, _, r) = FileLog::open(dir.path(), config()).unwrap();
        assert_eq!(r.replayed, 2);
    }

    #[test]
    fn a_snapshot_covers_the_log_and_records_it_covers_are_not_applied_twice() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, mut s, _) = FileLog::open(dir.path(), config()).unwrap();
        let first = [request("a", 5), request("b", 4)];
        log.append(&first.iter().collect::<Vec<_>>()).unwrap();
        first.iter().for_each(|r| drop(s.apply(r)));
        let before_truncate = fs::read(dir.path().join(LOG)).unwrap();
        log.snapshot(&s).unwrap();
        assert_eq!(log.since_snapshot(), 0);
        log.append(&[&request("a", 1)]).unwrap();
        drop(log);
        let (_, s2, r) = FileLog::open(dir.path(), config()).unwrap();
        assert_eq!((r.snapshot_seq, r.replayed), (2, 1));
        assert_eq!(level(&s2, "a"), r#"{"code":200,"isMuted":1}"#);
        // As if the crash came between the snapshot's rename and the
        // truncation: the old records come back, and are skipped.
        let tail = fs::read(dir.path().join(LOG)).unwrap();
        fs::write(dir.path().join(LOG), [before_truncate, tail].concat()).unwrap();
        let (mut log3, s3, r) = FileLog::open(dir.path(), config()).unwrap();
        assert_eq!((r.skipped, r.replayed), (2, 1));
        assert_eq!(level(&s3, "a"), r#"{"code":200,"isMuted":1}"#);
        assert_eq!(level(&s3, "b"), r#"{"code":200,"isMuted":4}"#);
        assert_eq!(log3.since_snapshot(), 1);
        log3.append(&[&request("c", 5)]).unwrap();
    }
}
