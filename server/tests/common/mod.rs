//! A signing HTTP/1.1 client as the platform's SDKs are (headers App-Key,
//! Nonce, Timestamp, Signature), over plain sockets with timeouts so that no
//! test can hang, and a server started on a loopback port.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dnd_server::{App, Config};

pub const KEY: &str = "test-key";
pub const SECRET: &str = "test-secret";
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub fn config() -> Config {
    let mut c = Config::default();
    c.apps.push(App {
        key: KEY.into(),
        secret: SECRET.into(),
    });
    c
}

/// A server on 127.0.0.1:0 in its own runtime; shut down on drop.
pub struct TestServer {
    pub runtime: tokio::runtime::Runtime,
    pub server: Option<dnd_server::Server>,
    pub addr: SocketAddr,
}

impl TestServer {
    pub fn start(config: Config, data: &Path) -> TestServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime
            .block_on(dnd_server::start(config, data, "127.0.0.1:0".parse().unwrap()))
            .unwrap();
        let addr = server.local_addr();
        TestServer {
            runtime,
            server: Some(server),
            addr,
        }
    }

    pub fn client(&self) -> Client {
        Client::new(self.addr)
    }

    pub fn stop(mut self) {
        if let Some(s) = self.server.take() {
            self.runtime
                .block_on(async { tokio::time::timeout(TIMEOUT, s.shutdown()).await })
                .expect("shutdown in time")
                .unwrap();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            let _ = self
                .runtime
                .block_on(async { tokio::time::timeout(TIMEOUT, s.shutdown()).await });
        }
    }
}

static NONCE: AtomicU64 = AtomicU64::new(0);

pub fn nonce() -> String {
    format!("{}-{}", std::process::id(), NONCE.fetch_add(1, Ordering::Relaxed))
}

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A signing client; one connection per request unless `keep` is used.
#[derive(Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub key: String,
    pub secret: String,
}

/// An answer: status, headers (lowercased names) and the body, de-chunked.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

impl Client {
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

    pub fn signed_with(&self, nonce: &str, ts: &str) -> Vec<(String, String)> {
        vec![
            ("App-Key".into(), self.key.clone()),
            ("Nonce".into(), nonce.into()),
            ("Timestamp".into(), ts.into()),
            ("Signature".into(), dnd_server::auth::sign(&self.secret, nonce, ts)),
        ]
    }

    pub fn post(&self, path: &str, body: &str) -> Answer {
        let headers = self.signed(path);
        self.send("POST", path, &headers, body.as_bytes())
    }

    pub fn get(&self, path: &str) -> Answer {
        self.send("GET", path, &[], b"")
    }

    pub fn send(&self, method: &str, path: &str, headers: &[(String, String)], body: &[u8]) -> Answer {
        self.try_send(method, path, headers, body).expect("a complete answer")
    }

    /// A signed POST that may fail (the server was killed).
    pub fn try_post(&self, path: &str, body: &str) -> Result<Answer, String> {
        let headers = self.signed(path);
        self.try_send("POST", path, &headers, body.as_bytes())
    }

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
