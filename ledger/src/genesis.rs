//! The genesis a node or an auditor starts from: the signed entry that founds
//! a ledger, strictly parsed, signed by its founders and founding a valid
//! consortium, whether it came from a file or from memory.

use std::path::{Path, PathBuf};

use crate::custody::{Member, State};
use crate::entry::{LedgerId, SignedEntry};
use crate::refusal::Refusal;

/// A checked genesis.
// INVARIANT: `state` is `State::from_genesis(&entry)`, which succeeded.
#[derive(Debug, Clone)]
pub struct Genesis {
    entry: SignedEntry,
    state: State,
}

/// Why a genesis file could not be used. Every message names the file.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// The file could not be read.
    #[error("cannot read genesis file {}: {source}", path.display())]
    Read {
        /// The genesis file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a valid signed genesis (malformed JSON, not a signed
    /// entry, not of kind `ledger.genesis`, or a rule it breaks).
    #[error("genesis file {} is not a valid signed genesis: {reason}", path.display())]
    Invalid {
        /// The genesis file.
        path: PathBuf,
        /// What is wrong with it.
        reason: Refusal,
    },
}

impl Genesis {
    /// Reads a genesis file (a signed entry in JSON, as `docs/format.md` describes).
    pub fn read(path: &Path) -> Result<Genesis, GenesisError> {
        let bytes = std::fs::read(path).map_err(|source| GenesisError::Read { path: path.to_owned(), source })?;
        let invalid = |reason: Refusal| GenesisError::Invalid { path: path.to_owned(), reason };
        Genesis::from_entry(SignedEntry::from_json_bytes(&bytes).map_err(invalid)?).map_err(invalid)
    }

    /// Checks a genesis entry: its signatures and the consortium it founds.
    pub fn from_entry(entry: SignedEntry) -> Result<Genesis, Refusal> {
        let state = State::from_genesis(&entry)?;
        Ok(Genesis { entry, state })
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
