//! A member's private key in its file: an unencrypted PKCS#8 Ed25519 key in PEM
//! (`-----BEGIN PRIVATE KEY-----`), as `openssl genpkey -algorithm ed25519` and
//! `salvage key new` write it.
//!
//! On Unix the file must not be accessible to other users and not writable by
//! its group (`chmod 600`, or `640` with a group for a service account):
//! whoever reads it can sign in the member's name, so a node refuses to start,
//! as `ssh` does, rather than warn into a log nobody reads. The CLI's commands
//! read keys the same way.

use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, PrivateKeyInfoRef, SecretDocument};

use super::PublicKey;

/// A private key read from its file.
pub struct KeyFile {
    path: PathBuf,
    key: SigningKey,
}

/// Why a key file could not be used. Every message names the file.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read.
    #[error("cannot read key file {}: {source}", path.display())]
    Read {
        /// The key file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file can be read or changed by other users than its owner, who
    /// could then sign in its member's name.
    #[error(
        "key file {} is accessible to other users (mode {mode:04o}); \
         allow only its owner (and at most read access for its group), e.g. chmod 600",
        path.display()
    )]
    Exposed {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file does not hold an unencrypted PKCS#8 Ed25519 private key in PEM.
    #[error("key file {} {reason}", path.display())]
    Format {
        /// The key file.
        path: PathBuf,
        /// What it holds instead, and how to get the right format.
        reason: String,
    },
}

impl KeyFile {
    /// Reads an unencrypted PKCS#8 Ed25519 private key in PEM, refusing a file
    /// that other users can access (on Unix; see the module documentation).
    pub fn read(path: &Path) -> Result<KeyFile, KeyFileError> {
        let read_error = |source| KeyFileError::Read { path: path.to_owned(), source };
        let metadata = std::fs::metadata(path).map_err(read_error)?;
        check_permissions(path, &metadata)?;
        let bytes = std::fs::read(path).map_err(read_error)?;
        let key = decode_pem(&bytes).map_err(|reason| KeyFileError::Format { path: path.to_owned(), reason })?;
        Ok(KeyFile { path: path.to_owned(), key })
    }

    /// The key file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The public half of the key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::of(&self.key)
    }

    /// The private key, for a member that signs entries with it (the CLI); a
    /// node signs only as the [`Operator`](crate::operator::Operator) the key
    /// is identified as.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The private key, leaving the file behind.
    pub fn into_signing_key(self) -> SigningKey {
        self.key
    }
}

impl fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private half, so that a debug log cannot leak it.
        f.debug_struct("KeyFile").field("path", &self.path).field("public_key", &self.public_key()).finish()
    }
}

/// Refuses a key file that others than its owner may write or that users
/// outside its group may read (group read is the usual way to let a service
/// account read a key owned by root).
#[cfg(unix)]
fn check_permissions(path: &Path, metadata: &std::fs::Metadata) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o027 != 0 {
        return Err(KeyFileError::Exposed { path: path.to_owned(), mode });
    }
    Ok(())
}

/// Other systems have no permission bits to check.
#[cfg(not(unix))]
fn check_permissions(_path: &Path, _metadata: &std::fs::Metadata) -> Result<(), KeyFileError> {
    Ok(())
}

/// Decodes a PKCS#8 Ed25519 key from PEM; the error says what the file holds instead.
fn decode_pem(bytes: &[u8]) -> Result<SigningKey, String> {
    const HOW: &str = "write one with `openssl genpkey -algorithm ed25519 -out KEY.pem`";
    let text = std::str::from_utf8(bytes).map_err(|_| format!("is not a PEM text file; {HOW}"))?;
    let Some(label) = text.lines().find_map(|line| line.trim().strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
    else {
        return Err(format!("holds no PEM block (-----BEGIN PRIVATE KEY-----); {HOW}"));
    };
    match label {
        "PRIVATE KEY" => {}
        "ENCRYPTED PRIVATE KEY" => {
            return Err("holds an encrypted key, which the node cannot open unattended; decrypt it with \
                 `openssl pkey -in KEY.pem -out PLAIN.pem` and protect the file instead"
                .to_owned());
        }
        "OPENSSH PRIVATE KEY" => {
            return Err(format!(
                "holds an OpenSSH key, not PKCS#8; convert it with `ssh-keygen -p -m PKCS8 -f KEY` or {HOW}"
            ));
        }
        other => return Err(format!("holds a PEM block labelled {other:?}, not \"PRIVATE KEY\" (PKCS#8); {HOW}")),
    }
    let (_, document) = SecretDocument::from_pem(text).map_err(|e| format!("holds a malformed PEM block: {e}"))?;
    let info = PrivateKeyInfoRef::try_from(document.as_bytes())
        .map_err(|e| format!("holds a PRIVATE KEY block that is not valid PKCS#8: {e}"))?;
    if info.algorithm.oid != ed25519_dalek::pkcs8::ALGORITHM_OID {
        return Err(format!(
            "holds a private key of another algorithm (OID {}), not Ed25519; {HOW}",
            info.algorithm.oid
        ));
    }
    SigningKey::from_pkcs8_der(document.as_bytes()).map_err(|e| format!("holds a malformed Ed25519 key: {e}"))
}
