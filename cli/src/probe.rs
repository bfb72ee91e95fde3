//! `dnd probe URL`: a health check for containers and service managers that
//! have no HTTP client: one `GET` of a plain `http://` URL (by default the
//! local service's `/ready`), exit status 0 for a 2xx answer, 1 otherwise,
//! within a bounded time.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long each step (connect, write, read) may take.
const STEP: Duration = Duration::from_secs(3);

/// Gets `url`; `Ok(status line)` for a 2xx answer, else why not.
pub fn probe(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs are probed"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("{authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority}: no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, STEP).map_err(|e| format!("{addr}: {e}"))?;
    stream.set_read_timeout(Some(STEP)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(STEP)).map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("{addr}: {e}"))?;
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .map_err(|e| format!("{addr}: {e}"))?;
    let line = line.trim_end().to_owned();
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{url}: not an HTTP answer: {line:?}"))?;
    if (200..300).contains(&status) {
        Ok(line)
    } else {
        Err(format!("{url}: {line}"))
    }
}
