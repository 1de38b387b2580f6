//! The TLS certificate and key a node serves HTTPS with: the two settings that
//! name their files, and reading and checking those files, at start and again
//! on every reload.
//!
//! The certificate file holds the certificate chain in PEM, the server's own
//! certificate first (certbot's `fullchain.pem`); the key file its private key
//! in PEM (PKCS#8, SEC 1 or PKCS#1: certbot's `privkey.pem`, or what `openssl`
//! writes). The key must be the certificate's: a node started with a key of
//! another certificate would fail every handshake, so it is refused at start.
//!
//! Browsers accept ECDSA P-256 (or P-384) and RSA certificates; they refuse
//! Ed25519 ones, which rustls would serve, so a node loading one warns.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::SignatureAlgorithm;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

/// The files of the certificate and key a node serves HTTPS with
/// (`tls_certificate` and `tls_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, PEM, the server's certificate first.
    pub certificate: PathBuf,
    /// The certificate's private key, PEM.
    pub key: PathBuf,
}

/// A certificate chain and its key, read from [`TlsFiles`] and checked to belong together.
#[derive(Debug, Clone)]
pub struct ServerCertificate {
    key: Arc<CertifiedKey>,
    valid_until: Option<NotAfter>,
}

impl ServerCertificate {
    /// The chain with its signing key, as rustls serves it.
    pub fn certified_key(&self) -> &Arc<CertifiedKey> {
        &self.key
    }

    /// When the server's certificate expires, as written in it (`2031-01-02 00:00:00 UTC`);
    /// `None` if its validity could not be read.
    pub fn valid_until(&self) -> Option<String> {
        self.valid_until.map(|not_after| not_after.to_string())
    }

    /// Whether the key is Ed25519, which browsers refuse in TLS.
    pub fn browsers_refuse(&self) -> bool {
        self.key.key.algorithm() == SignatureAlgorithm::ED25519
    }
}

/// Why the TLS certificate or key cannot be served. Every message names the file
/// and what is wrong with it.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read (missing, a directory, not readable).
    // `error`, not `source`: the message already quotes it, and a reload's log
    // line shows the message alone.
    #[error("cannot read TLS {what} file {}: {error}", path.display())]
    Read {
        /// "certificate" or "key".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// A file is not well-formed PEM.
    #[error("TLS {what} file {} is not valid PEM: {message}", path.display())]
    Pem {
        /// "certificate" or "key".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The certificate file holds no certificate.
    #[error(
        "TLS certificate file {} holds no certificate: expected the PEM chain \
         (-----BEGIN CERTIFICATE-----), the server's certificate first",
        path.display()
    )]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The server's certificate is not a certificate rustls can read.
    #[error("TLS certificate file {} does not start with a valid X.509 certificate: {reason}", path.display())]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The key file holds no private key.
    #[error(
        "TLS key file {} holds no private key: expected a PEM private key \
         (-----BEGIN PRIVATE KEY-----, EC PRIVATE KEY or RSA PRIVATE KEY)",
        path.display()
    )]
    NoKey {
        /// The file.
        path: PathBuf,
    },
    /// The key is not one rustls can sign with.
    #[error("TLS key file {} holds no usable key (ECDSA P-256 or P-384, RSA, Ed25519): {reason}", path.display())]
    BadKey {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The key is not the certificate's.
    #[error(
        "TLS key file {} is not the key of the certificate in {}: give the private key that \
         certificate was issued for",
        key.display(),
        certificate.display()
    )]
    KeyMismatch {
        /// The key file.
        key: PathBuf,
        /// The certificate file.
        certificate: PathBuf,
    },
    /// rustls refused its own settings; not a matter of the files.
    #[error("cannot set up TLS: {0}")]
    Setup(rustls::Error),
}

impl TlsFiles {
    /// Reads both files and checks that the key is the certificate's.
    pub fn load(&self) -> Result<ServerCertificate, TlsError> {
        let chain = read_chain(&self.certificate)?;
        let key = read_key(&self.key)?;
        let signing_key = rustls::crypto::ring::default_provider()
            .key_provider
            .load_private_key(key)
            .map_err(|error| TlsError::BadKey { path: self.key.clone(), reason: error.to_string() })?;
        let certified = CertifiedKey::new(chain, signing_key);
        match certified.keys_match() {
            Ok(()) => {}
            Err(rustls::Error::InconsistentKeys(_)) => {
                return Err(TlsError::KeyMismatch { key: self.key.clone(), certificate: self.certificate.clone() });
            }
            Err(error) => {
                return Err(TlsError::BadCertificate { path: self.certificate.clone(), reason: error.to_string() });
            }
        }
        let valid_until = certified.cert.first().and_then(|der| not_after(der));
        Ok(ServerCertificate { key: Arc::new(certified), valid_until })
    }
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let what = "certificate";
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|error| pem_error(what, path, error))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| pem_error(what, path, error))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate { path: path.to_owned() });
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|error| match error {
        pem::Error::NoItemsFound => TlsError::NoKey { path: path.to_owned() },
        error => pem_error("key", path, error),
    })
}

fn pem_error(what: &'static str, path: &Path, error: pem::Error) -> TlsError {
    match error {
        pem::Error::Io(error) => TlsError::Read { what, path: path.to_owned(), error },
        error => TlsError::Pem { what, path: path.to_owned(), message: error.to_string() },
    }
}

/// The end of a certificate's validity, as its `notAfter` field writes it (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NotAfter {
    /// Year, month, day, hour, minute, second.
    parts: [u16; 6],
}

impl fmt::Display for NotAfter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [year, month, day, hour, minute, second] = self.parts;
        write!(f, "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} UTC")
    }
}

/// Reads `notAfter` from a DER certificate (RFC 5280 §4.1: Certificate → tbsCertificate →
/// [version], serialNumber, signature, issuer, validity → notBefore, notAfter), only for the
/// log line an operator checks after renewing; rustls itself never needs it on a server.
fn not_after(der: &[u8]) -> Option<NotAfter> {
    const SEQUENCE: u8 = 0x30;
    let (SEQUENCE, certificate, _) = tlv(der)? else { return None };
    let (SEQUENCE, mut tbs, _) = tlv(certificate)? else { return None };
    // The explicit [0] version is absent from version-1 certificates.
    if tbs.first() == Some(&0xa0) {
        tbs = tlv(tbs)?.2;
    }
    for _ in 0..3 {
        tbs = tlv(tbs)?.2; // serialNumber, signature, issuer
    }
    let (SEQUENCE, validity, _) = tlv(tbs)? else { return None };
    let (tag, time, _) = tlv(tlv(validity)?.2)?;
    let time = std::str::from_utf8(time).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        // UTCTime, YYMMDDHHMMSSZ: years 1950 to 2049.
        0x17 => {
            let yy: u16 = time.get(..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, time.get(2..)?)
        }
        // GeneralizedTime, YYYYMMDDHHMMSSZ.
        0x18 => (time.get(..4)?.parse().ok()?, time.get(4..)?),
        _ => return None,
    };
    let mut parts = [year, 0, 0, 0, 0, 0];
    if rest.len() != 10 {
        return None;
    }
    for (index, part) in parts.iter_mut().skip(1).enumerate() {
        *part = rest.get(index * 2..index * 2 + 2)?.parse().ok()?;
    }
    Some(NotAfter { parts })
}

/// One DER tag-length-value: the tag, the value, and what follows it.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (bytes, rest) = rest.split_at_checked(count)?;
        (bytes.iter().fold(0usize, |length, &byte| (length << 8) | usize::from(byte)), rest)
    };
    let (value, rest) = rest.split_at_checked(length)?;
    Some((tag, value, rest))
}

#[cfg(test)]
mod tests;
