//! HTTPS end to end: a certificate made for the test, a signed write and a
//! read over TLS, a certificate replaced and reloaded without a restart.

mod common;

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;

use common::{config, read_answer, Answer, Client, TestServer, TIMEOUT};
use rustls::pki_types::{CertificateDer, ServerName};

const SET: &str = "/conversation/type/notification/set.json";
const GET: &str = "/conversation/type/notification/get.json";

/// A self-signed certificate for localhost, written as PEM files; its DER.
fn certificate(dir: &Path) -> CertificateDer<'static> {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(dir.join("cert.pem"), made.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), made.signing_key.serialize_pem()).unwrap();
    made.cert.der().clone()
}

/// A signed request over TLS, trusting `root` only.
fn send(addr: SocketAddr, root: &CertificateDer<'static>, path: &str, body: &str) -> Result<Answer, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone()).unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connection = rustls::ClientConnection::new(Arc::new(tls), ServerName::try_from("localhost").unwrap()).unwrap();
    let socket = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    socket.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut stream = rustls::StreamOwned::new(connection, socket);
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in Client::new(addr).signed(path) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    stream.write_all(body.as_bytes()).map_err(|e| e.to_string())?;
    read_answer(&mut BufReader::new(stream))
}

#[test]
fn a_signed_request_over_tls_and_a_certificate_reloaded() {
    let data = tempfile::tempdir().unwrap();
    let certs = tempfile::tempdir().unwrap();
    let first = certificate(certs.path());
    let mut c = config();
    c.tls_cert = Some(certs.path().join("cert.pem"));
    c.tls_key = Some(certs.path().join("key.pem"));
    let server = TestServer::start(c, data.path());
    let set = send(server.addr, &first, SET, "conversationType=3&requestId=u&unpushLevel=5").unwrap();
    assert_eq!((set.status, set.body.as_str()), (200, r#"{"code":200}"#));
    let get = send(server.addr, &first, GET, "conversationType=3&requestId=u").unwrap();
    assert_eq!(get.body, r#"{"code":200,"isMuted":5}"#);
    // Plain HTTP to the HTTPS port gets no answer.
    assert!(Client::new(server.addr)
        .try_send("POST", GET, &[], b"conversationType=3&requestId=u")
        .is_err());
    // A new certificate, read again (as on SIGHUP): new connections use it.
    let second = certificate(certs.path());
    server.server.as_ref().unwrap().reload_tls().unwrap();
    let get = send(server.addr, &second, GET, "conversationType=3&requestId=u").unwrap();
    assert_eq!(get.body, r#"{"code":200,"isMuted":5}"#);
    assert!(
        send(server.addr, &first, GET, "conversationType=3&requestId=u").is_err(),
        "the old one is gone"
    );
    // A broken file leaves the certificate in use.
    std::fs::write(certs.path().join("cert.pem"), "not a certificate").unwrap();
    assert!(server.server.as_ref().unwrap().reload_tls().is_err());
    assert_eq!(
        send(server.addr, &second, GET, "conversationType=3&requestId=u")
            .unwrap()
            .status,
        200
    );
}

#[test]
fn a_certificate_without_its_key_refuses_to_start() {
    let data = tempfile::tempdir().unwrap();
    let certs = tempfile::tempdir().unwrap();
    certificate(certs.path());
    let mut c = config();
    c.tls_cert = Some(certs.path().join("cert.pem"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let err = runtime
        .block_on(dnd_server::start(c, data.path(), "127.0.0.1:0".parse().unwrap()))
        .unwrap_err();
    assert!(err.to_string().contains("tls_key"), "{err}");
}

#[test]
fn the_server_reads_its_certificate_again_on_sighup() {
    let data = tempfile::tempdir().unwrap();
    let certs = tempfile::tempdir().unwrap();
    let first = certificate(certs.path());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dnd-server"))
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .arg("--tls-cert")
        .arg(certs.path().join("cert.pem"))
        .arg("--tls-key")
        .arg(certs.path().join("key.pem"))
        .env("DND_APP_KEY", common::KEY)
        .env("DND_APP_SECRET", common::SECRET)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr = dnd_testkit::process::listening(&mut child);
    assert_eq!(
        send(addr, &first, GET, "conversationType=3&requestId=u")
            .unwrap()
            .status,
        200
    );
    let second = certificate(certs.path());
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let started = std::time::Instant::now();
    loop {
        if send(addr, &second, GET, "conversationType=3&requestId=u").is_ok() {
            break;
        }
        assert!(
            started.elapsed() < TIMEOUT,
            "the new certificate is served after SIGHUP"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(child.try_wait().unwrap().is_none(), "SIGHUP does not stop it");
    child.kill().unwrap();
    child.wait().unwrap();
}
