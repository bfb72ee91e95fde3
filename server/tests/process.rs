//! The service as a process among others: one server per data directory,
//! and a log stream that breaks fails no request.

mod common;

use std::fs::File;
use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Client, KEY, SECRET};

const SET: &str = "/conversation/type/notification/set.json";
const GET: &str = "/conversation/type/notification/get.json";

fn command(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dnd-server"));
    c.args(["--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env("DND_APP_KEY", KEY)
        .env("DND_APP_SECRET", SECRET)
        .stdout(Stdio::piped());
    c
}

fn spawn(data: &Path, stderr: Stdio) -> (Child, SocketAddr) {
    let mut child = command(data).stderr(stderr).spawn().unwrap();
    let addr = dnd_testkit::process::listening(&mut child);
    (child, addr)
}

fn wait(child: &mut Child) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(started.elapsed() < common::TIMEOUT, "the process ends in time");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_second_server_on_the_same_data_refuses_to_start_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, addr) = spawn(dir.path(), Stdio::null());
    let client = Client::new(addr);
    assert_eq!(
        client.post(SET, "conversationType=3&requestId=u&unpushLevel=5").status,
        200
    );
    let mut second = command(dir.path()).stderr(Stdio::piped()).spawn().unwrap();
    let status = wait(&mut second);
    let mut said = String::new();
    second.stderr.take().unwrap().read_to_string(&mut said).unwrap();
    assert!(!status.success(), "the second server refused: {said}");
    assert!(
        said.contains(&format!("in use by process {}", first.id())),
        "names the holder: {said}"
    );
    // The first goes on, and a write after the refusal is kept.
    assert_eq!(
        client.post(SET, "conversationType=3&requestId=v&unpushLevel=2").status,
        200
    );
    first.kill().unwrap();
    first.wait().unwrap();
    // The lock died with its holder: the directory starts, with both writes.
    let (mut again, addr) = spawn(dir.path(), Stdio::null());
    let client = Client::new(addr);
    for (user, level) in [("u", 5), ("v", 2)] {
        let a = client.post(GET, &format!("conversationType=3&requestId={user}"));
        assert_eq!(a.body, format!(r#"{{"code":200,"isMuted":{level}}}"#));
    }
    again.kill().unwrap();
    again.wait().unwrap();
}

#[test]
fn a_log_stream_whose_reader_is_gone_fails_no_request() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = spawn(dir.path(), Stdio::piped());
    drop(child.stderr.take());
    let client = Client::new(addr);
    for _ in 0..3 {
        assert_eq!(client.get("/health").status, 200);
        let a = client.post(SET, "conversationType=3&requestId=u&unpushLevel=5");
        assert_eq!((a.status, a.body.as_str()), (200, r#"{"code":200}"#));
    }
    assert!(child.try_wait().unwrap().is_none(), "still serving");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_full_log_device_fails_no_request() {
    let Ok(full) = File::options().write(true).open("/dev/full") else {
        eprintln!("skipped: no /dev/full on this machine");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = spawn(dir.path(), Stdio::from(full));
    let client = Client::new(addr);
    assert_eq!(client.get("/health").status, 200);
    let a = client.post(SET, "conversationType=3&requestId=u&unpushLevel=5");
    assert_eq!(a.status, 200, "{}", a.body);
    child.kill().unwrap();
    child.wait().unwrap();
}
