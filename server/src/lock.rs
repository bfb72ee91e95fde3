//! The data directory's lock: one process serves a data directory at a time.
//!
//! Two processes appending to one log would interleave their records (two
//! records numbered alike, then a log no start can read). The server takes
//! an exclusive advisory lock (`flock`, through `fs4`) on `LOCK` in the data
//! directory before it reads anything there, and holds it for its life: the
//! kernel releases it when the process ends, however it ends, so a crash
//! never leaves a stale lock. The file holds the holder's process id, so a
//! second process refuses to start naming it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;

/// The lock file's name in the data directory.
pub const LOCK_FILE: &str = "LOCK";

/// An exclusive lock on a data directory, held until dropped.
#[derive(Debug)]
pub struct DirLock {
    file: File,
    path: PathBuf,
}

impl DirLock {
    /// Locks `dir` (created if needed) for this process, or fails with
    /// [`io::ErrorKind::WouldBlock`] naming the process that holds it.
    pub fn acquire(dir: &Path) -> io::Result<DirLock> {
        fs::create_dir_all(dir)?;
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        if !file.try_lock_exclusive()? {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() {
                "another process".to_owned()
            } else {
                format!("process {holder}")
            };
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!(
                    "{}: the data directory is in use by {holder} (its lock {} is held)",
                    dir.display(),
                    path.display()
                ),
            ));
        }
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        writeln!(file, "{}", std::process::id())?;
        file.sync_all()?;
        Ok(DirLock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // The pid goes first, so that a reader never sees a released lock
        // naming this process; closing the file releases the lock anyway.
        let _ = self.file.set_len(0);
        let _ = FileExt::unlock(&self.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        let text = fs::read_to_string(first.path()).unwrap();
        assert_eq!(text.trim(), std::process::id().to_string());
        // flock locks belong to the open file, so a second open in this
        // process conflicts as another process's would.
        let err = DirLock::acquire(dir.path()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert!(
            err.to_string().contains(&format!("process {}", std::process::id())),
            "{err}"
        );
        drop(first);
        let again = DirLock::acquire(dir.path()).unwrap();
        drop(again);
    }
}
