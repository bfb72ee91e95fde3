//! The command as a stream: a closed pipe, a full disk, lines longer than the
//! limit, and memory that stays bounded however many recipients a message has.

use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, Stdio};

use super::{bin, dnd, lines, push, stderr, Scratch, PERIOD};

/// The write end of a pipe whose reader has gone: a process that read
/// nothing from its standard input and ended.
fn pipe_without_reader() -> ChildStdin {
    let mut reader = bin()
        .arg("--version")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let write_end = reader.stdin.take().unwrap();
    assert!(reader.wait().unwrap().success());
    write_end
}

#[test]
fn closed_pipe_ends_quietly() {
    for args in [&["--help"][..], &["--version"], &["replay", "--help"]] {
        let out = bin()
            .args(args)
            .stdout(pipe_without_reader())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{args:?}: {}", stderr(&out));
    }
    for mode in ["replay", "explain"] {
        let mut child = bin()
            .args([mode, "--time-zone", "UTC"])
            .stdin(Stdio::piped())
            .stdout(pipe_without_reader())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        for _ in 0..1000 {
            // The command may have ended already: then this fails, as it should.
            if writeln!(stdin, "{PERIOD}").is_err() {
                break;
            }
        }
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{mode}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{mode}: {}", stderr(&out));
    }
    // As users write it: into `head`, which leaves after one line.
    if std::path::Path::new("/bin/bash").exists() {
        let dir = Scratch::new("pipe");
        let many = dir.file("many.jsonl", format!("{PERIOD}\n").repeat(20_000).as_bytes());
        let script = r#"set -o pipefail
            "$0" --help | head -1 >/dev/null && echo "help $?"
            "$0" replay --time-zone UTC "$1" | head -1 >/dev/null && echo "replay $?"
            "$0" explain --time-zone UTC "$1" | head -1 >/dev/null && echo "explain $?""#;
        let out = std::process::Command::new("/bin/bash")
            .args(["-c", script, env!("CARGO_BIN_EXE_dnd"), &many])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "help 0\nreplay 0\nexplain 0\n");
        assert!(out.stderr.is_empty(), "{}", stderr(&out));
    }
}

#[test]
fn other_write_errors_are_reported() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // no /dev/full here
    };
    for args in [
        &["replay", "--time-zone", "UTC"][..],
        &["explain", "--time-zone", "UTC"],
        &["--help"],
        &["--version"],
    ] {
        let mut child = bin()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(full.try_clone().unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = writeln!(child.stdin.take().unwrap(), "{PERIOD}");
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.starts_with("dnd: writing standard output: ") && err.contains("No space left on device"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn long_line_answers_an_error_and_replay_goes_on() {
    let limit = PERIOD.len().to_string();
    let input = format!("{PERIOD}\n{PERIOD} \n{}\n{PERIOD}\n", "x".repeat(10 * PERIOD.len()));
    for mode in ["replay", "explain"] {
        let out = dnd(&[mode, "--max-line-bytes", &limit], &input);
        assert_eq!(out.status.code(), Some(1));
        let text = String::from_utf8(out.stdout).unwrap();
        for (n, len) in [(2, PERIOD.len() + 1), (3, 10 * PERIOD.len())] {
            let needle =
                format!("line {n}: {len} bytes, more than the most a line may have, {limit} (--max-line-bytes)");
            assert!(text.contains(&needle), "{needle} not in {text}");
        }
        assert_eq!(
            text.matches(r#"{"code":200}"#).count(),
            2,
            "the line at the limit, and the last: {text}"
        );
    }
}

/// The peak resident memory of `dnd args` (kB) once it has answered what
/// `write` gives it, and how many bytes it wrote; read while the command
/// waits for more input, after a last request line that marks the end.
#[cfg(target_os = "linux")]
fn peak_memory(args: &[&str], write: impl FnOnce(&mut ChildStdin)) -> (u64, u64) {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    write(&mut stdin);
    stdin.write_all(b"\n{\"request\": \"/end\", \"body\": \"\"}\n").unwrap();
    stdin.flush().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut written, mut line) = (0, Vec::new());
    loop {
        line.clear();
        assert_ne!(out.read_until(b'\n', &mut line).unwrap(), 0, "the command ended early");
        if line.windows(10).any(|w| w == b"\"code\":404") {
            break;
        }
        written += line.len() as u64;
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .map(|v| v.trim().parse::<u64>().unwrap())
        .unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().code().is_some());
    (peak, written)
}

/// A group message to 200,000 recipients, with `extra` fields.
fn big_push(extra: &str) -> String {
    let ids: Vec<String> = (0..200_000).map(|i| format!("\"user{i:06}\"")).collect();
    push(&format!("[{}]", ids.join(",")), extra)
}

/// The memory a message takes beyond holding it must be small beside its answer.
#[cfg(target_os = "linux")]
fn streams_in_bounded_memory(mode: &str, share: u64) {
    let good = big_push("");
    // The same message, refused once read whole: what holding it costs.
    let refused = big_push(r#", "mentionedInfo": {"type": 3}"#);
    let (held, _) = peak_memory(&[mode], |w| w.write_all(refused.as_bytes()).unwrap());
    let (peak, written) = peak_memory(&[mode], |w| w.write_all(good.as_bytes()).unwrap());
    let more = peak.saturating_sub(held) * 1024;
    eprintln!("{mode}: wrote {written} bytes; peak {peak} kB, {held} kB to hold the message");
    assert!(written > 10 << 20, "{written}");
    assert!(
        more < written / share,
        "{mode} took {more} bytes more than holding the message, for {written} bytes written"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn explain_streams_in_bounded_memory() {
    // About 140 MB of explanations.
    streams_in_bounded_memory("explain", 20);
}

#[cfg(target_os = "linux")]
#[test]
fn replay_streams_decisions_in_bounded_memory() {
    // About 12 MB of decisions on one line.
    streams_in_bounded_memory("replay", 4);
}

#[cfg(target_os = "linux")]
#[test]
fn a_long_line_is_not_read_into_memory() {
    const LINE: usize = 64 << 20;
    let (peak, _) = peak_memory(&["replay", "--max-line-bytes", "1024"], |w| {
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..LINE / chunk.len() {
            w.write_all(&chunk).unwrap();
        }
    });
    assert!(
        peak * 1024 < LINE as u64 / 4,
        "peak {peak} kB for a line of {LINE} bytes"
    );
}

#[test]
fn the_default_line_limit_is_64_mib() {
    let line = format!("{PERIOD}\n");
    let got = lines(&dnd(&["replay"], &line));
    assert_eq!(got[0]["code"], 200);
    let help = String::from_utf8(dnd(&["replay", "--help"], "").stdout).unwrap();
    assert!(help.contains("[default: 67108864]"), "{help}");
}
