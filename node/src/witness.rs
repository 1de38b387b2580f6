//! The node as a witness of its consortium's log: it signs or cosigns a
//! checkpoint only if the checkpoint is consistent with the last one it signed.
//!
//! A checkpoint is a promise about the whole history up to its size. A node
//! that signed size `s₀` with root `r₀` must never sign a checkpoint whose tree
//! does not extend that one, or two people could be shown two histories, each
//! with valid signatures. So before signing size `s` with root `r`, the node
//! checks, against its own copy of the ledger:
//!
//! - the origin names this ledger, and the node holds at least `s` records;
//! - its own root at size `s` is `r` (the checkpoint describes the history it holds);
//! - a consistency proof from `(s₀, r₀)` to `(s, r)` verifies, `s ≥ s₀`.
//!
//! The first failure of the last two is an **alarm**: the checkpoint (or the
//! node's own ledger) contradicts history the node already vouched for. The
//! node refuses, logs it at error level and keeps it for `GET /v1/status` and
//! `/metrics`. What was last signed is kept in a small file, written and
//! fsynced before the signature leaves the node, so a restart keeps the promise.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use salvage_ledger::checkpoint::Checkpoint;
use salvage_ledger::merkle::{Blake3Hasher, verify_consistency};
use salvage_ledger::store::{Ledger, checkpoint_origin};
use serde::{Deserialize, Serialize};

/// The most alarms kept for `GET /v1/status`; the count in `/metrics` goes on.
const ALARMS_KEPT: usize = 16;

/// What this node last signed, and the alarms it raised.
pub struct Witness {
    path: PathBuf,
    // INVARIANT: `state.last` is what the file at `path` holds: it is written
    // (and fsynced) before the in-memory copy changes.
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    last: Option<Signed>,
    alarms: Vec<String>,
    alarm_count: u64,
}

/// A checkpoint this node signed: its size and root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Signed {
    size: u64,
    // Hex, as everywhere else a root is shown.
    root: String,
}

/// Why the node would not sign a checkpoint.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Declined {
    /// The checkpoint is of another log.
    #[error("the checkpoint's origin {found:?} is not this ledger's ({expected:?})")]
    OtherLog {
        /// This ledger's origin.
        expected: String,
        /// The checkpoint's.
        found: String,
    },
    /// The node does not hold that many records yet (it may be catching up).
    #[error("the checkpoint covers {size} records but this node holds only {held} so far")]
    Ahead {
        /// The checkpoint's size.
        size: u64,
        /// The node's ledger size.
        held: u64,
    },
    /// The checkpoint is older than one this node signed already.
    #[error("the checkpoint of size {size} is older than the one of size {last} this node signed")]
    Older {
        /// The checkpoint's size.
        size: u64,
        /// The size this node last signed.
        last: u64,
    },
    /// The checkpoint contradicts history this node holds or signed: an alarm.
    #[error("ALARM: {0}")]
    Inconsistent(String),
    /// The node's own ledger or its witness file could not be read or written.
    #[error("{0}")]
    Io(String),
}

/// Why the witness file could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// It could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It does not hold what this version writes.
    #[error("{path} is damaged: {reason}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl Witness {
    /// Opens the witness file at `path` (absent on a node that never signed).
    pub fn open(path: &Path) -> Result<Witness, WitnessError> {
        let last = match fs::read(path) {
            Ok(bytes) => Some(
                serde_json::from_slice(&bytes)
                    .map_err(|e| WitnessError::Damaged { path: path.to_owned(), reason: e.to_string() })?,
            ),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(WitnessError::Read { path: path.to_owned(), source }),
        };
        Ok(Witness { path: path.to_owned(), state: Mutex::new(State { last, ..State::default() }) })
    }

    /// Checks `checkpoint` against `ledger` and what this node last signed (see
    /// the module doc) and, if it may be signed, records it as the last signed.
    /// `from` names who presented it, for the alarm.
    ///
    /// Blocking: reads the ledger and fsyncs the witness file.
    pub fn admit(&self, ledger: &Ledger, checkpoint: &Checkpoint, from: &str) -> Result<(), Declined> {
        let origin = checkpoint_origin(&ledger.ledger_id());
        if checkpoint.origin() != origin {
            return Err(Declined::OtherLog { expected: origin, found: checkpoint.origin().to_owned() });
        }
        let (size, root) = (checkpoint.size(), *checkpoint.root());
        let held = ledger.size();
        if size > held {
            return Err(Declined::Ahead { size, held });
        }
        let mut state =
            self.state.lock().map_err(|_| Declined::Io("a thread panicked while signing a checkpoint".to_owned()))?;
        let own = ledger.root_at(size).map_err(|e| Declined::Io(e.to_string()))?;
        if own != root {
            return Err(self.alarm(
                &mut state,
                format!("{from} presented a checkpoint of size {size} with root {}, but this node's ledger has root {} at that size", hex::encode(root), hex::encode(own)),
            ));
        }
        if let Some(last) = state.last.clone() {
            let last_root =
                parse_root(&last.root).map_err(|reason| Declined::Io(format!("{}: {reason}", self.path.display())))?;
            if size < last.size {
                return Err(Declined::Older { size, last: last.size });
            }
            let proof = ledger.consistency_proof(last.size, size).map_err(|e| Declined::Io(e.to_string()))?;
            if let Err(error) = verify_consistency::<Blake3Hasher>(last.size, size, &last_root, &root, &proof) {
                return Err(self.alarm(
                    &mut state,
                    format!(
                        "the checkpoint of size {size} from {from} is not consistent with the checkpoint of size {} (root {}) this node signed before: {error}",
                        last.size, last.root
                    ),
                ));
            }
            if last.size == size {
                return Ok(());
            }
        }
        let signed = Signed { size, root: hex::encode(root) };
        self.persist(&signed).map_err(|e| Declined::Io(format!("writing {}: {e}", self.path.display())))?;
        state.last = Some(signed);
        Ok(())
    }

    /// The alarms raised since the node started, the latest last (at most 16).
    pub fn alarms(&self) -> Vec<String> {
        self.state.lock().map(|state| state.alarms.clone()).unwrap_or_default()
    }

    /// How many alarms were raised since the node started.
    pub fn alarm_count(&self) -> u64 {
        self.state.lock().map(|state| state.alarm_count).unwrap_or_default()
    }

    fn alarm(&self, state: &mut State, message: String) -> Declined {
        tracing::error!(alarm = %message, "refused to sign an inconsistent checkpoint");
        state.alarm_count += 1;
        if state.alarms.len() == ALARMS_KEPT {
            state.alarms.remove(0);
        }
        state.alarms.push(message.clone());
        Declined::Inconsistent(message)
    }

    /// Replaces the file atomically: a crash leaves the old promise or the new one.
    fn persist(&self, signed: &Signed) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(signed).map_err(std::io::Error::other)?;
        let temporary = self.path.with_extension("tmp");
        let mut file = fs::File::create(&temporary)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, &self.path)?;
        if let Some(dir) = self.path.parent() {
            fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

fn parse_root(text: &str) -> Result<[u8; 32], String> {
    let mut root = [0u8; 32];
    hex::decode_to_slice(text, &mut root).map_err(|e| format!("the root {text:?} is not 64 hex digits: {e}"))?;
    Ok(root)
}

#[cfg(test)]
mod tests {
    use salvage_ledger::testkit::Fixture;

    use super::*;

    fn ledger_of(fixture: &Fixture, dir: &Path, items: usize) -> Ledger {
        let ledger = Ledger::create(dir, fixture.genesis.clone()).unwrap();
        for n in 0..items {
            ledger
                .submit(vec![fixture.register("baltic-demolition", &format!("4750001WIT-{n}"), "door", 30.0)])
                .unwrap();
        }
        ledger
    }

    #[test]
    fn a_growing_ledger_is_admitted_and_the_promise_survives_a_restart() {
        let (fixture, dir) = (Fixture::new(), tempfile::tempdir().unwrap());
        let ledger = ledger_of(&fixture, &dir.path().join("ledger"), 3);
        let path = dir.path().join("witness.json");
        let witness = Witness::open(&path).unwrap();
        let small = ledger.checkpoint().unwrap();
        witness.admit(&ledger, &small, "test").unwrap();
        ledger.submit(vec![fixture.register("baltic-demolition", "4750001WIT-9", "door", 30.0)]).unwrap();
        witness.admit(&ledger, &ledger.checkpoint().unwrap(), "test").unwrap();
        let reopened = Witness::open(&path).unwrap();
        assert!(matches!(reopened.admit(&ledger, &small, "test"), Err(Declined::Older { size: 4, last: 5 })));
        assert!(reopened.alarms().is_empty());
    }

    #[test]
    fn a_checkpoint_of_another_history_raises_an_alarm_and_is_refused() {
        let (fixture, dir) = (Fixture::new(), tempfile::tempdir().unwrap());
        let ours = ledger_of(&fixture, &dir.path().join("ours"), 3);
        // Another ledger of the same genesis with a different record 1.
        let theirs = Ledger::create(&dir.path().join("theirs"), fixture.genesis.clone()).unwrap();
        theirs.submit(vec![fixture.register("baltic-demolition", "4750001OTHER-1", "beam", 300.0)]).unwrap();
        let witness = Witness::open(&dir.path().join("witness.json")).unwrap();
        let refused = witness.admit(&ours, &theirs.checkpoint().unwrap(), "city-of-jelgava").unwrap_err();
        assert!(matches!(refused, Declined::Inconsistent(_)), "{refused}");
        assert!(refused.to_string().contains("city-of-jelgava"), "{refused}");
        assert_eq!(witness.alarm_count(), 1);
        assert_eq!(witness.alarms().len(), 1);
        // The node's own checkpoint is still fine, and a larger one than it holds waits.
        witness.admit(&ours, &ours.checkpoint().unwrap(), "self").unwrap();
        let ahead = ledger_of(&fixture, &dir.path().join("ahead"), 9).checkpoint().unwrap();
        assert!(matches!(witness.admit(&ours, &ahead, "x"), Err(Declined::Ahead { size: 10, held: 4 })));
    }

    #[test]
    fn a_ledger_replaced_by_another_history_cannot_sign_past_what_was_signed() {
        let (fixture, dir) = (Fixture::new(), tempfile::tempdir().unwrap());
        let path = dir.path().join("witness.json");
        let first = ledger_of(&fixture, &dir.path().join("first"), 3);
        Witness::open(&path).unwrap().admit(&first, &first.checkpoint().unwrap(), "self").unwrap();
        // The data directory is swapped for a longer ledger with another history.
        let other = Ledger::create(&dir.path().join("other"), fixture.genesis.clone()).unwrap();
        for n in 0..6 {
            other
                .submit(vec![fixture.register("baltic-demolition", &format!("4750001SWAP-{n}"), "door", 30.0)])
                .unwrap();
        }
        let witness = Witness::open(&path).unwrap();
        let refused = witness.admit(&other, &other.checkpoint().unwrap(), "self").unwrap_err();
        assert!(refused.to_string().contains("not consistent with the checkpoint of size 4"), "{refused}");
    }
}
