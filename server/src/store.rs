//! The embedded store: a snapshot of the settings plus an append-only log of
//! the changes accepted since, behind the [`ChangeLog`] trait so that another
//! log (a replicated one) can take the file log's place.
//!
//! Files in the data directory:
//! - `snapshot.json`: the core's serde snapshot of the settings after the
//!   first `N` changes ever accepted, behind a header with its length and
//!   checksum ([`snapshot`]);
//! - `changes.log`: the changes accepted since, one checksummed record each,
//!   numbered in sequence ([`record`]): settings changes, holds and
//!   evaluations of the held items ([`Entry`]).
//!
//! Recovery reads the snapshot (refusing it whole if its checksum fails),
//! then applies the records whose sequence number follows it, in order.
//! A damaged record (a checksum fails, or the file ends inside it) is a torn
//! tail only if no intact record follows it: what a crash while the last,
//! unacknowledged batch was being written leaves (an answer waits for
//! `sync_data`). That tail is cut off. A damaged record with an intact one
//! after it is corruption: the start is refused with an error naming the
//! record, and nothing is cut. Records at or below the snapshot's sequence
//! (left by a crash between a new snapshot and the log's truncation) are
//! skipped, so nothing is applied twice.

pub mod record;
pub mod snapshot;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use dnd_engine::{Held, Request, Settings};

use crate::hold::released::ReleasedStore;
use crate::hold::{apply_hold, apply_release, HoldRecord, ReleaseRecord};
use record::{Format, Found, MAGIC};

/// One record of the log. A settings change's payload is its JSON (as
/// every log has it); a hold's and an evaluation's start with a kind byte
/// (`H`, `R`: no JSON text starts with one) before their JSON, so a log
/// written before holds existed reads as it did.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Entry<'a> {
    /// A settings change.
    Change(&'a Request),
    /// A hold.
    Hold(&'a HoldRecord),
    /// An evaluation of the held items.
    Release(ReleaseRecord),
}

/// The kind byte of a hold's payload.
const KIND_HOLD: u8 = b'H';
/// The kind byte of an evaluation's payload.
const KIND_RELEASE: u8 = b'R';

/// Everything a store keeps: the settings, the held items and the
/// released digests.
#[derive(Debug)]
#[non_exhaustive]
pub struct Stored {
    /// The settings.
    pub settings: Settings,
    /// The held items.
    pub held: Held,
    /// The released digests.
    pub released: ReleasedStore,
}

/// The state a snapshot saves, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct StateRef<'a> {
    /// The settings.
    pub settings: &'a Settings,
    /// The held items.
    pub held: &'a Held,
    /// The released digests.
    pub released: &'a ReleasedStore,
}

/// Where accepted changes go before they are applied and acknowledged.
///
/// The service's write path is: accepted request → [`ChangeLog::append`]
/// (durable) → apply to the settings → answer. A replicated log can replace
/// the file log by implementing this trait.
pub trait ChangeLog: Send + 'static {
    /// Appends `batch`, in order, after every change already appended, and
    /// returns once the changes survive a crash. On an error none of the
    /// batch counts as appended, and a later call may succeed (a full disk
    /// freed): the log takes back whatever part of the batch it wrote.
    fn append(&mut self, batch: &[&Request]) -> io::Result<()>;

    /// How many changes were appended since the last snapshot.
    fn since_snapshot(&self) -> u64;

    /// Makes `settings` (which reflect every change appended) the new
    /// snapshot, and drops the changes it covers.
    fn snapshot(&mut self, settings: &Settings) -> io::Result<()>;

    /// Appends `batch` as [`ChangeLog::append`] does, holds and evaluations
    /// among the changes. A log that keeps only settings changes (the
    /// default) refuses a batch with anything else, appending nothing.
    fn append_entries(&mut self, batch: &[Entry<'_>]) -> io::Result<()> {
        let changes: Option<Vec<&Request>> = batch
            .iter()
            .map(|e| match e {
                Entry::Change(r) => Some(*r),
                _ => None,
            })
            .collect();
        match changes {
            Some(changes) => self.append(&changes),
            None => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this log keeps settings changes only, not held pushes",
            )),
        }
    }

    /// Makes `state` the new snapshot, as [`ChangeLog::snapshot`] does. A
    /// log that keeps only settings (the default) refuses one with held
    /// items or released digests.
    fn snapshot_state(&mut self, state: &StateRef<'_>) -> io::Result<()> {
        if state.held.is_empty() && state.held.last_evaluation().is_none() && state.released.last_cursor() == 0 {
            self.snapshot(state.settings)
        } else {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this log keeps settings only, not held pushes",
            ))
        }
    }
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
    /// The log's length after the last change made durable.
    len: u64,
    /// Whether a failed append could not be taken back yet: the log may end
    /// in part of a batch, and nothing is appended until it is cut off.
    broken: bool,
    /// Whether the store keeps held pushes or released digests: then a
    /// snapshot of the settings alone ([`ChangeLog::snapshot`]) is refused,
    /// never a silent loss of them.
    holds: bool,
    /// Tests: the next append writes this many bytes and then fails, as a
    /// full disk does.
    #[cfg(test)]
    fail_after: Option<usize>,
}

const SNAPSHOT: &str = SNAPSHOT_FILE;
const LOG: &str = LOG_FILE;

/// The snapshot's file name in a store's directory.
pub const SNAPSHOT_FILE: &str = "snapshot.json";
/// The log's file name in a store's directory.
pub const LOG_FILE: &str = "changes.log";

impl FileLog {
    /// Opens (creating if needed) the store in `dir` and recovers its
    /// settings; `fresh` is used when there is no snapshot yet. The held
    /// items and released digests are recovered too, and not returned:
    /// [`FileLog::open_stored`] returns them.
    pub fn open(dir: &Path, fresh: dnd_engine::Config) -> io::Result<(FileLog, Settings, Recovery)> {
        let (log, stored, recovery) = FileLog::open_stored(dir, fresh)?;
        Ok((log, stored.settings, recovery))
    }

    /// Opens (creating if needed) the store in `dir` and recovers all it
    /// keeps; `fresh` is used when there is no snapshot yet.
    pub fn open_stored(dir: &Path, fresh: dnd_engine::Config) -> io::Result<(FileLog, Stored, Recovery)> {
        fs::create_dir_all(dir)?;
        let mut recovery = Recovery::default();
        let (mut settings, mut held, mut released) = match snapshot::read(&dir.join(SNAPSHOT)) {
            Ok((seq, stored)) => {
                recovery.snapshot_seq = seq;
                (stored.settings, stored.held, stored.released)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                (Settings::new(fresh), Held::new(), ReleasedStore::default())
            }
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
        let (format, mut at) = Format::of(&bytes);
        let mut seq = recovery.snapshot_seq;
        let mut index = 0u64;
        let mut kept = Vec::new();
        while at < bytes.len() {
            index += 1;
            let (record_seq, payload, len) = match format.read(&bytes[at..]) {
                Found::Record { seq, payload, len } => (seq, payload, len),
                found => {
                    let why = match found {
                        Found::Damaged(why) => why,
                        _ => "the file ends inside it",
                    };
                    if let Some(next) = format.intact_after(&bytes[at..]) {
                        return Err(corrupt(&format!(
                            "record {index} (at byte {at}, after change {seq}): {why}, and an intact record follows at byte {}: \
                             the log is damaged, not torn; refusing to start (nothing was cut; restore the data directory or \
                             remove the damaged records knowingly)",
                            at + next
                        )));
                    }
                    recovery.torn_bytes = (bytes.len() - at) as u64;
                    break;
                }
            };
            let bad = |what: &dyn std::fmt::Display| {
                corrupt(&format!(
                    "record {index} (at byte {at}, change {record_seq}): its checksum holds but {what}; refusing to start"
                ))
            };
            let entry = match payload.first() {
                Some(&KIND_HOLD) => ReadBack::Hold(
                    serde_json::from_slice(&payload[1..]).map_err(|e| bad(&format_args!("it is not a hold ({e})")))?,
                ),
                Some(&KIND_RELEASE) => ReadBack::Release(
                    serde_json::from_slice(&payload[1..])
                        .map_err(|e| bad(&format_args!("it is not an evaluation ({e})")))?,
                ),
                _ => ReadBack::Change(
                    serde_json::from_slice(payload).map_err(|e| bad(&format_args!("it is not a change ({e})")))?,
                ),
            };
            if record_seq <= recovery.snapshot_seq {
                recovery.skipped += 1;
            } else if record_seq == seq + 1 {
                // The answers they had are not needed: applying is deterministic.
                match entry {
                    ReadBack::Change(request) => {
                        let _ = settings.apply(&request);
                        if format == Format::V1 {
                            kept.push(request);
                        }
                    }
                    // Refused now as when it was applied first: nothing changed then either.
                    ReadBack::Hold(record) => {
                        if let Err(e) = apply_hold(&mut held, &record) {
                            tracing::warn!(record = index, error = %e, "a logged hold is refused, as it was when logged");
                        }
                    }
                    ReadBack::Release(record) => {
                        if let Err(e) = apply_release(&mut held, &settings, &mut released, record.at) {
                            tracing::warn!(record = index, error = %e, "a logged evaluation is refused, as it was when logged");
                        }
                    }
                }
                seq = record_seq;
                recovery.replayed += 1;
            } else {
                return Err(corrupt(&format!(
                    "record {record_seq} follows {seq}: the log has a gap"
                )));
            }
            at += len;
        }
        if recovery.torn_bytes > 0 {
            log.set_len(at as u64)?;
            log.sync_all()?;
        }
        let mut store = FileLog {
            dir: dir.to_owned(),
            log,
            seq,
            snapshot_seq: recovery.snapshot_seq,
            buf: Vec::new(),
            len: 0,
            broken: false,
            holds: !held.is_empty() || held.last_evaluation().is_some() || released.last_cursor() > 0,
            #[cfg(test)]
            fail_after: None,
        };
        match format {
            Format::V1 => store.rewrite(&kept)?,
            Format::V2 if at == 0 => store.start_file()?,
            Format::V2 => {}
        }
        store.len = store.log.metadata()?.len();
        Ok((
            store,
            Stored {
                settings,
                held,
                released,
            },
            recovery,
        ))
    }

    /// Replaces the log with format 2's, holding `changes` (those after the
    /// snapshot, in order): a format-1 log read at start.
    fn rewrite(&mut self, changes: &[Request]) -> io::Result<()> {
        let tmp = self.dir.join("changes.log.tmp");
        let mut bytes = MAGIC.to_vec();
        let first = self.seq - changes.len() as u64;
        for (i, request) in changes.iter().enumerate() {
            write_record(&mut bytes, first + 1 + i as u64, request)?;
        }
        {
            let mut file = File::create(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
        }
        fs::rename(&tmp, self.dir.join(LOG))?;
        sync_dir(&self.dir)?;
        self.log = OpenOptions::new().read(true).append(true).open(self.dir.join(LOG))?;
        Ok(())
    }

    /// Writes the format's magic at the start of the empty log.
    fn start_file(&mut self) -> io::Result<()> {
        self.log.set_len(0)?;
        self.log.write_all(MAGIC)?;
        self.log.sync_all()?;
        self.len = MAGIC.len() as u64;
        Ok(())
    }

    /// Writes and syncs the batch in `buf`.
    fn write_batch(&mut self) -> io::Result<()> {
        #[cfg(test)]
        if let Some(n) = self.fail_after.take() {
            self.log.write_all(&self.buf[..n.min(self.buf.len())])?;
            return Err(io::Error::new(io::ErrorKind::StorageFull, "no space left (a test)"));
        }
        self.log.write_all(&self.buf)?;
        // One sync for the whole batch: group commit.
        self.log.sync_data()
    }

    /// Cuts the log back to its last durable length, so that the next batch
    /// follows the last acknowledged one.
    fn take_back(&mut self) -> io::Result<()> {
        self.log.set_len(self.len)?;
        self.log.sync_all()?;
        self.broken = false;
        Ok(())
    }
}

/// A record read back.
enum ReadBack {
    Change(Request),
    Hold(HoldRecord),
    Release(ReleaseRecord),
}

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{LOG}: {what}"))
}

fn write_record(out: &mut Vec<u8>, seq: u64, request: &Request) -> io::Result<()> {
    write_entry(out, seq, &Entry::Change(request))
}

fn write_entry(out: &mut Vec<u8>, seq: u64, entry: &Entry<'_>) -> io::Result<()> {
    record::write(out, seq, |out| match entry {
        Entry::Change(request) => serde_json::to_writer(out, request).map_err(io::Error::other),
        Entry::Hold(hold) => {
            out.push(KIND_HOLD);
            serde_json::to_writer(out, hold).map_err(io::Error::other)
        }
        Entry::Release(release) => {
            out.push(KIND_RELEASE);
            serde_json::to_writer(out, release).map_err(io::Error::other)
        }
    })
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl ChangeLog for FileLog {
    fn append(&mut self, batch: &[&Request]) -> io::Result<()> {
        let entries: Vec<Entry<'_>> = batch.iter().map(|r| Entry::Change(r)).collect();
        self.append_entries(&entries)
    }

    fn append_entries(&mut self, batch: &[Entry<'_>]) -> io::Result<()> {
        if self.broken {
            self.take_back()?;
        }
        self.buf.clear();
        for (i, entry) in batch.iter().enumerate() {
            write_entry(&mut self.buf, self.seq + 1 + i as u64, entry)?;
        }
        if let Err(e) = self.write_batch() {
            // Part of the batch may be in the file (a full disk takes what
            // fits): cut it off now, or before the next batch if that fails
            // too, so the log never holds a change that was refused.
            self.broken = true;
            let _ = self.take_back();
            return Err(e);
        }
        self.len += self.buf.len() as u64;
        self.seq += batch.len() as u64;
        self.holds |= batch.iter().any(|e| !matches!(e, Entry::Change(_)));
        Ok(())
    }

    fn since_snapshot(&self) -> u64 {
        self.seq - self.snapshot_seq
    }

    fn snapshot(&mut self, settings: &Settings) -> io::Result<()> {
        if self.holds {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "this store keeps held pushes: a snapshot of the settings alone would lose them (snapshot_state)",
            ));
        }
        self.snapshot_state(&StateRef {
            settings,
            held: &Held::new(),
            released: &ReleasedStore::default(),
        })
    }

    fn snapshot_state(&mut self, state: &StateRef<'_>) -> io::Result<()> {
        let tmp = self.dir.join("snapshot.json.tmp");
        snapshot::write(&tmp, self.seq, state)?;
        fs::rename(&tmp, self.dir.join(SNAPSHOT))?;
        sync_dir(&self.dir)?;
        // A crash before this line leaves records the snapshot covers:
        // recovery skips them by sequence number. A crash between the two
        // leaves an empty log, which is started anew.
        self.start_file()?;
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
        fs::write(
            dir.path().join(LOG),
            [&before_truncate[..], &tail[MAGIC.len()..]].concat(),
        )
        .unwrap();
        let (mut log3, s3, r) = FileLog::open(dir.path(), config()).unwrap();
        assert_eq!((r.skipped, r.replayed), (2, 1));
        assert_eq!(level(&s3, "a"), r#"{"code":200,"isMuted":1}"#);
        assert_eq!(level(&s3, "b"), r#"{"code":200,"isMuted":4}"#);
        assert_eq!(log3.since_snapshot(), 1);
        log3.append(&[&request("c", 5)]).unwrap();
    }

    #[test]
    fn a_failed_append_is_taken_back_and_the_next_one_works() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _, _) = FileLog::open(dir.path(), config()).unwrap();
        log.append(&[&request("a", 5)]).unwrap();
        let before = fs::read(dir.path().join(LOG)).unwrap();
        // The disk takes part of the batch, then is full.
        log.fail_after = Some(30);
        assert!(log.append(&[&request("b", 4), &request("c", 4)]).is_err());
        assert_eq!(
            fs::read(dir.path().join(LOG)).unwrap(),
            before,
            "nothing of the batch is left"
        );
        assert_eq!(log.since_snapshot(), 1);
        // Room again: the next batch follows the last acknowledged change.
        log.append(&[&request("a", 1)]).unwrap();
        drop(log);
        let (_, s, r) = FileLog::open(dir.path(), config()).unwrap();
        assert_eq!((r.replayed, r.torn_bytes), (2, 0));
        assert_eq!(level(&s, "a"), r#"{"code":200,"isMuted":1}"#);
        assert_eq!(level(&s, "b"), r#"{"code":200,"isMuted":0}"#);
    }
}
