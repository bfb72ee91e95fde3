//! A TCP proxy in front of a nats-server that can swallow what the server
//! sends (so a publish is stored but its acknowledgement never arrives) and
//! cut every connection (so the client reconnects).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The proxy; it stops when dropped.
pub struct Proxy {
    url: String,
    swallow: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// A proxy on a free loopback port to the server at `upstream`
    /// (`nats://127.0.0.1:PORT`).
    pub async fn start(upstream: &str) -> Proxy {
        let upstream = upstream.trim_start_matches("nats://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("nats://{}", listener.local_addr().unwrap());
        let swallow = Arc::new(AtomicBool::new(false));
        let (cut, cuts) = watch::channel(0u64);
        let task = {
            let swallow = swallow.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        continue;
                    };
                    let (swallow, mut cuts) = (swallow.clone(), cuts.clone());
                    cuts.mark_unchanged();
                    tokio::spawn(async move {
                        tokio::select! {
                            () = pipe(client, server, swallow) => {}
                            _ = cuts.changed() => {}
                        }
                    });
                }
            })
        };
        Proxy {
            url,
            swallow,
            cut,
            task,
        }
    }

    /// The URL clients connect to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether what the server sends is dropped.
    pub fn swallow(&self, on: bool) {
        self.swallow.store(on, Ordering::SeqCst);
    }

    /// Closes every connection open now.
    pub fn cut(&self) {
        self.cut.send_modify(|n| *n += 1);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut();
    }
}

async fn pipe(client: TcpStream, server: TcpStream, swallow: Arc<AtomicBool>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up = async {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
    };
    let down = async {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if !swallow.load(Ordering::SeqCst) && client_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}
