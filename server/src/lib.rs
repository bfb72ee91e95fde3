//! The DND settings service: the platform's signed HTTP settings API (the
//! form generation and the v4 JSON generation) and a decide endpoint over
//! [`dnd_engine`], durable on an embedded snapshot and log.
//!
//! The core crate stays pure; the runtime (tokio), the HTTP server (hyper)
//! and the files live here. See `docs/service.md` for the design, the
//! durability argument, the limits and the HTTP mapping.
//!
//! ```no_run
//! # async fn f() -> std::io::Result<()> {
//! let mut config = dnd_server::Config::default();
//! config.apps.push(dnd_server::App { key: "key".into(), secret: "secret".into() });
//! let server = dnd_server::start(config, "data".as_ref(), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("listening on {}", server.local_addr());
//! server.shutdown().await
//! # }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod admin;
pub mod apps;
pub mod auth;
pub mod backend;
pub mod config;
pub mod conn;
pub mod decide;
pub mod hold;
pub mod lock;
pub mod metrics;
pub mod nonces;
pub mod observe;
pub mod routes;
pub mod service;
pub mod store;
pub mod tls;
pub mod writer;

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use dnd_engine::{Settings, SharedSettings};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use tls::Tls;

pub use apps::Apps;
pub use backend::{Backend, Local};
pub use config::{App, Config};
pub use lock::DirLock;
pub use store::{ChangeLog, FileLog, Recovery};

/// The settings as the service shares them: the core's shared settings.
/// Readers (gets, a fanout's chunks, the writer's snapshot) take immutable
/// versions; the one writer thread publishes each batch of changes as a new
/// version. No reader waits for a write and no write for a reader, however
/// long a version is held (see `docs/service.md`).
pub type Shared = SharedSettings;

/// The current version of the settings: later changes do not touch it.
pub fn read(s: &Shared) -> Arc<Settings> {
    s.read()
}

/// How long shutdown waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(30);

/// A running service.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<io::Result<()>>,
    tls: Option<Arc<Tls>>,
}

impl Server {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops taking connections, lets requests in flight finish (for up to
    /// 30 s), then stops the writer after the changes queued, which writes a
    /// final snapshot.
    pub async fn shutdown(self) -> io::Result<()> {
        let _ = self.stop.send(true);
        self.wait().await
    }

    /// Reads the TLS certificate and key files again (what SIGHUP does):
    /// new connections use them. An error leaves the certificate in use.
    pub fn reload_tls(&self) -> io::Result<()> {
        match &self.tls {
            Some(tls) => tls.reload(),
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the server does not serve HTTPS",
            )),
        }
    }

    /// Waits until the service has stopped.
    pub async fn wait(self) -> io::Result<()> {
        self.task.await.map_err(io::Error::other)?
    }
}

/// Recovers each app's store under `data` (`data/apps/KEY/`) and serves on
/// `listen`.
///
/// The certificate files and the address are checked and taken first, so a
/// start that cannot serve leaves nothing behind. Then the data directory
/// is locked ([`DirLock`]) and stays locked until the server has stopped: a
/// second server on the same directory refuses to start, naming this
/// process.
pub async fn start(config: Config, data: &Path, listen: SocketAddr) -> io::Result<Server> {
    config.engine_config().map_err(io::Error::other)?;
    // Files named but unreadable fail the start before the store is touched.
    let tls = Tls::of(&config)?;
    let listener = bind(listen, &config)?;
    let lock = DirLock::acquire(data)?;
    let data = data.to_owned();
    let opening = config.clone();
    let apps = tokio::task::spawn_blocking(move || apps::open_local(&opening, &data))
        .await
        .map_err(io::Error::other)??;
    serve_on(listener, apps, config, tls, Some(lock))
}

/// Serves the HTTP API on `listen` over `backend` (this process's store, or
/// a cluster's) for the one app of `config`; stopping the server stops the
/// backend after the requests in flight. One backend holds one app's
/// settings, so a configuration of several apps is refused: give each its
/// own with [`serve_apps`].
pub async fn serve<B: Backend>(backend: B, config: Config, listen: SocketAddr) -> io::Result<Server> {
    let [app] = config.apps.as_slice() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "one backend serves one app, and the configuration has {}: apps must not see each other's settings",
                config.apps.len()
            ),
        ));
    };
    let mut apps = Apps::new();
    apps.insert(app.key.clone(), backend);
    serve_apps(apps, config, listen).await
}

/// Serves the HTTP API on `listen`, each request over the backend of the
/// app that signed it; stopping the server stops every backend after the
/// requests in flight. Every app of `config` must have a backend.
pub async fn serve_apps<B: Backend>(apps: Apps<B>, config: Config, listen: SocketAddr) -> io::Result<Server> {
    let tls = Tls::of(&config)?;
    let listener = bind(listen, &config)?;
    serve_on(listener, apps, config, tls, None)
}

/// Listens on `listen` with the configured send buffer, naming the address
/// when that fails.
fn bind(listen: SocketAddr, config: &Config) -> io::Result<TcpListener> {
    conn::listen(listen, config.send_buffer_bytes)
        .map_err(|e| io::Error::new(e.kind(), format!("listening on {listen}: {e}")))
}

/// Serves on `listener`, releasing `lock` only once every backend has
/// stopped.
fn serve_on<B: Backend>(
    listener: TcpListener,
    apps: Apps<B>,
    config: Config,
    tls: Option<Arc<Tls>>,
    lock: Option<DirLock>,
) -> io::Result<Server> {
    if let Some(app) = config.apps.iter().find(|a| apps.get(&a.key).is_none()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("app {}: no settings to serve it from", app.key),
        ));
    }
    let addr = listener.local_addr()?;
    let threads = match config.decide_threads {
        0 => 4 * std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
        n => n,
    };
    let state = Arc::new(service::State {
        apps,
        auth: auth::Auth::new(&config),
        metrics: metrics::Metrics::default(),
        config,
        decide_pool: Arc::new(Semaphore::new(threads)),
    });
    let (stop, stopped) = watch::channel(false);
    if let Some(tls) = &tls {
        reload_on_hangup(tls.clone(), stopped.clone())?;
    }
    let task = tokio::spawn({
        let tls = tls.clone();
        async move {
            accept(listener, state.clone(), stopped, tls).await;
            state.apps.stop().await;
            drop(lock);
            tracing::info!("stopped");
            Ok(())
        }
    });
    Ok(Server { addr, stop, task, tls })
}

/// Reads the certificate again on each SIGHUP until the server stops.
fn reload_on_hangup(tls: Arc<Tls>, mut stopped: watch::Receiver<bool>) -> io::Result<()> {
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stopped.changed() => break,
                got = hangup.recv() => {
                    if got.is_none() {
                        break;
                    }
                    match tls.reload() {
                        Ok(()) => tracing::info!("TLS certificate reloaded"),
                        Err(e) => tracing::error!(error = %e, "reloading the TLS certificate failed; the old one stays"),
                    }
                }
            }
        }
    });
    Ok(())
}

async fn accept<B: Backend>(
    listener: TcpListener,
    state: Arc<service::State<B>>,
    mut stopped: watch::Receiver<bool>,
    tls: Option<Arc<Tls>>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(state.config.header_timeout_ms))
        .max_buf_size(state.config.max_header_bytes);
    let permits = Arc::new(Semaphore::new(state.config.max_connections.max(1)));
    let registry = Arc::new(conn::Registry::default());
    let send_timeout = Duration::from_millis(state.config.send_timeout_ms.max(1));
    let handshake_timeout = Duration::from_millis(state.config.header_timeout_ms.max(1));
    let graceful = GracefulShutdown::new();
    'accepting: loop {
        let stream = tokio::select! {
            _ = stopped.changed() => break,
            s = listener.accept() => match s {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            // Full: make room by closing a connection that does not read
            // its answers, or wait for one to end or to stall.
            Err(_) => loop {
                registry.evict_stalled();
                tokio::select! {
                    _ = stopped.changed() => break 'accepting,
                    p = permits.clone().acquire_owned() => match p {
                        Ok(p) => break p,
                        Err(_) => break 'accepting,
                    },
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let entry = registry.add();
        let io = conn::Watched::new(stream, send_timeout, &entry);
        let service = {
            let state = state.clone();
            service_fn(move |request| {
                let state = state.clone();
                async move {
                    // A panic in a handler fails its own task only: that request
                    // answers 500 and the connection and the server go on.
                    Ok::<_, std::convert::Infallible>(service::handle(state, request).await)
                }
            })
        };
        match &tls {
            None => {
                let connection = graceful.watch(http.serve_connection(TokioIo::new(io), service));
                tokio::spawn(serve_one(connection, entry, permit));
            }
            Some(tls) => {
                let acceptor = tls.acceptor();
                let (http, watcher) = (http.clone(), graceful.watcher());
                tokio::spawn(async move {
                    let handshake = tokio::select! {
                        _ = entry.info.close.notified() => return,
                        h = tokio::time::timeout(handshake_timeout, acceptor.accept(io)) => h,
                    };
                    match handshake {
                        Ok(Ok(stream)) => {
                            let connection = watcher.watch(http.serve_connection(TokioIo::new(stream), service));
                            serve_one(connection, entry, permit).await;
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight after the drain time; stopping anyway");
    }
}

/// Serves one connection until it ends or is closed to make room.
async fn serve_one<C: std::future::Future>(connection: C, entry: conn::Entry, permit: OwnedSemaphorePermit) {
    tokio::select! {
        _ = connection => {}
        _ = entry.info.close.notified() => tracing::debug!("closed a connection that does not read its answers"),
    }
    drop(entry);
    drop(permit);
}

/// Installs the JSON logger (one object per line on standard error), its
/// levels from `RUST_LOG` (tracing's `EnvFilter` syntax, e.g. `warn` or
/// `info,dnd_cluster=debug`; `info` when it is not set or not valid). A line
/// written while a request is handled carries the request's id
/// (`span.request_id`).
///
/// A log line that cannot be written (standard error closed, its reader
/// gone, a full disk) is dropped: logging never fails a request nor stops
/// the service.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(|| LossyStderr)
        .log_internal_errors(false)
        .with_target(false)
        .with_current_span(true)
        .with_span_list(false)
        .try_init();
}

/// Standard error, dropping what cannot be written.
#[derive(Clone, Copy, Debug)]
pub struct LossyStderr;

impl io::Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let _ = io::stderr().flush();
        Ok(())
    }
}

/// Runs the service until SIGTERM or SIGINT: the `dnd serve` command.
/// Prints `listening on ADDR` on standard output once it accepts.
pub fn run(config: Config, data: &Path, listen: SocketAddr) -> Result<(), String> {
    let data = data.to_owned();
    run_with(move || async move { start(config, &data, listen).await })
}

/// Runs the server `start` makes until SIGTERM or SIGINT, on a runtime of
/// its own, with the JSON logger: the body of `dnd serve` in every mode.
pub fn run_with<F, Fut>(start: F) -> Result<(), String>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = io::Result<Server>>,
{
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let server = start().await.map_err(|e| e.to_string())?;
        {
            // Standard output may be closed too: that fails nothing.
            use io::Write as _;
            let mut out = io::stdout().lock();
            let _ = writeln!(out, "listening on {}", server.local_addr());
            let _ = out.flush();
        }
        tracing::info!(addr = %server.local_addr(), "listening");
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(|e| e.to_string())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("shutting down");
        server.shutdown().await.map_err(|e| e.to_string())
    })
}
