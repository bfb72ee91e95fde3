//! Clients that send requests and never read the answers: they are closed
//! after the send timeout, and while they stay honest clients are served.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{config, TestServer};
use tokio::io::AsyncWriteExt;

/// `n` connections with small receive buffers, each pipelining requests
/// for `/metrics` and never reading; they live as long as the runtime.
fn slow_readers(runtime: &tokio::runtime::Runtime, addr: std::net::SocketAddr, n: usize) {
    let requests = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(20_000);
    runtime.block_on(async {
        for _ in 0..n {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.set_recv_buffer_size(4096).unwrap();
            let mut stream = socket.connect(addr).await.unwrap();
            let requests = requests.clone();
            tokio::spawn(async move {
                let _ = stream.write_all(requests.as_bytes()).await;
                // Never read; hold the connection open.
                std::future::pending::<()>().await;
                drop(stream);
            });
        }
    });
}

#[test]
fn clients_that_never_read_do_not_keep_an_honest_one_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config();
    c.max_connections = 64;
    // Longer than the test: only the room kept for new connections helps.
    c.send_timeout_ms = 120_000;
    let server = TestServer::start(c, dir.path());
    let attackers = tokio::runtime::Runtime::new().unwrap();
    slow_readers(&attackers, server.addr, 70);
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    let health = server.client().try_send("GET", "/health", &[], b"");
    assert_eq!(health.map(|a| a.status), Ok(200), "answered while they stay");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    let set = server.client().post(
        "/conversation/type/notification/set.json",
        "conversationType=3&requestId=u&unpushLevel=5",
    );
    assert_eq!(set.status, 200);
    drop(attackers);
}

#[test]
fn a_connection_that_does_not_read_is_closed_after_the_send_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config();
    c.send_timeout_ms = 500;
    let server = TestServer::start(c, dir.path());
    let attackers = tokio::runtime::Runtime::new().unwrap();
    // One blocking socket, for reading at the end.
    let socket = attackers.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        socket.connect(server.addr).await.unwrap().into_std().unwrap()
    });
    socket.set_nonblocking(false).unwrap();
    let mut writer: TcpStream = socket.try_clone().unwrap();
    std::thread::spawn(move || {
        use std::io::Write;
        let _ = writer.write_all("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(20_000).as_bytes());
    });
    std::thread::sleep(Duration::from_millis(2500));
    // Closed by now: what is left to read ends, with far fewer answers
    // than were asked for (20,000 answers would be tens of megabytes).
    let mut reader = socket;
    reader.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = 0usize;
    let mut buf = vec![0; 64 * 1024];
    let ended = loop {
        match reader.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    assert!(ended, "the server closed the connection ({got} bytes read)");
    assert!(got < 1 << 20, "{got} bytes: the server went on answering");
    assert_eq!(server.client().get("/health").status, 200);
}
