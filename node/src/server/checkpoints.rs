//! The node's signed checkpoint: the operator signs the ledger's checkpoint
//! once per size, after its [`Witness`] admits it, and keeps it (with the
//! cosignatures a consortium's other nodes add later) for every reader.

use std::sync::{Arc, Mutex, PoisonError};

use axum::http::StatusCode;
use salvage_ledger::checkpoint::{NoteSigner, SignedCheckpoint};
use salvage_ledger::operator::Operator;
use salvage_ledger::store::Ledger;

use super::blocking::on_ledger;
use super::cache::CheckpointCache;
use super::error::ApiError;
use crate::witness::{Declined, Witness, WitnessError};

/// The file in the data directory that holds the last checkpoint the node signed.
const WITNESS_FILE: &str = "witness.json";

/// Signs and keeps the checkpoint of one ledger as its node's operator.
pub struct Checkpoints {
    ledger: Arc<Ledger>,
    operator: Operator,
    witness: Witness,
    kept: CheckpointCache,
    // Held from reading the ledger's checkpoint to keeping its signature: two requests that
    // read the ledger at two sizes must pass the witness in the order of their sizes, or it
    // refuses the smaller one as older than what it has just signed.
    signing: Mutex<()>,
}

impl Checkpoints {
    /// Signs `ledger`'s checkpoints as `operator`, through the witness kept
    /// in the ledger's directory.
    pub(crate) fn open(ledger: &Arc<Ledger>, operator: Operator) -> Result<Arc<Checkpoints>, WitnessError> {
        let witness = Witness::open(&ledger.dir().join(WITNESS_FILE))?;
        Ok(Arc::new(Checkpoints {
            ledger: Arc::clone(ledger),
            operator,
            witness,
            kept: CheckpointCache::default(),
            signing: Mutex::new(()),
        }))
    }

    /// The ledger's current checkpoint, signed by this node's operator once per
    /// ledger size (Ed25519 signatures are deterministic: signing again would
    /// give the same note), with any cosignatures kept since.
    pub(crate) async fn current(self: &Arc<Self>) -> Result<Arc<SignedCheckpoint>, ApiError> {
        // The size is an atomic read, cheap enough for the reactor.
        if let Some(signed) = self.kept_at(self.ledger.size()) {
            return Ok(signed);
        }
        // The node's own checkpoint passes its witness too: a node whose ledger
        // no longer extends what it signed before refuses to sign.
        let this = Arc::clone(self);
        on_ledger(&self.ledger, move |ledger| {
            let _one_signer = this.signing.lock().unwrap_or_else(PoisonError::into_inner);
            // Read under the lock, the size is at least any size this path signed before. A
            // consortium peer's checkpoint cosigned meanwhile may be larger (it does not take the
            // lock); the ledger holds it by then, so reading again gives a size the witness takes.
            let mut attempts = 0;
            let checkpoint = loop {
                let checkpoint = ledger.checkpoint()?;
                if let Some(signed) = this.kept_at(checkpoint.size()) {
                    return Ok(signed);
                }
                match this.witness.admit(ledger, &checkpoint, "this node's own ledger") {
                    Ok(()) => break checkpoint,
                    Err(Declined::Older { .. }) if attempts < 3 => attempts += 1,
                    Err(refusal) => {
                        return Err(ApiError::new(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "checkpoint.inconsistent",
                            format!("this node will not sign its checkpoint: {refusal}"),
                        ));
                    }
                }
            };
            let signed = SignedCheckpoint::sign(checkpoint, &this.note_signer())
                .map_err(|e| ApiError::internal(format!("cannot sign the checkpoint: {e}")))?;
            let signed = Arc::new(signed);
            this.kept.keep(Arc::clone(&signed));
            Ok(signed)
        })
        .await
    }

    /// The signed checkpoint kept for tree size `size`, if any.
    pub(crate) fn kept_at(&self, size: u64) -> Option<Arc<SignedCheckpoint>> {
        self.kept.at(size)
    }

    /// Keeps `checkpoint` (the current one with more cosignatures) for readers.
    pub(crate) fn keep(&self, checkpoint: Arc<SignedCheckpoint>) {
        self.kept.keep(checkpoint);
    }

    /// The operator that signs.
    pub(crate) fn operator(&self) -> &Operator {
        &self.operator
    }

    /// The signer of checkpoint notes and cosignatures: the operator's key
    /// under its member id.
    pub(crate) fn note_signer(&self) -> NoteSigner<'_> {
        self.operator.note_signer()
    }

    /// What this node signed, and the alarms raised when it refused to.
    pub(crate) fn witness(&self) -> &Witness {
        &self.witness
    }
}
