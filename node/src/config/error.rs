//! Why a node's configuration was refused.

use std::fmt;
use std::path::PathBuf;

use salvage_ledger::LedgerError;
use salvage_ledger::custody::MemberId;
use salvage_ledger::entry::LedgerId;
use salvage_ledger::genesis::GenesisError;
use salvage_ledger::key::KeyFileError;
use salvage_ledger::operator::NotAnOperator;

use super::Setting;
use super::tls::TlsError;

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
    /// One of the two TLS settings was given without the other: serving plain
    /// HTTP where HTTPS was meant would be a silent downgrade.
    #[error(
        "{} given without {}: serving HTTPS needs both; set `{}` in the config file, pass {}, or set {} \
         (or give neither to serve plain HTTP)",
        given.description(),
        missing.description(),
        missing.toml_key(),
        missing.flag(),
        missing.env()
    )]
    TlsIncomplete {
        /// The setting that was given.
        given: Setting,
        /// The one that is missing.
        missing: Setting,
    },
    /// TLS on a consortium node, whose peers speak plain HTTP to its listen address.
    #[error(
        "`tls_certificate` and `tls_key` are for a standalone node: a consortium node's peers reach it \
         over plain HTTP at its listen address; serve its public side over HTTPS through a reverse proxy instead"
    )]
    TlsWithPeers,
    /// The TLS certificate or key file cannot be served.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The genesis file is missing or not a valid signed genesis.
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    /// The operator's key file is missing, exposed to other users or not an Ed25519 PKCS#8 key.
    #[error(transparent)]
    Key(#[from] KeyFileError),
    /// The key is not an active key of an operator of the consortium.
    #[error(transparent)]
    NotOperator(#[from] NotAnOperator),
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
