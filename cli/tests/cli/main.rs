//! The `dnd` binary, driven as a user would: every line kind, every error,
//! the exit status, the arguments, pipes, files and memory.

mod args;
mod errors;
mod for_me;
mod members;
mod policy;
mod protocol;
mod streams;
mod timeline;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dnd"))
}

/// Runs `dnd args` with `input` on standard input.
pub fn dnd(args: &[&str], input: &str) -> Output {
    dnd_bytes(args, input.as_bytes())
}

/// Runs `dnd args` with the bytes `input` on standard input.
pub fn dnd_bytes(args: &[&str], input: &[u8]) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Written from a thread, so that a large input cannot block on a full pipe.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// The JSON lines of standard output.
pub fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// Standard output, as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Standard error, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// A period for alice, 22:00 for nine hours, level 5.
pub const PERIOD: &str =
    r#"{"request": "/user/blockPushPeriod/set.json", "body": "userId=alice&startTime=22:00:00&period=540&level=5"}"#;

/// A group message from `s` to `recipients` (JSON text of an array), with `extra` fields.
pub fn push(recipients: &str, extra: &str) -> String {
    format!(
        r#"{{"push": {{"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": {recipients}{extra}}}}}"#
    )
}

/// A scratch directory for one test, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("dnd-cli-test-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn file(&self, name: &str, contents: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
