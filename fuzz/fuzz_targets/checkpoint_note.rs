//! Checkpoint notes (`checkpoint/note.rs`): a signed note's framing, its checkpoint body, its
//! signature and `cosignature/v1` lines, and verifier keys; what a node parses when a peer
//! sends it a checkpoint to cosign, and what an auditor parses from a proof bundle.
//!
//! Beyond "never panics": a parsed note prints back to exactly its text (the parser accepts
//! only the canonical form), and verifying it, against the keys of docs/format.md's worked
//! example, decides without panicking.
#![no_main]

use std::sync::OnceLock;

use ed25519_dalek::VerifyingKey;
use libfuzzer_sys::fuzz_target;
use salvage_ledger::checkpoint::{Checkpoint, NoteVerifier, SignedCheckpoint};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(note) = SignedCheckpoint::parse(text) {
        assert_eq!(note.to_note(), text, "a parsed note does not print back to its text");
        let verified = note.verify(verifiers());
        let counted = verified.valid.len() + verified.invalid.len() + verified.unknown;
        assert_eq!(counted, note.signatures.len(), "every signature is valid, invalid or unknown");
    }
    if let Ok(checkpoint) = Checkpoint::parse_body(text) {
        assert_eq!(checkpoint.body(), text, "a parsed checkpoint body does not print back to its text");
    }
    if let Ok(verifier) = NoteVerifier::from_vkey(text) {
        assert_eq!(NoteVerifier::from_vkey(&verifier.to_vkey()).ok(), Some(verifier), "a verifier key round trip");
    }
});

/// The operator key of docs/format.md's worked example, as a signer and as a cosigner, so that
/// mutations of the example's note reach the signature check.
fn verifiers() -> &'static [NoteVerifier] {
    static VERIFIERS: OnceLock<Vec<NoteVerifier>> = OnceLock::new();
    VERIFIERS.get_or_init(|| {
        let key = [
            0xc0, 0xe4, 0xb2, 0x3d, 0x13, 0xe6, 0x72, 0x20, 0x50, 0x0d, 0xc3, 0x6b, 0x20, 0x46, 0xa2, 0xbc, 0x93, 0xf8,
            0xf9, 0x65, 0xea, 0x43, 0x9d, 0x65, 0xb9, 0x03, 0x46, 0x94, 0xe6, 0x06, 0xd9, 0x53,
        ];
        let Ok(key) = VerifyingKey::from_bytes(&key) else { return Vec::new() };
        [NoteVerifier::new("regional-planning", key), NoteVerifier::cosigner("regional-planning", key)]
            .into_iter()
            .flatten()
            .collect()
    })
}
