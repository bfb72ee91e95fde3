//! A signing HTTP/1.1 client as the platform's SDKs are (headers App-Key,
//! Nonce, Timestamp, Signature), over plain sockets with timeouts so that no
//! test can hang.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The app key the tests' servers are configured with.
pub const KEY: &str = "test-key";
/// The app secret beside [`KEY`].
pub const SECRET: &str = "test-secret";
/// How long a test waits for a server: a read, a write, a start.
pub const TIMEOUT: Duration = Duration::from_secs(20);

static NONCE: AtomicU64 = AtomicU64::new(0);

/// A nonce no other request of this process has used.
pub fn nonce() -> String {
    format!("{}-{}", std::process::id(), NONCE.fetch_add(1, Ordering::Relaxed))
}

/// Now, in seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A signing client; one connection per request unless `keep` is used.
#[derive(Clone)]
pub struct Client {
    /// The server's address.
    pub addr: SocketAddr,
    /// The app key sent.
    pub key: String,
    /// The secret it signs with.
    pub secret: String,
}

/// An answer: status, headers (lowercased names) and the body, de-chunked.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The headers, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Answer {
    /// The value of header `name` (lowercase), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

impl Client {
    /// A client of the server at `addr`, signing with [`KEY`] and [`SECRET`].
    pub fn new(addr: SocketAddr) -> Client {
        Client {
            addr,
            key: KEY.into(),
            secret: SECRET.into(),
        }
    }

    /// The signature headers for a request now (v4 timestamps in milliseconds).
    pub fn signed(&self, path: &str) -> Vec<(String, String)> {
        let ts = if path.starts_with("/v4/") {
            (now_secs() * 1000).to_string()
        } else {
            now_secs().to_string()
        };
        self.signed_with(&nonce(), &ts)
    }

    /// The signature headers for `nonce` and timestamp `ts`.
    pub fn signed_with(&self, nonce: &str, ts: &str) -> Vec<(String, String)> {
        vec![
            ("App-Key".into(), self.key.clone()),
            ("Nonce".into(), nonce.into()),
            ("Timestamp".into(), ts.into()),
            ("Signature".into(), dnd_server::auth::sign(&self.secret, nonce, ts)),
        ]
    }

    /// A signed POST; panics unless a complete answer comes.
    pub fn post(&self, path: &str, body: &str) -> Answer {
        let headers = self.signed(path);
        self.send("POST", path, &headers, body.as_bytes())
    }

    /// An unsigned GET (`/health`, `/metrics`).
    pub fn get(&self, path: &str) -> Answer {
        self.send("GET", path, &[], b"")
    }

    /// A request with `headers`; panics unless a complete answer comes.
    pub fn send(&self, method: &str, path: &str, headers: &[(String, String)], body: &[u8]) -> Answer {
        self.try_send(method, path, headers, body).expect("a complete answer")
    }

    /// A signed POST that may fail (the server was killed).
    pub fn try_post(&self, path: &str, body: &str) -> Result<Answer, String> {
        let headers = self.signed(path);
        self.try_send("POST", path, &headers, body.as_bytes())
    }

    /// The bytes of one signed POST of `body` to `path` for a keep-alive
    /// connection (a fresh nonce, now's timestamp): the request line,
    /// `Host`, `Content-Length`, the signature headers, then `extra`.
    pub fn keep_alive_request(&self, path: &str, body: &str, extra: &[(&str, String)]) -> Vec<u8> {
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in self.signed(path) {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        bytes
    }

    /// A request with `headers` on a connection of its own; `Err` if the
    /// answer does not come or is cut off.
    pub fn try_send(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Answer, String> {
        let mut s = TcpStream::connect(self.addr).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
        s.set_write_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
        let content_type = if path.starts_with("/v4/") || path.starts_with("/push/") {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
        // A server may answer (and close) before it reads the whole body.
        let _ = s.write_all(body);
        read_answer(&mut BufReader::new(s))
    }
}

/// Reads one HTTP/1.1 answer; `Err` if it is cut off.
pub fn read_answer(r: &mut impl BufRead) -> Result<Answer, String> {
    let mut line = String::new();
    r.read_line(&mut line).map_err(|e| e.to_string())?;
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(format!("status line {line:?}"))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line).map_err(|e| e.to_string())?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').ok_or("a header without ':'")?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let get = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            line.clear();
            if r.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                return Err("cut off inside a chunked body".into());
            }
            let size = usize::from_str_radix(line.trim(), 16).map_err(|e| format!("chunk size {line:?}: {e}"))?;
            if size == 0 {
                line.clear();
                r.read_line(&mut line).map_err(|e| e.to_string())?;
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(&mut body[start..]).map_err(|e| e.to_string())?;
            let mut crlf = [0; 2];
            r.read_exact(&mut crlf).map_err(|e| e.to_string())?;
        }
    } else if let Some(n) = get("content-length") {
        body.resize(n.parse().map_err(|_| "content-length")?, 0);
        r.read_exact(&mut body).map_err(|e| e.to_string())?;
    } else {
        r.read_to_end(&mut body).map_err(|e| e.to_string())?;
    }
    Ok(Answer {
        status,
        headers,
        body: String::from_utf8(body).map_err(|e| e.to_string())?,
    })
}
