//! The files a node starts from besides its config: the genesis of its ledger
//! and its operator's key, and the check that the key may run a node.

use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, PrivateKeyInfoRef, SecretDocument};
use salvage_ledger::Refusal;
use salvage_ledger::checkpoint::NoteSigner;
use salvage_ledger::custody::{Member, MemberId, Role, State};
use salvage_ledger::entry::{LedgerId, PublicKey, SignedEntry};

use super::ConfigError;

/// A genesis read from its file: strictly parsed, signed by its founders and
/// founding a valid consortium.
// INVARIANT: `state` is `State::from_genesis(&entry)`, which succeeded.
#[derive(Debug, Clone)]
pub struct Genesis {
    path: PathBuf,
    entry: SignedEntry,
    state: State,
}

impl Genesis {
    /// Reads a genesis file (a signed entry in JSON, as `docs/format.md` describes).
    pub fn read(path: &Path) -> Result<Genesis, ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::ReadGenesis { path: path.to_owned(), source })?;
        let invalid = |reason: Refusal| ConfigError::Genesis { path: path.to_owned(), reason };
        let entry = SignedEntry::from_json_bytes(&bytes).map_err(invalid)?;
        let state = State::from_genesis(&entry).map_err(invalid)?;
        Ok(Genesis { path: path.to_owned(), entry, state })
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The signed genesis entry.
    pub fn entry(&self) -> &SignedEntry {
        &self.entry
    }

    /// The id of the ledger it founds.
    pub fn ledger_id(&self) -> LedgerId {
        LedgerId(self.entry.id().0)
    }

    /// The consortium's name.
    pub fn consortium(&self) -> &str {
        &self.state.consortium().name
    }

    /// The founding members, as the genesis lists them (before any later change).
    pub fn founders(&self) -> impl Iterator<Item = &Member> {
        self.state.members()
    }
}

/// A private key read from the operator's key file, not yet known to belong
/// to an operator.
pub struct OperatorKey {
    path: PathBuf,
    key: SigningKey,
}

impl OperatorKey {
    /// Reads an unencrypted PKCS#8 Ed25519 private key in PEM, refusing a file
    /// that other users can access (on Unix; see the module documentation).
    pub fn read(path: &Path) -> Result<OperatorKey, ConfigError> {
        let read_error = |source| ConfigError::ReadKey { path: path.to_owned(), source };
        let metadata = std::fs::metadata(path).map_err(read_error)?;
        check_permissions(path, &metadata)?;
        let bytes = std::fs::read(path).map_err(read_error)?;
        let key = decode_pem(&bytes).map_err(|reason| ConfigError::KeyFormat { path: path.to_owned(), reason })?;
        Ok(OperatorKey { path: path.to_owned(), key })
    }

    /// The key file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The public half of the key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::of(&self.key)
    }

    /// The private key, for a member that signs entries with it (the CLI);
    /// a node signs only through [`OperatorKey::identify`]'s operator.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Finds the member the key belongs to and checks that it may run a node:
    /// the key is one of its active keys and it has the `operator` role.
    ///
    /// `members` are the consortium's members now: [`Ledger::members`] once the
    /// ledger is open (keys may have been rotated and roles changed since the
    /// genesis), or [`Genesis::founders`] to check before opening it.
    ///
    /// [`Ledger::members`]: salvage_ledger::Ledger::members
    pub fn identify<'a>(
        self,
        genesis: &Genesis,
        members: impl IntoIterator<Item = &'a Member>,
    ) -> Result<Operator, ConfigError> {
        let public_key = self.public_key();
        let members: Vec<&Member> = members.into_iter().collect();
        let Some(member) = members.iter().find(|member| member.keys.contains_key(&public_key)) else {
            return Err(ConfigError::KeyNotMember {
                path: self.path,
                key: Box::new(public_key),
                consortium: genesis.consortium().to_owned(),
            });
        };
        if !member.active_keys().any(|key| *key == public_key) {
            return Err(ConfigError::KeyRevoked {
                path: self.path,
                key: Box::new(public_key),
                member: member.id.clone(),
            });
        }
        if !member.has_role(Role::Operator) {
            return Err(ConfigError::NotOperator {
                path: self.path,
                key: Box::new(public_key),
                member: member.id.clone(),
                consortium: genesis.consortium().to_owned(),
                operators: members.iter().filter(|m| m.has_role(Role::Operator)).map(|m| m.id.clone()).collect(),
            });
        }
        Ok(Operator { member: member.id.clone(), key: self.key })
    }
}

impl fmt::Debug for OperatorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private half, so that a debug log cannot leak it.
        f.debug_struct("OperatorKey").field("path", &self.path).field("public_key", &self.public_key()).finish()
    }
}

/// The member this node runs for and the key it signs checkpoints with.
pub struct Operator {
    member: MemberId,
    key: SigningKey,
}

impl Operator {
    /// The operator member.
    pub fn member(&self) -> &MemberId {
        &self.member
    }

    /// The signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The public half of the signing key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::of(&self.key)
    }

    /// The signer of checkpoint notes: the key name is the member id.
    pub fn note_signer(&self) -> NoteSigner<'_> {
        NoteSigner { name: self.member.as_str(), key: &self.key }
    }
}

impl fmt::Debug for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operator").field("member", &self.member).field("public_key", &self.public_key()).finish()
    }
}

/// Refuses a key file that others than its owner may write or that users
/// outside its group may read (group read is the usual way to let a service
/// account read a key owned by root).
#[cfg(unix)]
fn check_permissions(path: &Path, metadata: &std::fs::Metadata) -> Result<(), ConfigError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o027 != 0 {
        return Err(ConfigError::KeyExposed { path: path.to_owned(), mode });
    }
    Ok(())
}

/// Other systems have no permission bits to check.
#[cfg(not(unix))]
fn check_permissions(_path: &Path, _metadata: &std::fs::Metadata) -> Result<(), ConfigError> {
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
