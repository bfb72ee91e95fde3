//! A server started on a loopback port, and the signing client
//! (`dnd_testkit::client`, shared with the other members' tests).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;

use dnd_engine::{Level, Settings};
use dnd_server::{App, Config};
pub use dnd_testkit::client::*;
use serde_json::json;

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
        TestServer::try_start(config, data).unwrap()
    }

    /// A server, or why it would not start.
    pub fn try_start(config: Config, data: &Path) -> Result<TestServer, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime
            .block_on(dnd_server::start(config, data, "127.0.0.1:0".parse().unwrap()))
            .map_err(|e| e.to_string())?;
        let addr = server.local_addr();
        Ok(TestServer {
            runtime,
            server: Some(server),
            addr,
        })
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

/// What `dnd replay` prints for `push`: the core's decisions, in order, the
/// keys in the protocol's order.
pub fn expected(settings: &Settings, push: &str, explain: bool) -> String {
    let p: dnd_engine::push::Push = serde_json::from_str(push).unwrap();
    let ids = p.mentioned_ids();
    let message = p.message(&ids).unwrap();
    let prepared = settings.prepare(&message);
    let decisions: Vec<String> = p
        .recipients
        .iter()
        .map(|r| {
            let (d, deferral) = prepared.decide_deferred_id(r);
            let level = d.level().map_or("null".to_owned(), |l| Level::code(l).to_string());
            let mut line = format!(
                r#"{{"userId":{},"push":{},"by":"{}","level":{level}"#,
                json!(r),
                d.push(),
                d.by().as_str()
            );
            if let Some(deferral) = deferral {
                line.push_str(&format!(r#","deferUntil":{}"#, deferral.until.timestamp_millis()));
            }
            if explain {
                let e = serde_json::to_string(&prepared.explain_id(r)).unwrap();
                line.push_str(&format!(r#","explanation":{e}"#));
            }
            line + "}"
        })
        .collect();
    format!(r#"{{"decisions":[{}]}}"#, decisions.join(","))
}
