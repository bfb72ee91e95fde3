//! A server started on a loopback port, and the signing client
//! (`dnd_testkit::client`, shared with the other members' tests).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;

use dnd_server::{App, Config};
pub use dnd_testkit::client::*;

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
