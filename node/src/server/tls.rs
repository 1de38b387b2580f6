//! HTTPS served by the node itself, when its config names a certificate and a
//! key ([`TlsFiles`]), so that a phone's browser gets the secure context the
//! site app needs without a proxy in front.
//!
//! rustls on ring, TLS 1.2 and 1.3, ALPN `http/1.1` only (the node speaks
//! HTTP/1.1). The certificate is chosen per handshake by [`Tls`]'s resolver,
//! which holds the current one behind a lock: [`Tls::reload`] reads both files
//! again and swaps the new one in, so renewed certificates are served without
//! a restart while handshakes already under way finish with the one they took.
//! `SIGHUP` asks for a reload ([`Tls::reload_on_hangup`]). The handshake itself
//! runs in each connection's task (`connections.rs`), bounded by the client
//! timeout, never in the accept loop.

use std::sync::{Arc, PoisonError, RwLock};

use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

use crate::config::{ServerCertificate, TlsError, TlsFiles};

/// The node's TLS: its files, the certificate it serves now, and the acceptor
/// connections are handed to.
pub struct Tls {
    files: TlsFiles,
    current: Arc<Current>,
    acceptor: TlsAcceptor,
}

/// The certificate handed to each new handshake. A reload replaces the `Arc`;
/// a handshake holds the one it was given until it ends.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // Writers only store a whole `Arc`, so a poisoned lock still holds a usable one.
        Some(Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner)))
    }
}

impl Tls {
    /// Reads and checks the certificate and key, and sets up the TLS the node serves with.
    pub fn load(files: TlsFiles) -> Result<Tls, TlsError> {
        let first = files.load()?;
        log_loaded(&files, &first, "loaded the TLS certificate");
        let current = Arc::new(Current(RwLock::new(Arc::clone(first.certified_key()))));
        let mut config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Setup)?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(&current) as Arc<dyn ResolvesServerCert>);
        // HTTP/1.1 only: a client offering only h2 is refused in the handshake
        // rather than sent HTTP/1.1 it does not expect.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls { files, current, acceptor: TlsAcceptor::from(Arc::new(config)) })
    }

    /// What accepts TLS connections with the current certificate.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }

    /// Reads both files again and, if they are good, serves the new certificate to
    /// every handshake from now on. If not, the one served so far stays.
    pub fn reload(&self) -> Result<ServerCertificate, TlsError> {
        let loaded = self.files.load()?;
        *self.current.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::clone(loaded.certified_key());
        Ok(loaded)
    }

    /// Reloads the certificate on every `SIGHUP` (as certbot's deploy hook or
    /// `systemctl reload` send it), logging the outcome, for as long as the
    /// runtime runs. The handler is installed before this returns, so a
    /// `SIGHUP` sent afterwards never takes the default action, which would end
    /// the process. Must be called within the tokio runtime.
    #[cfg(unix)]
    pub fn reload_on_hangup(self: &Arc<Self>) -> std::io::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = signal(SignalKind::hangup())?;
        let tls = Arc::clone(self);
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                // Reading two small files: quick enough for the reactor, and
                // rare (an operator's or a renewal hook's signal).
                match tls.reload() {
                    Ok(loaded) => log_loaded(&tls.files, &loaded, "reloaded the TLS certificate"),
                    Err(error) => tracing::error!(
                        %error,
                        "cannot reload the TLS certificate on SIGHUP; still serving the previous one"
                    ),
                }
            }
        });
        Ok(())
    }

    /// Without Unix signals there is nothing to listen for.
    #[cfg(not(unix))]
    pub fn reload_on_hangup(self: &Arc<Self>) -> std::io::Result<()> {
        Ok(())
    }
}

fn log_loaded(files: &TlsFiles, loaded: &ServerCertificate, what: &str) {
    let valid_until = loaded.valid_until().unwrap_or_else(|| "an unreadable date".to_owned());
    tracing::info!(key = %files.key.display(), "{what} ({}, valid until {valid_until})", files.certificate.display());
    if loaded.browsers_refuse() {
        tracing::warn!(
            certificate = %files.certificate.display(),
            "the TLS certificate's key is Ed25519, which browsers refuse: issue an ECDSA P-256 or RSA certificate"
        );
    }
}
