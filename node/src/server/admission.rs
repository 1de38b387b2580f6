//! What a consortium node checks before it proposes a submission: every
//! entry's signatures and schema, so that nothing unverified reaches Raft's
//! log (fsynced on every node), within a bound on the work one submission
//! may cost.
//!
//! The signatures are checked [`CHUNK`] entries at a time, in order; once
//! [`MAX_INVALID_SIGNATURES`] of them have failed, the rest of the submission
//! is refused unchecked (`signature.unchecked`). A thousand forged entries then
//! cost the node sixteen verifications rather than a thousand, while an honest
//! submission, whose signatures verify, is checked whole. Every node judges the
//! proposed entries again, against its ledger, when it applies them.

use salvage_ledger::custody::{LedgerFormat, VerifiedEntry};
use salvage_ledger::refusal::{Refusal, RefusalCode};

use super::commits::Submitted;

/// How many of one submission's signatures may fail before the node stops
/// checking the rest.
pub(crate) const MAX_INVALID_SIGNATURES: usize = 16;

/// Submissions of more entries than this are verified in the node's bulk
/// lane (`blocking::BulkLane`), a few at a time.
pub(crate) const SMALL_SUBMISSION: usize = CHUNK;

/// Entries verified together: enough for the shared work of checking many
/// signatures at once, few enough that a forged submission is given up early.
const CHUNK: usize = 16;

/// The verdict on each of `entries`, in order, as [`VerifiedEntry::verify_each`]
/// gives it, except that the entries after the chunk in which the
/// [`MAX_INVALID_SIGNATURES`]th signature failed are refused unchecked.
pub(crate) fn verify_submission(format: LedgerFormat, entries: Vec<Submitted>) -> Vec<Result<VerifiedEntry, Refusal>> {
    let mut verdicts = Vec::with_capacity(entries.len());
    let mut invalid = 0;
    let mut entries = entries.into_iter().peekable();
    while entries.peek().is_some() {
        let chunk: Vec<Submitted> = entries.by_ref().take(CHUNK).collect();
        if invalid >= MAX_INVALID_SIGNATURES {
            verdicts.extend(chunk.iter().map(|entry| {
                Err(Refusal::new(
                    RefusalCode::SignatureUnchecked,
                    format!(
                        "entry {} was not checked: {invalid} signatures of this submission before it did not verify, \
                         and a node stops checking a submission after {MAX_INVALID_SIGNATURES}; fix the signatures \
                         and submit it again",
                        entry.0.id()
                    ),
                ))
            }));
            continue;
        }
        for verdict in VerifiedEntry::verify_each_disclosed(format, chunk) {
            invalid += usize::from(matches!(&verdict, Err(refusal) if refusal.code == RefusalCode::SignatureInvalid));
            verdicts.push(verdict);
        }
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use salvage_ledger::entry::{Kind, SignedEntry};
    use salvage_ledger::testkit::{Fixture, passport};
    use serde_json::json;

    use super::*;

    /// `count` item registrations by one member; those in `forged` carry a
    /// signature over another statement.
    fn entries(count: usize, forged: impl Fn(usize) -> bool) -> Vec<Submitted> {
        let fixture = Fixture::new();
        let other = fixture.signed(&["baltic-demolition"], Kind::ItemRegister, register(usize::MAX));
        (0..count)
            .map(|number| {
                let entry = fixture.signed(&["baltic-demolition"], Kind::ItemRegister, register(number));
                if !forged(number) {
                    return entry;
                }
                let mut value = entry.to_value();
                value["signatures"] = other.to_value()["signatures"].clone();
                SignedEntry::from_value(value).expect("still a signed entry")
            })
            .map(|entry| (entry, Vec::new()))
            .collect()
    }

    fn register(number: usize) -> serde_json::Value {
        let giai = format!("4750001BEAM-{number:05}");
        json!({"giai": giai, "passport": passport(&giai, "beam", 10.0)})
    }

    fn codes(verdicts: &[Result<VerifiedEntry, Refusal>]) -> Vec<&'static str> {
        verdicts.iter().map(|verdict| verdict.as_ref().map_or_else(|refusal| refusal.code.as_str(), |_| "ok")).collect()
    }

    #[test]
    fn an_honest_submission_is_checked_whole() {
        let verdicts = verify_submission(LedgerFormat::V1, entries(40, |_| false));
        assert!(verdicts.iter().all(Result::is_ok));
        // A few forgeries among good entries: each judged on its own.
        let verdicts = codes(&verify_submission(LedgerFormat::V1, entries(40, |number| number % 4 == 0)));
        assert_eq!(verdicts.iter().filter(|code| **code == "signature.invalid").count(), 10);
        assert_eq!(verdicts.iter().filter(|code| **code == "ok").count(), 30);
    }

    #[test]
    fn a_forged_submission_is_given_up_after_the_bound() {
        let verdicts = codes(&verify_submission(LedgerFormat::V1, entries(100, |number| number >= 10)));
        assert!(verdicts[..10].iter().all(|code| *code == "ok"), "{verdicts:?}");
        // The chunk in which the sixteenth failed is judged whole; then nothing is.
        let invalid = verdicts.iter().filter(|code| **code == "signature.invalid").count();
        assert_eq!(invalid, 32 - 10, "{verdicts:?}");
        assert!(verdicts[32..].iter().all(|code| *code == "signature.unchecked"), "{verdicts:?}");
    }
}
