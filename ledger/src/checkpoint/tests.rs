//! Tests of checkpoints, keys and signed notes, including the known-answer vectors of
//! `golang.org/x/mod/sumdb/note`, the C2SP example and property tests of the parser.
//!
//! They sit in their own file so that the implementation files stay short enough to read whole.

use super::*;
use proptest::prelude::*;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

use super::note::{frame_note, parse_signature_block, sign_text, signature_line};
use super::verify::verify_text;

const ORIGIN: &str = "salvage/ledger-7f3a";

fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn root(seed: u8) -> [u8; 32] {
    let mut root = [0u8; 32];
    for (i, byte) in root.iter_mut().enumerate() {
        *byte = seed.wrapping_mul(31).wrapping_add(i as u8);
    }
    root
}

fn checkpoint() -> Checkpoint {
    Checkpoint::new(ORIGIN, 3, root(7)).unwrap()
}

/// A note signed by `operator-a` (seed 1) and cosigned by `operator-b` (seed 2).
fn cosigned() -> (SignedCheckpoint, Vec<NoteVerifier>) {
    let (a, b) = (signing_key(1), signing_key(2));
    let signer_a = NoteSigner { name: "operator-a", key: &a };
    let signer_b = NoteSigner { name: "operator-b", key: &b };
    let mut signed = SignedCheckpoint::sign(checkpoint(), &signer_a).unwrap();
    signed.cosign(&signer_b).unwrap();
    let verifiers = vec![signer_a.verifier().unwrap(), signer_b.verifier().unwrap()];
    (signed, verifiers)
}

fn fake_signature_line(name: &str) -> String {
    format!("— {name} {}\n", BASE64.encode([9u8; 68]))
}

#[test]
fn body_has_the_tlog_checkpoint_layout() {
    let checkpoint = Checkpoint::new("example.com/log", 0, [0u8; 32]).unwrap();
    assert_eq!(checkpoint.body(), "example.com/log\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
    let extended = checkpoint.with_extension("ext one").unwrap();
    assert_eq!(extended.body(), "example.com/log\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next one\n");
    assert_eq!(Checkpoint::parse_body(&extended.body()).unwrap(), extended);
}

#[test]
fn round_trip_sign_note_parse_verify() {
    let key = signing_key(1);
    let signer = NoteSigner { name: "operator-a", key: &key };
    let signed = SignedCheckpoint::sign(checkpoint(), &signer).unwrap();
    let note = signed.to_note();
    assert!(note.starts_with(&format!("{}\n— operator-a ", checkpoint().body())));
    assert!(note.ends_with('\n'));

    let parsed = SignedCheckpoint::parse(&note).unwrap();
    assert_eq!(parsed, signed);
    assert_eq!(parsed.to_note(), note);
    assert_eq!(parsed.checkpoint.origin(), ORIGIN);
    assert_eq!(parsed.checkpoint.size(), 3);
    assert_eq!(parsed.checkpoint.root(), &root(7));

    let outcome = parsed.verify(&[signer.verifier().unwrap()]);
    assert_eq!(outcome.valid, vec!["operator-a".to_owned()]);
    assert!(outcome.invalid.is_empty());
    assert_eq!(outcome.unknown, 0);
    assert!(outcome.accepted());
}

#[test]
fn cosigned_note_verifies_both_signers_in_order() {
    let (signed, verifiers) = cosigned();
    let note = signed.to_note();
    let parsed = SignedCheckpoint::parse(&note).unwrap();
    assert_eq!(parsed.to_note(), note);
    let names: Vec<_> = parsed.signatures.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["operator-a", "operator-b"]);
    let outcome = parsed.verify(&verifiers);
    assert_eq!(outcome.valid, ["operator-a", "operator-b"]);
    assert!(outcome.accepted());
}

#[test]
fn cosign_refuses_the_same_key_twice_but_accepts_a_rotated_key() {
    let (mut signed, _) = cosigned();
    let a = signing_key(1);
    let again = NoteSigner { name: "operator-a", key: &a };
    let error = signed.cosign(&again).unwrap_err();
    assert!(matches!(
        error,
        CheckpointError::DuplicateSigner { ref name, line: 7, .. } if name == "operator-a"
    ));
    assert_eq!(signed.signatures.len(), 2);

    let rotated = signing_key(3);
    let rotated_signer = NoteSigner { name: "operator-a", key: &rotated };
    signed.cosign(&rotated_signer).unwrap();
    let outcome = signed.verify(&[rotated_signer.verifier().unwrap()]);
    assert_eq!(outcome.valid, ["operator-a"]);
    assert_eq!(outcome.unknown, 2);
}

#[test]
fn signer_with_invalid_name_is_refused() {
    let key = signing_key(1);
    for name in ["", "two words", "a+b", "tab\there", "nbsp\u{a0}x"] {
        let signer = NoteSigner { name, key: &key };
        assert!(
            matches!(SignedCheckpoint::sign(checkpoint(), &signer), Err(CheckpointError::KeyNameInvalid { .. })),
            "{name:?}"
        );
    }
}

#[test]
fn verifier_with_a_different_key_does_not_count_the_signature() {
    let (signed, _) = cosigned();
    let other = signing_key(9);
    let wrong = NoteVerifier::new("operator-a", other.verifying_key()).unwrap();
    let outcome = signed.verify(&[wrong]);
    // The key ID differs, so per the spec the signature is unknown to this verifier.
    assert!(outcome.valid.is_empty());
    assert_eq!(outcome.unknown, 2);
    assert!(!outcome.accepted());
}

#[test]
fn signature_by_another_key_under_a_known_key_id_is_invalid() {
    let (mut signed, verifiers) = cosigned();
    let impostor = signing_key(9);
    let forged = impostor.sign(signed.checkpoint.body().as_bytes());
    signed.signatures[0].signature = forged.to_bytes();
    let parsed = SignedCheckpoint::parse(&signed.to_note()).unwrap();
    let outcome = parsed.verify(&verifiers);
    assert_eq!(outcome.valid, ["operator-b"]);
    assert_eq!(outcome.invalid, ["operator-a"]);
    assert!(!outcome.accepted());
}

#[test]
fn changing_any_body_field_invalidates_every_signature() {
    let (signed, verifiers) = cosigned();
    let note = signed.to_note();
    let root_line = BASE64.encode(root(7));
    let mut other_root = root(7);
    other_root[31] ^= 1;
    let tampered = [
        note.replacen("\n3\n", "\n4\n", 1),
        note.replacen(&root_line, &BASE64.encode(other_root), 1),
        note.replacen(ORIGIN, "salvage/ledger-7f3b", 1),
    ];
    for tampered_note in tampered {
        assert_ne!(tampered_note, note);
        let parsed = SignedCheckpoint::parse(&tampered_note).unwrap();
        let outcome = parsed.verify(&verifiers);
        assert!(outcome.valid.is_empty(), "{tampered_note}");
        assert_eq!(outcome.invalid, ["operator-a", "operator-b"]);
    }
}

#[test]
fn unknown_signers_are_counted_and_preserved() {
    let (signed, verifiers) = cosigned();
    let witness = signing_key(4);
    let mut witnessed = signed.clone();
    witnessed.cosign(&NoteSigner { name: "witness.example/w1", key: &witness }).unwrap();
    let parsed = SignedCheckpoint::parse(&witnessed.to_note()).unwrap();
    let outcome = parsed.verify(&verifiers);
    assert_eq!(outcome.valid, ["operator-a", "operator-b"]);
    assert_eq!(outcome.unknown, 1);
    assert!(outcome.accepted());
    assert_eq!(parsed.signatures.len(), 3);
    assert_eq!(parsed.to_note(), witnessed.to_note());

    let nobody = parsed.verify(&[]);
    assert_eq!(nobody.unknown, 3);
    assert!(!nobody.accepted());
}

#[test]
fn malformed_notes_are_refused() {
    let (signed, _) = cosigned();
    let note = signed.to_note();
    let body = signed.checkpoint.body();
    let sig_a = signature_line(&signed.signatures[0]);
    let sig_b = signature_line(&signed.signatures[1]);
    let b64_a = sig_a.trim_end().rsplit_once(' ').map(|(_, b64)| b64.to_owned()).unwrap();

    type Check = fn(&CheckpointError) -> bool;
    let malformed: Check = |e| matches!(e, CheckpointError::MalformedNote { .. });
    let bad_sig: Check = |e| matches!(e, CheckpointError::BadSignatureLine { .. });
    let bad_size: Check = |e| matches!(e, CheckpointError::BadSize { .. });
    let bad_root: Check = |e| matches!(e, CheckpointError::BadRoot { .. });
    let bad_origin: Check = |e| matches!(e, CheckpointError::BadOrigin { .. });
    let bad_ext: Check = |e| matches!(e, CheckpointError::BadExtension { .. });
    let duplicate: Check = |e| matches!(e, CheckpointError::DuplicateSigner { .. });

    let cases: Vec<(&str, String, Check)> = vec![
        ("body only", body.clone(), malformed),
        ("body and blank line", format!("{body}\n"), malformed),
        ("no blank line", format!("{body}{sig_a}"), malformed),
        ("no final newline", note.trim_end_matches('\n').to_owned(), malformed),
        ("trailing blank line", format!("{note}\n"), malformed),
        ("CR line endings", note.replace('\n', "\r\n"), malformed),
        ("control char in text", format!("\u{1}{note}"), malformed),
        ("tab in signature", note.replacen("— operator-a ", "— operator-a\t", 1), malformed),
        ("text after signatures", format!("{note}Unexpected line.\n"), bad_sig),
        ("hyphen not em dash", note.replacen("— operator-a", "- operator-a", 1), bad_sig),
        ("no space after dash", note.replacen("— operator-a", "—operator-a", 1), bad_sig),
        ("space in key name", note.replacen("— operator-a", "— operator a", 1), bad_sig),
        ("plus in key name", note.replacen("— operator-a", "— operator+a", 1), bad_sig),
        ("missing signature", note.replacen(&format!(" {b64_a}"), "", 1), bad_sig),
        ("empty signature", note.replacen(&b64_a, "", 1), bad_sig),
        ("bad base64", note.replacen(&b64_a, &b64_a.replacen('=', "!", 1), 1), bad_sig),
        ("signature too short", note.replacen(&b64_a, &BASE64.encode([1u8; 67]), 1), bad_sig),
        ("signature too long", note.replacen(&b64_a, &BASE64.encode([1u8; 72]), 1), bad_sig),
        ("duplicate signer", format!("{body}\n{sig_a}{sig_b}{sig_a}"), duplicate),
        ("leading zero in size", note.replacen("\n3\n", "\n03\n", 1), bad_size),
        ("signed size", note.replacen("\n3\n", "\n+3\n", 1), bad_size),
        ("size overflow", note.replacen("\n3\n", "\n18446744073709551616\n", 1), bad_size),
        ("root not base64", note.replacen(&BASE64.encode(root(7)), &"*".repeat(44), 1), bad_root),
        ("root too short", note.replacen(&BASE64.encode(root(7)), &BASE64.encode([1u8; 31]), 1), bad_root),
        (
            "root unpadded",
            note.replacen(&BASE64.encode(root(7)), BASE64.encode(root(7)).trim_end_matches('='), 1),
            bad_root,
        ),
        ("origin missing", note.replacen(ORIGIN, "", 1), bad_origin),
        ("empty size line", format!("{ORIGIN}\n\n{}\n\n{sig_a}", BASE64.encode(root(7))), bad_size),
        ("only two body lines", format!("{ORIGIN}\n3\n\n{sig_a}"), malformed),
        ("empty extension line", format!("{body}\nx\n\n{sig_a}"), bad_ext),
        ("replacement character for em dash", note.replacen("—", "\u{fffd}", 1), bad_sig),
    ];
    for (label, input, expected) in cases {
        match SignedCheckpoint::parse(&input) {
            Err(ref error) if expected(error) => {}
            other => panic!("{label}: unexpected {other:?}"),
        }
    }
    // An extension of a single space is valid, if discouraged, and survives a round trip.
    let spaced = format!("{body} \n\n{sig_a}");
    assert_eq!(SignedCheckpoint::parse(&spaced).unwrap().to_note(), spaced);
    // Extension lines that could not be parsed back cannot be built either.
    assert!(matches!(checkpoint().with_extension(""), Err(CheckpointError::BadExtension { line: 4, .. })));
    assert!(bad_ext(&checkpoint().with_extension("a\nb").unwrap_err()));
}

#[test]
fn signature_limit_is_one_hundred() {
    let body = checkpoint().body();
    let lines = |n: usize| -> String { (0..n).map(|i| fake_signature_line(&format!("w{i}"))).collect() };
    let at_limit = format!("{body}\n{}", lines(MAX_SIGNATURES));
    assert_eq!(SignedCheckpoint::parse(&at_limit).unwrap().signatures.len(), MAX_SIGNATURES);
    let over = format!("{body}\n{}", lines(MAX_SIGNATURES + 1));
    assert_eq!(
        SignedCheckpoint::parse(&over).unwrap_err(),
        CheckpointError::TooManySignatures { count: 101, max: 100 }
    );

    let mut full = SignedCheckpoint::parse(&at_limit).unwrap();
    let key = signing_key(1);
    assert!(matches!(
        full.cosign(&NoteSigner { name: "one-more", key: &key }),
        Err(CheckpointError::TooManySignatures { count: 101, .. })
    ));
}

#[test]
fn parse_body_enforces_canonical_fields() {
    let root_line = BASE64.encode(root(1));
    let ok = |size: &str| Checkpoint::parse_body(&format!("o\n{size}\n{root_line}\n"));
    assert_eq!(ok("0").unwrap().size(), 0);
    assert_eq!(ok("18446744073709551615").unwrap().size(), u64::MAX);
    for bad in ["00", "01", "-1", "+1", " 1", "1 ", "1_000", "١", "0x10"] {
        assert!(matches!(ok(bad), Err(CheckpointError::BadSize { .. })), "{bad:?}");
    }
    // Non-zero trailing bits give a second spelling of the same bytes; refused so that
    // re-serialising a parsed body reproduces the signed bytes.
    let zero_root = BASE64.encode([0u8; 32]);
    let non_canonical = zero_root.replacen("A=", "B=", 1);
    assert_eq!(BASE64.decode(&zero_root).unwrap(), [0u8; 32]);
    assert!(matches!(
        Checkpoint::parse_body(&format!("o\n1\n{non_canonical}\n")),
        Err(CheckpointError::BadRoot { .. })
    ));
    assert!(matches!(
        Checkpoint::parse_body(&format!("o\n1\n{root_line}")),
        Err(CheckpointError::MalformedNote { line: 2, .. })
    ));
    assert!(matches!(
        Checkpoint::parse_body(&format!("o\n1\n{root_line}\n\n")),
        Err(CheckpointError::BadExtension { line: 4, .. })
    ));
    assert!(matches!(Checkpoint::parse_body(""), Err(CheckpointError::MalformedNote { line: 1, .. })));
}

#[test]
fn new_refuses_bad_origins() {
    for origin in ["", "a\nb", "a\rb", "tab\t"] {
        assert!(matches!(Checkpoint::new(origin, 1, [0; 32]), Err(CheckpointError::BadOrigin { .. })), "{origin:?}");
    }
    // The spec only recommends URL-like origins, so spaces and pluses are allowed.
    assert!(Checkpoint::new("a log+1", 1, [0; 32]).is_ok());
}

#[test]
fn error_messages_say_where() {
    let (signed, _) = cosigned();
    let note = signed.to_note().replacen("\n3\n", "\n03\n", 1);
    let message = SignedCheckpoint::parse(&note).unwrap_err().to_string();
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("leading zero"), "{message}");

    let note = format!("{}— bad+name x\n", signed.to_note());
    let message = SignedCheckpoint::parse(&note).unwrap_err().to_string();
    assert!(message.contains("line 7"), "{message}");
}

#[test]
fn verifier_keys_round_trip_and_reject_bad_keys() {
    let key = signing_key(5);
    let verifier = NoteVerifier::new("operator-a", key.verifying_key()).unwrap();
    let vkey = verifier.to_vkey();
    assert!(vkey.starts_with(&format!("operator-a+{}+", hex::encode(verifier.key_hash()))));
    assert_eq!(NoteVerifier::from_vkey(&vkey).unwrap(), verifier);

    for name in ["", "a b", "a+b", "a\u{2003}b"] {
        assert!(matches!(NoteVerifier::new(name, key.verifying_key()), Err(CheckpointError::KeyNameInvalid { .. })));
    }
    // The identity point has small order; verify_strict would refuse all its signatures.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = VerifyingKey::from_bytes(&identity).unwrap();
    assert!(matches!(NoteVerifier::new("weak", weak), Err(CheckpointError::BadVerifierKey { .. })));
}

// Known-answer vectors from golang.org/x/mod/sumdb/note, file note_test.go (TestNewVerifier,
// TestSign, TestOpen) and the package documentation in note.go, in the golang/mod repository.
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                          then you don't know what your problem is.\n";
const PETER_SIG: &str =
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str =
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

#[test]
fn known_answer_go_sumdb_note_vectors() {
    let peter = NoteVerifier::from_vkey(PETER_VKEY).unwrap();
    let enoch = NoteVerifier::from_vkey(ENOCH_VKEY).unwrap();
    assert_eq!(peter.name(), "PeterNeumann");
    assert_eq!(peter.key_hash(), [0xc7, 0x4f, 0x20, 0xa3]);
    assert_eq!(enoch.key_hash(), [0xaf, 0x0c, 0xfe, 0x78]);
    assert_eq!(peter.to_vkey(), PETER_VKEY);

    // The note text is not a checkpoint body, so go through the note-level layer.
    let note = format!("{PETER_TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    let frame = frame_note(&note).unwrap();
    assert_eq!(frame.text, PETER_TEXT);
    let signatures = parse_signature_block(&frame).unwrap();
    let outcome = verify_text(frame.text, &signatures, &[peter.clone(), enoch.clone()]);
    assert_eq!(outcome.valid, ["PeterNeumann", "EnochRoot"]);
    let only_peter = verify_text(frame.text, &signatures, std::slice::from_ref(&peter));
    assert_eq!(only_peter.valid, ["PeterNeumann"]);
    assert_eq!(only_peter.unknown, 1);
    let altered = PETER_TEXT.replace("cryptography", "cryptographY");
    let outcome = verify_text(&altered, &signatures, &[peter.clone(), enoch]);
    assert_eq!(outcome.invalid, ["PeterNeumann", "EnochRoot"]);

    // Ed25519 is deterministic, so signing with the published seed reproduces the line.
    let seed_bytes = BASE64.decode(PETER_SKEY.splitn(5, '+').last().unwrap()).unwrap();
    assert_eq!(seed_bytes[0], ED25519_SIGNATURE_TYPE);
    let seed: [u8; 32] = seed_bytes[1..].try_into().unwrap();
    let key = SigningKey::from_bytes(&seed);
    let signer = NoteSigner { name: "PeterNeumann", key: &key };
    assert_eq!(signer.verifier().unwrap(), peter);
    let signature = sign_text(PETER_TEXT, &signer).unwrap();
    assert_eq!(signature_line(&signature), PETER_SIG);

    // The Go test's malformed messages are refused here too.
    let peter_sig_unterminated = PETER_SIG.trim_end_matches('\n');
    let bad = [
        PETER_TEXT.to_owned(),
        format!("{PETER_TEXT}\n"),
        format!("{PETER_TEXT}\n{peter_sig_unterminated}"),
        format!("\u{1}{PETER_TEXT}\n{PETER_SIG}"),
        format!(
            "{PETER_TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        ),
        format!("{PETER_TEXT}\n{PETER_SIG}Unexpected line.\n"),
        format!("{PETER_TEXT}\n{}", PETER_SIG.repeat(101)),
    ];
    for note in bad {
        let parsed = frame_note(&note).and_then(|frame| parse_signature_block(&frame));
        assert!(parsed.is_err(), "{note:?}");
    }
}

#[test]
fn mangled_verifier_keys_are_refused() {
    // Port of TestNewVerifier: every proper substring and every single-byte increment of
    // the published key must be refused.
    let bytes = PETER_VKEY.as_bytes();
    for start in 0..=bytes.len() {
        for end in start + 1..=bytes.len() {
            if start == 0 && end == bytes.len() {
                continue;
            }
            let part = &PETER_VKEY[start..end];
            assert!(NoteVerifier::from_vkey(part).is_err(), "{part:?}");
        }
    }
    for i in 0..bytes.len() {
        let mut mangled = bytes.to_vec();
        mangled[i] += 1;
        let mangled = String::from_utf8(mangled).unwrap();
        assert!(NoteVerifier::from_vkey(&mangled).is_err(), "{mangled:?}");
    }
    // Wrong-length key and unknown algorithm, each with a key ID adjusted to match.
    assert!(
        NoteVerifier::from_vkey("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==").is_err()
    );
    assert!(matches!(
        NoteVerifier::from_vkey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        Err(CheckpointError::BadVerifierKey { .. })
    ));
}

#[test]
fn known_answer_c2sp_tlog_checkpoint_example() {
    // The example from c2sp.org/tlog-checkpoint (C2SP/C2SP, tlog-checkpoint.md). Its public
    // key is not published, so only parsing and re-serialisation can be checked.
    let note = "example.com/behind-the-sofa\n\
                20852163\n\
                CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
                \n\
                — example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
    let parsed = SignedCheckpoint::parse(note).unwrap();
    assert_eq!(parsed.checkpoint.origin(), "example.com/behind-the-sofa");
    assert_eq!(parsed.checkpoint.size(), 20_852_163);
    assert_eq!(parsed.to_note(), note);
    let (_, verifiers) = cosigned();
    let outcome = parsed.verify(&verifiers);
    assert_eq!(outcome.unknown, 1);
    assert!(!outcome.accepted());
}

#[test]
fn module_doc_example_is_genuine() {
    let module_source = include_str!("mod.rs");
    let example: String = module_source
        .lines()
        .skip_while(|line| *line != "//! ```text")
        .skip(1)
        .take_while(|line| *line != "//! ```")
        .map(|line| format!("{}\n", line.trim_start_matches("//!").trim_start()))
        .collect();
    let parsed = SignedCheckpoint::parse(&example).unwrap();
    let (a, b) = (signing_key(1), signing_key(2));
    let signer_a = NoteSigner { name: "operator-a", key: &a };
    let signer_b = NoteSigner { name: "operator-b", key: &b };
    let mut resigned = SignedCheckpoint::sign(parsed.checkpoint.clone(), &signer_a).unwrap();
    resigned.cosign(&signer_b).unwrap();
    assert_eq!(resigned.to_note(), example);
    assert_eq!(
        signer_a.verifier().unwrap().to_vkey(),
        "operator-a+92e5ef2f+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
    );
}

// ---- C2SP tlog-cosignature/v1 ----

/// The example checkpoint body of c2sp.org/tlog-cosignature (and tlog-checkpoint).
const SOFA_BODY: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
/// The example timestamp of c2sp.org/tlog-cosignature.
const SOFA_TIME: u64 = 1_679_315_147;

/// A note signed by `operator-a` (seed 1) and cosigned under cosignature/v1 by `operator-b`
/// (seed 2, at `SOFA_TIME`) and `operator-c` (seed 3, one second later), with the plain
/// verifier of the signer and the cosigner verifiers of the others.
fn with_cosignatures() -> (SignedCheckpoint, Vec<NoteVerifier>) {
    let (a, b, c) = (signing_key(1), signing_key(2), signing_key(3));
    let signer_a = NoteSigner { name: "operator-a", key: &a };
    let signer_b = NoteSigner { name: "operator-b", key: &b };
    let signer_c = NoteSigner { name: "operator-c", key: &c };
    let mut signed = SignedCheckpoint::sign(checkpoint(), &signer_a).unwrap();
    signed.add_cosignature(&signer_b, SOFA_TIME).unwrap();
    signed.add_cosignature(&signer_c, SOFA_TIME + 1).unwrap();
    let verifiers = vec![
        signer_a.verifier().unwrap(),
        signer_b.cosigner_verifier().unwrap(),
        signer_c.cosigner_verifier().unwrap(),
    ];
    (signed, verifiers)
}

/// The base64 part of a signature line.
fn line_base64(line: &str) -> String {
    line.trim_end().rsplit_once(' ').map(|(_, b64)| b64.to_owned()).unwrap()
}

#[test]
fn known_answer_c2sp_tlog_cosignature_example() {
    // The example from c2sp.org/tlog-cosignature (C2SP/C2SP, tlog-cosignature.md): a checkpoint
    // signed by its log and cosigned by a witness. No key is published, so this checks that
    // the cosignature line parses into key ID, timestamp and signature and re-serialises.
    let note = "example.com/behind-the-sofa\n\
                20852163\n\
                CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
                \n\
                — example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
                — witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
    let parsed = SignedCheckpoint::parse(note).unwrap();
    assert_eq!(parsed.checkpoint.body(), SOFA_BODY);
    assert_eq!(parsed.signatures[0].timestamp, None);
    let witness = &parsed.signatures[1];
    assert_eq!(witness.name, "witness.example.com/w1");
    assert_eq!(witness.key_hash, [0x8d, 0x66, 0xcf, 0x3f]);
    assert_eq!(witness.timestamp, Some(SOFA_TIME));
    assert_eq!(parsed.to_note(), note);
    let (_, verifiers) = with_cosignatures();
    assert_eq!(parsed.verify(&verifiers).unknown, 2);
}

#[test]
fn cosignatures_round_trip_and_verify() {
    let (signed, verifiers) = with_cosignatures();
    assert_eq!(signed.signatures[0].timestamp, None);
    assert_eq!(signed.signatures[1].timestamp, Some(SOFA_TIME));
    assert_eq!(signed.signatures[2].timestamp, Some(SOFA_TIME + 1));
    let note = signed.to_note();
    let lines: Vec<&str> = note.lines().skip(4).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(BASE64.decode(line_base64(lines[0])).unwrap().len(), 68);
    assert_eq!(BASE64.decode(line_base64(lines[1])).unwrap().len(), 76);
    assert_eq!(BASE64.decode(line_base64(lines[2])).unwrap().len(), 76);

    let parsed = SignedCheckpoint::parse(&note).unwrap();
    assert_eq!(parsed, signed);
    assert_eq!(parsed.to_note(), note);
    let outcome = parsed.verify(&verifiers);
    assert_eq!(outcome.valid, ["operator-a", "operator-b", "operator-c"]);
    assert!(outcome.invalid.is_empty());
    assert_eq!(outcome.unknown, 0);
    assert!(outcome.accepted());
    assert_eq!(outcome.signers(), ["operator-a", "operator-b", "operator-c"]);

    // A node that both signs and cosigns is listed twice in `valid` but counted once.
    let a = signing_key(1);
    let signer_a = NoteSigner { name: "operator-a", key: &a };
    let mut both = parsed.clone();
    both.add_cosignature(&signer_a, SOFA_TIME + 2).unwrap();
    let mut all = verifiers.clone();
    all.push(signer_a.cosigner_verifier().unwrap());
    let outcome = SignedCheckpoint::parse(&both.to_note()).unwrap().verify(&all);
    assert_eq!(outcome.valid, ["operator-a", "operator-b", "operator-c", "operator-a"]);
    assert_eq!(outcome.signers(), ["operator-a", "operator-b", "operator-c"]);
}

#[test]
fn cosignature_signs_the_spec_message_layout() {
    let checkpoint = Checkpoint::parse_body(SOFA_BODY).unwrap();
    assert_eq!(checkpoint.body(), SOFA_BODY);
    let key = signing_key(4);
    let signer = NoteSigner { name: "witness.example", key: &key };
    let a = signing_key(1);
    let mut signed = SignedCheckpoint::sign(checkpoint, &NoteSigner { name: "operator-a", key: &a }).unwrap();
    signed.add_cosignature(&signer, SOFA_TIME).unwrap();
    let cosignature = &signed.signatures[1];

    // The key ID, computed by hand: SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[..4].
    let mut preimage = b"witness.example\n\x04".to_vec();
    preimage.extend_from_slice(key.verifying_key().as_bytes());
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&preimage);
    assert_eq!(cosignature.key_hash, digest[..4]);
    assert_eq!(cosignature_key_hash("witness.example", &key.verifying_key()), cosignature.key_hash);

    // The line's decoded bytes: key ID ‖ big-endian timestamp ‖ signature.
    let line = signed.to_note().lines().last().unwrap().to_owned();
    assert!(line.starts_with("— witness.example "));
    let raw = BASE64.decode(line_base64(&line)).unwrap();
    assert_eq!(raw[..4], cosignature.key_hash);
    assert_eq!(raw[4..12], SOFA_TIME.to_be_bytes());
    assert_eq!(raw[12..], cosignature.signature);

    // The signature verifies, with plain Ed25519, over the spec's example message.
    let message = "cosignature/v1\n\
                   time 1679315147\n\
                   example.com/behind-the-sofa\n\
                   20852163\n\
                   CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    assert_eq!(message, format!("cosignature/v1\ntime {SOFA_TIME}\n{SOFA_BODY}"));
    let signature = ed25519_dalek::Signature::from_bytes(&cosignature.signature);
    key.verifying_key().verify_strict(message.as_bytes(), &signature).unwrap();
    assert_eq!(key.sign(message.as_bytes()).to_bytes(), cosignature.signature);
    // ...and not over the bare note text.
    assert!(key.verifying_key().verify_strict(SOFA_BODY.as_bytes(), &signature).is_err());
}

#[test]
fn altered_cosignature_timestamp_is_invalid() {
    let (signed, verifiers) = with_cosignatures();
    let note = signed.to_note();
    let b64_b = line_base64(&signature_line(&signed.signatures[1]));
    let mut raw = BASE64.decode(&b64_b).unwrap();
    raw[4..12].copy_from_slice(&(SOFA_TIME + 60).to_be_bytes());
    let altered = note.replacen(&b64_b, &BASE64.encode(&raw), 1);
    assert_ne!(altered, note);
    let parsed = SignedCheckpoint::parse(&altered).unwrap();
    assert_eq!(parsed.signatures[1].timestamp, Some(SOFA_TIME + 60));
    assert_eq!(parsed.to_note(), altered);
    let outcome = parsed.verify(&verifiers);
    assert_eq!(outcome.valid, ["operator-a", "operator-c"]);
    assert_eq!(outcome.invalid, ["operator-b"]);
    assert!(!outcome.accepted());

    // A changed body invalidates the cosignatures too.
    let moved = SignedCheckpoint {
        checkpoint: Checkpoint::new(ORIGIN, 4, root(7)).unwrap(),
        signatures: signed.signatures.clone(),
    };
    assert_eq!(moved.verify(&verifiers).invalid, ["operator-a", "operator-b", "operator-c"]);
}

#[test]
fn plain_and_cosigner_verifiers_only_match_their_own_kind() {
    let (signed, _) = with_cosignatures();
    let (a, b) = (signing_key(1), signing_key(2));
    let signer_a = NoteSigner { name: "operator-a", key: &a };
    let signer_b = NoteSigner { name: "operator-b", key: &b };

    // A plain verifier of b does not take b's cosignature; a cosigner verifier of a does not
    // take a's plain signature. Both lines are then unknown, not invalid.
    let outcome = signed.verify(&[signer_b.verifier().unwrap(), signer_a.cosigner_verifier().unwrap()]);
    assert!(outcome.valid.is_empty());
    assert!(outcome.invalid.is_empty());
    assert_eq!(outcome.unknown, 3);

    // The kind is checked on its own, not only through the key ID: a cosignature stripped of
    // its timestamp, or a plain signature given one, matches no verifier even when its key ID
    // is that of the verifier.
    let mut stripped = signed.signatures[1].clone();
    stripped.timestamp = None;
    let outcome = verify_text(&signed.checkpoint.body(), &[stripped], &[signer_b.cosigner_verifier().unwrap()]);
    assert_eq!(outcome.unknown, 1);
    let mut stamped = signed.signatures[0].clone();
    stamped.timestamp = Some(SOFA_TIME);
    let outcome = verify_text(&signed.checkpoint.body(), &[stamped], &[signer_a.verifier().unwrap()]);
    assert_eq!(outcome.unknown, 1);

    // A hand-built cosignature with an out-of-range timestamp is never valid.
    let mut too_late = signed.signatures[1].clone();
    too_late.timestamp = Some(MAX_COSIGNATURE_TIMESTAMP + 1);
    let outcome = verify_text(&signed.checkpoint.body(), &[too_late], &[signer_b.cosigner_verifier().unwrap()]);
    assert_eq!(outcome.invalid, ["operator-b"]);
}

#[test]
fn duplicate_cosigner_and_too_many_signatures_are_refused() {
    let (mut signed, _) = with_cosignatures();
    let b = signing_key(2);
    let signer_b = NoteSigner { name: "operator-b", key: &b };
    let error = signed.add_cosignature(&signer_b, SOFA_TIME + 5).unwrap_err();
    assert!(matches!(
        error,
        CheckpointError::DuplicateSigner { ref name, key_hash, line: 8 }
            if name == "operator-b" && key_hash == cosignature_key_hash("operator-b", &b.verifying_key())
    ));
    assert_eq!(signed.signatures.len(), 3);
    // A plain signature by the same key is a different key ID, so it is accepted.
    signed.cosign(&signer_b).unwrap();

    // A parsed note repeating a cosignature line is refused.
    let note = signed.to_note();
    let cosig_b = signature_line(&signed.signatures[1]);
    assert!(matches!(
        SignedCheckpoint::parse(&format!("{note}{cosig_b}")),
        Err(CheckpointError::DuplicateSigner { line: 9, .. })
    ));

    // The signature limit holds for cosignatures too.
    let body = checkpoint().body();
    let full: String = (0..MAX_SIGNATURES).map(|i| fake_signature_line(&format!("w{i}"))).collect();
    let mut full = SignedCheckpoint::parse(&format!("{body}\n{full}")).unwrap();
    assert_eq!(
        full.add_cosignature(&signer_b, SOFA_TIME).unwrap_err(),
        CheckpointError::TooManySignatures { count: 101, max: 100 }
    );
}

#[test]
fn cosignature_timestamps_above_2_pow_63_minus_1_are_refused() {
    let (signed, verifiers) = with_cosignatures();
    let note = signed.to_note();
    let b64_b = line_base64(&signature_line(&signed.signatures[1]));
    let mut raw = BASE64.decode(&b64_b).unwrap();
    raw[4..12].copy_from_slice(&(1u64 << 63).to_be_bytes());
    let too_large = note.replacen(&b64_b, &BASE64.encode(&raw), 1);
    let error = SignedCheckpoint::parse(&too_large).unwrap_err();
    assert!(matches!(error, CheckpointError::BadSignatureLine { line: 6, .. }), "{error:?}");
    assert!(error.to_string().contains("2^63-1"), "{error}");
    raw[4..12].copy_from_slice(&u64::MAX.to_be_bytes());
    assert!(SignedCheckpoint::parse(&note.replacen(&b64_b, &BASE64.encode(&raw), 1)).is_err());

    let b = signing_key(2);
    let signer_b = NoteSigner { name: "operator-b", key: &b };
    let mut fresh =
        SignedCheckpoint::sign(checkpoint(), &NoteSigner { name: "operator-x", key: &signing_key(9) }).unwrap();
    assert_eq!(
        fresh.add_cosignature(&signer_b, 1 << 63).unwrap_err(),
        CheckpointError::CosignatureTimestampTooLarge { timestamp: 1 << 63 }
    );
    // The bound itself, and zero, are valid timestamps.
    fresh.add_cosignature(&signer_b, MAX_COSIGNATURE_TIMESTAMP).unwrap();
    let c = signing_key(3);
    fresh.add_cosignature(&NoteSigner { name: "operator-c", key: &c }, 0).unwrap();
    let reparsed = SignedCheckpoint::parse(&fresh.to_note()).unwrap();
    assert_eq!(reparsed, fresh);
    assert_eq!(reparsed.verify(&verifiers).valid, ["operator-b", "operator-c"]);

    // Decoded lengths other than 68 and 76 stay refused.
    for length in [67, 69, 72, 75, 77, 80] {
        let bad = note.replacen(&b64_b, &BASE64.encode(vec![1u8; length]), 1);
        assert!(matches!(SignedCheckpoint::parse(&bad), Err(CheckpointError::BadSignatureLine { .. })), "{length}");
    }
}

#[test]
fn cosigner_key_ids_and_vkeys() {
    let key = signing_key(5);
    let plain = NoteVerifier::new("operator-a", key.verifying_key()).unwrap();
    let cosigner = NoteVerifier::cosigner("operator-a", key.verifying_key()).unwrap();
    assert!(!plain.is_cosigner());
    assert!(cosigner.is_cosigner());
    assert_ne!(plain.key_hash(), cosigner.key_hash());
    assert_eq!(plain.key_hash(), key_hash("operator-a", &key.verifying_key()));
    assert_eq!(cosigner.key_hash(), cosignature_key_hash("operator-a", &key.verifying_key()));
    assert_ne!(plain, cosigner);

    let vkey = cosigner.to_vkey();
    assert!(vkey.starts_with(&format!("operator-a+{}+", hex::encode(cosigner.key_hash()))));
    let encoded = BASE64.decode(vkey.rsplit_once('+').unwrap().1).unwrap();
    assert_eq!(encoded[0], COSIGNATURE_V1_TYPE);
    assert_eq!(encoded[1..], *key.verifying_key().as_bytes());
    let read = NoteVerifier::from_vkey(&vkey).unwrap();
    assert_eq!(read, cosigner);
    assert!(read.is_cosigner());
    assert_eq!(NoteVerifier::from_vkey(&plain.to_vkey()).unwrap(), plain);

    // A cosigner key under the plain key ID, or a plain key under the cosigner key ID, is
    // refused: the ID must match the type byte.
    let swapped = format!("operator-a+{}+{}", hex::encode(plain.key_hash()), vkey.rsplit_once('+').unwrap().1);
    assert!(matches!(NoteVerifier::from_vkey(&swapped), Err(CheckpointError::BadVerifierKey { .. })));
    let swapped =
        format!("operator-a+{}+{}", hex::encode(cosigner.key_hash()), plain.to_vkey().rsplit_once('+').unwrap().1);
    assert!(matches!(NoteVerifier::from_vkey(&swapped), Err(CheckpointError::BadVerifierKey { .. })));
    // Invalid names and weak keys are refused for cosigners as for plain verifiers.
    assert!(matches!(NoteVerifier::cosigner("a b", key.verifying_key()), Err(CheckpointError::KeyNameInvalid { .. })));
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert!(matches!(
        NoteVerifier::cosigner("weak", VerifyingKey::from_bytes(&identity).unwrap()),
        Err(CheckpointError::BadVerifierKey { .. })
    ));
}

fn apply_mutations(note: &str, mutations: &[(usize, u8, u8)]) -> String {
    let mut bytes = note.as_bytes().to_vec();
    for &(position, kind, byte) in mutations {
        if bytes.is_empty() {
            break;
        }
        let at = position % bytes.len();
        match kind % 3 {
            0 => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            _ => {
                bytes.remove(at);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_text(text in any::<String>()) {
        if let Ok(parsed) = SignedCheckpoint::parse(&text) {
            prop_assert_eq!(parsed.to_note(), text);
        }
    }

    #[test]
    fn parse_never_panics_on_note_like_text(text in "[a-z0-9+/=\n —\u{2014}\r]{0,200}") {
        if let Ok(parsed) = SignedCheckpoint::parse(&text) {
            prop_assert_eq!(parsed.to_note(), text);
        }
    }

    #[test]
    fn mutated_notes_parse_canonically_or_not_at_all(
        mutations in proptest::collection::vec(
            (any::<usize>(), any::<u8>(), prop_oneof![
                any::<u8>(),
                proptest::sample::select(b"0123456789AZaz+/=\n -".to_vec()),
            ]),
            1..4,
        )
    ) {
        let (signed, verifiers) = cosigned();
        let note = signed.to_note();
        let mutated = apply_mutations(&note, &mutations);
        if let Ok(parsed) = SignedCheckpoint::parse(&mutated) {
            prop_assert_eq!(parsed.to_note(), mutated);
            if parsed.checkpoint != signed.checkpoint {
                prop_assert!(parsed.verify(&verifiers).valid.is_empty());
            }
        }
    }
}
