//! A server started as a process: the address it prints once it listens.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::Child;
use std::sync::mpsc;

use crate::client::TIMEOUT;

/// The address `child` listens on, from the first line of its standard
/// output (`listening on ADDR`, as `dnd serve` and `dnd-server` print it;
/// the child's stdout must be piped). Panics if the line does not come
/// within [`TIMEOUT`] or says something else.
pub fn listening(child: &mut Child) -> SocketAddr {
    let stdout = child.stdout.take().expect("the child's stdout piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(TIMEOUT).expect("the server listens in time");
    line.trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .parse()
        .unwrap_or_else(|e| panic!("{line:?}: {e}"))
}
