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
    let signer_a = NoteSigner {
        name: "operator-a",
        key: &a,
    };
    let signer_b = NoteSigner {
        name: "operator-b",
        key: &b,
    };
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
    assert_eq!(
        checkpoint.body(),
        "example.com/log\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    );
    let extended = checkpoint.with_extension("ext one").unwrap();
    assert_eq!(
        extended.body(),
        "example.com/log\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next one\n"
    );
    assert_eq!(Checkpoint::parse_body(&extended.body()).unwrap(), extended);
}

#[test]
fn round_trip_sign_note_parse_verify() {
    let key = signing_key(1);
    let signer = NoteSigner {
        name: "operator-a",
        key: &key,
    };
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
    let again = NoteSigner {
        name: "operator-a",
        key: &a,
    };
    let error = signed.cosign(&again).unwrap_err();
    assert!(matches!(
        error,
        CheckpointError::DuplicateSigner { ref name, line: 7, .. } if name == "operator-a"
    ));
    assert_eq!(signed.signatures.len(), 2);

    let rotated = signing_key(3);
    let rotated_signer = NoteSigner {
        name: "operator-a",
        key: &rotated,
    };
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
            matches!(
                SignedCheckpoint::sign(checkpoint(), &signer),
                Err(CheckpointError::KeyNameInvalid { .. })
            ),
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
    witnessed
        .cosign(&NoteSigner {
            name: "witness.example/w1",
            key: &witness,
        })
        .unwrap();
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
    let b64_a = sig_a
        .trim_end()
        .rsplit_once(' ')
        .map(|(_, b64)| b64.to_owned())
        .unwrap();

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
        (
            "no final newline",
            note.trim_end_matches('\n').to_owned(),
            malformed,
        ),
        ("trailing blank line", format!("{note}\n"), malformed),
        ("CR line endings", note.replace('\n', "\r\n"), malformed),
        ("control char in text", format!("\u{1}{note}"), malformed),
        (
            "tab in signature",
            note.replacen("— operator-a ", "— operator-a\t", 1),
            malformed,
        ),
        (
            "text after signatures",
            format!("{note}Unexpected line.\n"),
            bad_sig,
        ),
        (
            "hyphen not em dash",
            note.replacen("— operator-a", "- operator-a", 1),
            bad_sig,
        ),
        (
            "no space after dash",
            note.replacen("— operator-a", "—operator-a", 1),
            bad_sig,
        ),
        (
            "space in key name",
            note.replacen("— operator-a", "— operator a", 1),
            bad_sig,
        ),
        (
            "plus in key name",
            note.replacen("— operator-a", "— operator+a", 1),
            bad_sig,
        ),
        (
            "missing signature",
            note.replacen(&format!(" {b64_a}"), "", 1),
            bad_sig,
        ),
        ("empty signature", note.replacen(&b64_a, "", 1), bad_sig),
        (
            "bad base64",
            note.replacen(&b64_a, &b64_a.replacen('=', "!", 1), 1),
            bad_sig,
        ),
        (
            "signature too short",
            note.replacen(&b64_a, &BASE64.encode([1u8; 67]), 1),
            bad_sig,
        ),
        (
            "signature too long",
            note.replacen(&b64_a, &BASE64.encode([1u8; 72]), 1),
            bad_sig,
        ),
        (
            "duplicate signer",
            format!("{body}\n{sig_a}{sig_b}{sig_a}"),
            duplicate,
        ),
        (
            "leading zero in size",
            note.replacen("\n3\n", "\n03\n", 1),
            bad_size,
        ),
        ("signed size", note.replacen("\n3\n", "\n+3\n", 1), bad_size),
        (
            "size overflow",
            note.replacen("\n3\n", "\n18446744073709551616\n", 1),
            bad_size,
        ),
        (
            "root not base64",
            note.replacen(&BASE64.encode(root(7)), &"*".repeat(44), 1),
            bad_root,
        ),
        (
            "root too short",
            note.replacen(&BASE64.encode(root(7)), &BASE64.encode([1u8; 31]), 1),
            bad_root,
        ),
        (
            "root unpadded",
            note.replacen(
                &BASE64.encode(root(7)),
                BASE64.encode(root(7)).trim_end_matches('='),
                1,
            ),
            bad_root,
        ),
        ("origin missing", note.replacen(ORIGIN, "", 1), bad_origin),
        (
            "empty size line",
            format!("{ORIGIN}\n\n{}\n\n{sig_a}", BASE64.encode(root(7))),
            bad_size,
        ),
        (
            "only two body lines",
            format!("{ORIGIN}\n3\n\n{sig_a}"),
            malformed,
        ),
        (
            "empty extension line",
            format!("{body}\nx\n\n{sig_a}"),
            bad_ext,
        ),
        (
            "replacement character for em dash",
            note.replacen("—", "\u{fffd}", 1),
            bad_sig,
        ),
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
    assert!(matches!(
        checkpoint().with_extension(""),
        Err(CheckpointError::BadExtension { line: 4, .. })
    ));
    assert!(bad_ext(&checkpoint().with_extension("a\nb").unwrap_err()));
}

#[test]
fn signature_limit_is_one_hundred() {
    let body = checkpoint().body();
    let lines = |n: usize| -> String {
        (0..n)
            .map(|i| fake_signature_line(&format!("w{i}")))
            .collect()
    };
    let at_limit = format!("{body}\n{}", lines(MAX_SIGNATURES));
    assert_eq!(
        SignedCheckpoint::parse(&at_limit).unwrap().signatures.len(),
        MAX_SIGNATURES
    );
    let over = format!("{body}\n{}", lines(MAX_SIGNATURES + 1));
    assert_eq!(
        SignedCheckpoint::parse(&over).unwrap_err(),
        CheckpointError::TooManySignatures {
            count: 101,
            max: 100
        }
    );

    let mut full = SignedCheckpoint::parse(&at_limit).unwrap();
    let key = signing_key(1);
    assert!(matches!(
        full.cosign(&NoteSigner {
            name: "one-more",
            key: &key
        }),
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
        assert!(
            matches!(ok(bad), Err(CheckpointError::BadSize { .. })),
            "{bad:?}"
        );
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
    assert!(matches!(
        Checkpoint::parse_body(""),
        Err(CheckpointError::MalformedNote { line: 1, .. })
    ));
}

#[test]
fn new_refuses_bad_origins() {
    for origin in ["", "a\nb", "a\rb", "tab\t"] {
        assert!(
            matches!(
                Checkpoint::new(origin, 1, [0; 32]),
                Err(CheckpointError::BadOrigin { .. })
            ),
            "{origin:?}"
        );
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
        assert!(matches!(
            NoteVerifier::new(name, key.verifying_key()),
            Err(CheckpointError::KeyNameInvalid { .. })
        ));
    }
    // The identity point has small order; verify_strict would refuse all its signatures.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = VerifyingKey::from_bytes(&identity).unwrap();
    assert!(matches!(
        NoteVerifier::new("weak", weak),
        Err(CheckpointError::BadVerifierKey { .. })
    ));
}

// Known-answer vectors from golang.org/x/mod/sumdb/note, file note_test.go (TestNewVerifier,
// TestSign, TestOpen) and the package documentation in note.go, in the golang/mod repository.
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                          then you don't know what your problem is.\n";
const PETER_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

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
    let seed_bytes = BASE64
        .decode(PETER_SKEY.splitn(5, '+').last().unwrap())
        .unwrap();
    assert_eq!(seed_bytes[0], ED25519_SIGNATURE_TYPE);
    let seed: [u8; 32] = seed_bytes[1..].try_into().unwrap();
    let key = SigningKey::from_bytes(&seed);
    let signer = NoteSigner {
        name: "PeterNeumann",
        key: &key,
    };
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
        NoteVerifier::from_vkey(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
        .is_err()
    );
    assert!(matches!(
        NoteVerifier::from_vkey(
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        ),
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
    let signer_a = NoteSigner {
        name: "operator-a",
        key: &a,
    };
    let signer_b = NoteSigner {
        name: "operator-b",
        key: &b,
    };
    let mut resigned = SignedCheckpoint::sign(parsed.checkpoint.clone(), &signer_a).unwrap();
    resigned.cosign(&signer_b).unwrap();
    assert_eq!(resigned.to_note(), example);
    assert_eq!(
        signer_a.verifier().unwrap().to_vkey(),
        "operator-a+92e5ef2f+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
    );
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
