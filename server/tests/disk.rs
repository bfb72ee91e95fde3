//! A full disk refuses the writes it cannot keep, and the service recovers
//! on its own once there is room: no restart needed, nothing half applied.

mod common;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{config, Client};
use dnd_engine::{Request, Settings, SharedSettings};
use dnd_server::writer::Writer;
use dnd_server::{ChangeLog, FileLog, Local};

const SET: &str = "/conversation/type/notification/set.json";
const GET: &str = "/conversation/type/notification/get.json";

/// The file log on a disk that is full while `full` is set.
struct Disk {
    log: FileLog,
    full: Arc<AtomicBool>,
}

impl ChangeLog for Disk {
    fn append(&mut self, batch: &[&Request]) -> io::Result<()> {
        if self.full.load(Ordering::SeqCst) {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "no space left on device"));
        }
        self.log.append(batch)
    }

    fn since_snapshot(&self) -> u64 {
        self.log.since_snapshot()
    }

    fn snapshot(&mut self, settings: &Settings) -> io::Result<()> {
        self.log.snapshot(settings)
    }
}

#[test]
fn writes_refused_on_a_full_disk_work_again_once_it_has_room() {
    let dir = tempfile::tempdir().unwrap();
    let full = Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(async {
        let cfg = config();
        let (log, settings, _) = FileLog::open(dir.path(), cfg.engine_config().unwrap()).unwrap();
        let settings = Arc::new(SharedSettings::new(settings));
        let disk = Disk {
            log,
            full: full.clone(),
        };
        let (writer, thread) = Writer::start(disk, settings.clone(), 1000).unwrap();
        dnd_server::serve(
            Local::new(settings, writer, thread),
            cfg,
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap()
    });
    let client = Client::new(server.local_addr());
    let set =
        |user: &str, level: i64| client.post(SET, &format!("conversationType=3&requestId={user}&unpushLevel={level}"));
    let get = |user: &str| client.post(GET, &format!("conversationType=3&requestId={user}")).body;
    assert_eq!(set("a", 5).status, 200);
    full.store(true, Ordering::SeqCst);
    let refused = set("b", 4);
    assert_eq!(refused.status, 500, "{}", refused.body);
    assert!(refused.body.contains("1000"), "{}", refused.body);
    assert_eq!(client.get("/ready").status, 503);
    assert_eq!(
        get("b"),
        r#"{"code":200,"isMuted":0}"#,
        "a refused write is not applied"
    );
    full.store(false, Ordering::SeqCst);
    assert_eq!(set("b", 2).status, 200, "works again without a restart");
    assert_eq!(client.get("/ready").status, 200);
    assert_eq!(get("b"), r#"{"code":200,"isMuted":2}"#);
    runtime.block_on(server.shutdown()).unwrap();
    // Every acknowledged write, and only those, come back.
    let (_, s, r) = FileLog::open(dir.path(), dnd_engine::Config::new(chrono_tz::UTC)).unwrap();
    assert_eq!(r.torn_bytes, 0);
    let query = |user: &str| {
        let q = Request::parse(GET, format!("conversationType=3&requestId={user}").as_bytes()).unwrap();
        s.query(&q).unwrap().to_json()
    };
    assert_eq!(query("a"), r#"{"code":200,"isMuted":5}"#);
    assert_eq!(query("b"), r#"{"code":200,"isMuted":2}"#);
}
