//! Why a node's configuration was refused.

use std::fmt;
use std::path::PathBuf;

use salvage_ledger::custody::MemberId;
use salvage_ledger::entry::{LedgerId, PublicKey};
use salvage_ledger::{LedgerError, Refusal};

use super::Setting;

/// Why `salvage node` cannot start with its configuration. Every message names
/// the file or setting at fault and says what would be right.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read (it is missing, a directory, or not readable).
    #[error("cannot read config file {}: {source}", path.display())]
    ReadFile {
        /// The config file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The config file is not valid TOML, or a value in it is not valid for its key.
    #[error("config file {}{}: {message}", path.display(), at(position))]
    File {
        /// The config file.
        path: PathBuf,
        /// Where in the file, if known.
        position: Option<Position>,
        /// What is wrong.
        message: String,
    },
    /// The config file has a key the node does not know: a typo, or a setting
    /// of another version. Ignoring it would run the node with a default the
    /// operator did not choose.
    #[error("config file {}{}: unknown key `{key}`; the known keys are {expected}", path.display(), at(position))]
    UnknownKey {
        /// The config file.
        path: PathBuf,
        /// Where in the file, if known.
        position: Option<Position>,
        /// The unknown key.
        key: String,
        /// The keys allowed where it stands.
        expected: String,
    },
    /// A setting without a default was given nowhere.
    #[error(
        "no {} given: set `{}` in the config file, pass {}, or set {}",
        setting.description(),
        setting.toml_key(),
        setting.flag(),
        setting.env()
    )]
    Missing {
        /// The setting.
        setting: Setting,
    },
    /// Two peers name the same member; which URL to use would be a guess.
    #[error("peer {member} is listed twice (at {first} and {second}); list each peer once")]
    DuplicatePeer {
        /// The member.
        member: MemberId,
        /// The first URL.
        first: String,
        /// The second URL.
        second: String,
    },
    /// The genesis file could not be read.
    #[error("cannot read genesis file {}: {source}", path.display())]
    ReadGenesis {
        /// The genesis file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The genesis file is not a valid signed genesis (malformed JSON, not a
    /// signed entry, not of kind `ledger.genesis`, or a rule it breaks).
    #[error("genesis file {} is not a valid signed genesis: {reason}", path.display())]
    Genesis {
        /// The genesis file.
        path: PathBuf,
        /// What is wrong with it.
        reason: Refusal,
    },
    /// The operator's key file could not be read.
    #[error("cannot read key file {}: {source}", path.display())]
    ReadKey {
        /// The key file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The key file can be read or changed by other users than its owner, who
    /// could then sign checkpoints in the operator's name.
    #[error(
        "key file {} is accessible to other users (mode {mode:04o}); \
         allow only its owner (and at most read access for its group), e.g. chmod 600",
        path.display()
    )]
    KeyExposed {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file does not hold an unencrypted PKCS#8 Ed25519 private key in PEM.
    #[error("key file {} {reason}", path.display())]
    KeyFormat {
        /// The key file.
        path: PathBuf,
        /// What it holds instead, and how to get the right format.
        reason: String,
    },
    /// The key belongs to no member of the consortium.
    #[error("key {} (ed25519 public key {key}) belongs to no member of consortium {consortium:?}", path.display())]
    KeyNotMember {
        /// The key file.
        path: PathBuf,
        /// Its public key (boxed: a decoded point is large, and errors travel far).
        key: Box<PublicKey>,
        /// The consortium's name.
        consortium: String,
    },
    /// The key belonged to a member but was revoked.
    #[error("key {} (ed25519 public key {key}) of member {member} was revoked; use one of its active keys", path.display())]
    KeyRevoked {
        /// The key file.
        path: PathBuf,
        /// Its public key (boxed: a decoded point is large, and errors travel far).
        key: Box<PublicKey>,
        /// The member it belonged to.
        member: MemberId,
    },
    /// The key's member may not run a node: it lacks the `operator` role.
    #[error(
        "key {} (ed25519 public key {key}) belongs to member {member}, which is not an operator of consortium \
         {consortium:?} (operators: {})",
        path.display(),
        list(operators)
    )]
    NotOperator {
        /// The key file.
        path: PathBuf,
        /// Its public key (boxed: a decoded point is large, and errors travel far).
        key: Box<PublicKey>,
        /// The member it belongs to.
        member: MemberId,
        /// The consortium's name.
        consortium: String,
        /// The members that are operators.
        operators: Vec<MemberId>,
    },
    /// The data directory holds another ledger than the genesis file founds.
    #[error(
        "data directory {} holds ledger {found}, but genesis file {} founds ledger {expected}; \
         point the data directory at that ledger's directory or the genesis at its genesis file",
        data_dir.display(),
        genesis_file.display()
    )]
    WrongLedger {
        /// The data directory.
        data_dir: PathBuf,
        /// The ledger it holds.
        found: LedgerId,
        /// The genesis file.
        genesis_file: PathBuf,
        /// The ledger the genesis founds.
        expected: LedgerId,
    },
    /// The ledger in the data directory could not be opened or created.
    #[error("cannot open the ledger in data directory {}: {source}", data_dir.display())]
    Ledger {
        /// The data directory.
        data_dir: PathBuf,
        /// The underlying error.
        source: LedgerError,
    },
}

/// A place in a config file, counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The line.
    pub line: usize,
    /// The column, in characters.
    pub column: usize,
}

impl Position {
    /// The position of a byte offset in a text (clamped to its end).
    pub fn of_offset(text: &str, offset: usize) -> Position {
        let mut before = text.get(..offset.min(text.len())).unwrap_or(text);
        // An offset inside a multi-byte character counts from that character's start.
        let mut end = offset.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
            before = text.get(..end).unwrap_or_default();
        }
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
        Position { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

fn at(position: &Option<Position>) -> String {
    position.map(|p| format!(" at {p}")).unwrap_or_default()
}

fn list(members: &[MemberId]) -> String {
    if members.is_empty() {
        return "none".to_owned();
    }
    members.iter().map(MemberId::as_str).collect::<Vec<_>>().join(", ")
}
