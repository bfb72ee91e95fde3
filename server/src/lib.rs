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
pub mod decide;
pub mod metrics;
pub mod observe;
pub mod routes;
pub mod service;
pub mod store;
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
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

pub use apps::Apps;
pub use backend::{Backend, Local};
pub use config::{App, Config};
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

    /// Waits until the service has stopped.
    pub async fn wait(self) -> io::Result<()> {
        self.task.await.map_err(io::Error::other)?
    }
}

/// Recovers each app's store under `data` (`data/apps/KEY/`) and serves on
/// `listen`. The address is taken first: a start that cannot listen leaves
/// nothing behind.
pub async fn start(config: Config, data: &Path, listen: SocketAddr) -> io::Result<Server> {
    config.engine_config().map_err(io::Error::other)?;
    let listener = bind(listen).await?;
    let data = data.to_owned();
    let opening = config.clone();
    let apps = tokio::task::spawn_blocking(move || apps::open_local(&opening, &data))
        .await
        .map_err(io::Error::other)??;
    serve_on(listener, apps, config)
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
    let listener = bind(listen).await?;
    serve_on(listener, apps, config)
}

/// Listens on `listen`, naming the address when that fails.
async fn bind(listen: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(listen)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("listening on {listen}: {e}")))
}

fn serve_on<B: Backend>(listener: TcpListener, apps: Apps<B>, config: Config) -> io::Result<Server> {
    if let Some(app) = config.apps.iter().find(|a| apps.get(&a.key).is_none()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("app {}: no settings to serve it from", app.key),
        ));
    }
    let addr = listener.local_addr()?;
    let state = Arc::new(service::State {
        apps,
        auth: auth::Auth::new(&config),
        metrics: metrics::Metrics::default(),
        config,
    });
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        accept(listener, state.clone(), stopped).await;
        state.apps.stop().await;
        tracing::info!("stopped");
        Ok(())
    });
    Ok(Server { addr, stop, task })
}

async fn accept<B: Backend>(listener: TcpListener, state: Arc<service::State<B>>, mut stopped: watch::Receiver<bool>) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(state.config.header_timeout_ms))
        .max_buf_size(state.config.max_header_bytes);
    let permits = Arc::new(Semaphore::new(state.config.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    loop {
        let permit = tokio::select! {
            _ = stopped.changed() => break,
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
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
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let service = service_fn(move |request| {
            let state = state.clone();
            async move {
                // A panic in a handler fails its own task only: that request
                // answers 500 and the connection and the server go on.
                Ok::<_, std::convert::Infallible>(service::handle(state, request).await)
            }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight after the drain time; stopping anyway");
    }
}

/// Installs the JSON logger (one object per line on standard error), its
/// levels from `RUST_LOG` (tracing's `EnvFilter` syntax, e.g. `warn` or
/// `info,dnd_cluster=debug`; `info` when it is not set or not valid). A line
/// written while a request is handled carries the request's id
/// (`span.request_id`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_target(false)
        .with_current_span(true)
        .with_span_list(false)
        .try_init();
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
        println!("listening on {}", server.local_addr());
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
