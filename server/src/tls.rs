//! HTTPS: the certificate and key from PEM files, served with rustls, and
//! read again on SIGHUP (or [`Tls::reload`]) without dropping a connection.
//!
//! The platform's signature covers neither the path nor the body, so over
//! plain HTTP anyone on the path can change a signed request; see
//! `docs/service.md` for when plain HTTP is safe.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// The certificate in use and the files it came from.
#[derive(Debug)]
pub struct Tls {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<ServerConfig>>,
}

fn invalid(path: &Path, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{}: {what}", path.display()))
}

fn load(cert: &Path, key: &Path) -> io::Result<Arc<ServerConfig>> {
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| invalid(cert, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(cert, e))?;
    if certs.is_empty() {
        return Err(invalid(cert, "no certificate in the file"));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| invalid(key, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(certs, private)
        .map_err(|e| invalid(key, format!("the key does not fit the certificate: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

impl Tls {
    /// Reads the certificate chain and key (PEM) from `cert` and `key`.
    pub fn new(cert: &Path, key: &Path) -> io::Result<Tls> {
        Ok(Tls {
            cert: cert.to_owned(),
            key: key.to_owned(),
            current: RwLock::new(load(cert, key)?),
        })
    }

    /// The TLS settings of a configuration: none without `tls_cert` and
    /// `tls_key`; an error if only one is given or the files do not load.
    pub fn of(config: &crate::Config) -> io::Result<Option<Arc<Tls>>> {
        match (&config.tls_cert, &config.tls_key) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => Ok(Some(Arc::new(Tls::new(cert, key)?))),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "tls_cert and tls_key (--tls-cert, --tls-key) are given together or not at all",
            )),
        }
    }

    /// Reads the files again; new connections use them, connections open
    /// keep theirs. On an error the certificate in use stays.
    pub fn reload(&self) -> io::Result<()> {
        let fresh = load(&self.cert, &self.key)?;
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// An acceptor with the certificate in use now.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(
            self.current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        )
    }
}
