use super::*;
use ed25519_dalek::VerifyingKey;
use serde_json::json;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn statement() -> Statement {
    Statement {
        ledger: Some(LedgerId([7; 32])),
        kind: Kind::ItemTransfer,
        time: Timestamp::parse("2026-11-23T10:00:00Z").unwrap(),
        body: json!({"giai": "4750001BEAM-0001", "to": "reuse-hub"}),
    }
}

#[test]
fn canonical_bytes_parse_to_the_same_entry_and_anything_else_gets_the_strict_verdict() {
    let entry = SignedEntry::sign(statement(), &[&key(1), &key(2)]).unwrap();
    let canonical = entry.canonical_bytes();
    assert!(SignedEntry::from_canonical_json(&canonical).unwrap() == entry);
    let text = String::from_utf8(canonical).unwrap();
    // Not canonical, yet the same entry: the strict path takes it.
    let spaced = text.replacen(":", ": ", 1);
    assert!(SignedEntry::from_canonical_json(spaced.as_bytes()).unwrap() == entry);
    // A duplicate key decodes (serde keeps the last) but is refused, as a
    // submission's would be.
    let doubled = text.replacen("\"giai\":", "\"giai\":\"4750001OTHER\",\"giai\":", 1);
    let strict = SignedEntry::from_json_bytes(doubled.as_bytes()).err().unwrap();
    let fast = SignedEntry::from_canonical_json(doubled.as_bytes()).err().unwrap();
    assert_eq!((fast.code, fast.message), (strict.code, strict.message));
    // A body with a number out of the canonical range.
    let big = text.replacen("\"to\":\"reuse-hub\"", "\"to\":\"reuse-hub\",\"x\":1e400", 1);
    let strict = SignedEntry::from_json_bytes(big.as_bytes()).err().unwrap();
    let fast = SignedEntry::from_canonical_json(big.as_bytes()).err().unwrap();
    assert_eq!((fast.code, fast.message), (strict.code, strict.message));
}

/// Found by the fuzz target `signed_entry`: `182.0` and `182` are one number, which the
/// canonical encoding writes `182`; an entry whose body spells it `182.0` has the canonical
/// bytes, id and signatures of the one that spells it `182`, and must be the same entry, with
/// the same body tree, whichever way it arrived. Otherwise a rule that reads an integer
/// (`passport_version`, `admin_threshold`) judges the same signed statement differently on the
/// strict path than on the canonical one (and than a replay of the log, which reads `182`).
#[test]
fn a_float_with_an_integral_value_is_the_integer_the_canonical_bytes_hold() {
    let body = json!({"giai": "4750001BEAM-0001", "n": [182.0, -3.0, -0.0, 1e15, 0.5], "to": "reuse-hub"});
    let entry = SignedEntry::sign(Statement { body, ..statement() }, &[&key(1)]).unwrap();
    let canonical = entry.canonical_bytes();
    let spelled = String::from_utf8(canonical.clone()).unwrap().replacen(
        "[182,-3,0,1000000000000000,0.5]",
        "[182.0,-3.0,-0.0,1e15,0.5]",
        1,
    );
    assert_ne!(spelled.as_bytes(), canonical.as_slice());
    let from_canonical = SignedEntry::from_canonical_json(&canonical).unwrap();
    let from_spelled = SignedEntry::from_json_bytes(spelled.as_bytes()).unwrap();
    assert_eq!(from_spelled.id(), from_canonical.id());
    assert_eq!(from_spelled.statement().body["n"], json!([182, -3, 0, 1_000_000_000_000_000u64, 0.5]));
    assert!(from_spelled == from_canonical);
    assert!(entry == from_canonical, "a signer's own entry is the one its canonical bytes give");
}

#[test]
fn canonical_entries_are_read_without_the_strict_parser() {
    let unsigned = SignedEntry::new(Statement { ledger: None, ..statement() }, vec![]);
    for entry in [
        SignedEntry::sign(statement(), &[&key(1), &key(2)]).unwrap(),
        SignedEntry::sign(statement(), &[&key(3)]).unwrap(),
        unsigned,
    ] {
        let read =
            SignedEntry::read_canonical_whole(&entry.canonical_bytes()).expect("canonical bytes take the fast path");
        assert!(read == entry);
        assert_eq!(read.canonical_statement(), entry.statement().canonical_bytes().as_slice());
        assert_eq!(read.id(), entry.id());
    }
    let text = String::from_utf8(SignedEntry::sign(statement(), &[&key(1)]).unwrap().canonical_bytes()).unwrap();
    for other in [text.replacen(":", ": ", 1), format!("{text} "), text.replacen("\"sig\":\"", "\"sig\":\"A", 1)] {
        assert!(SignedEntry::read_canonical_whole(other.as_bytes()).is_none(), "{other}");
    }
}

#[test]
fn canonical_submissions_are_read_whole_and_nothing_else_is() {
    let entries = [
        SignedEntry::sign(statement(), &[&key(1)]).unwrap(),
        SignedEntry::sign(statement(), &[&key(2), &key(3)]).unwrap(),
    ];
    let array = SignedEntry::canonical_array(&entries);
    assert_eq!(
        array,
        canonical::value_to_canonical_bytes(&serde_json::to_value(&entries).unwrap()),
        "the array is canonical JSON"
    );
    match SignedEntry::read_canonical_submission(&array) {
        Some(CanonicalSubmission::Many(read)) => assert!(read == entries),
        other => panic!("{other:?}"),
    }
    match SignedEntry::read_canonical_submission(&entries[1].canonical_bytes()) {
        Some(CanonicalSubmission::One(read)) => assert!(read == entries[1]),
        other => panic!("{other:?}"),
    }
    let text = String::from_utf8(array).unwrap();
    let one = String::from_utf8(entries[0].canonical_bytes()).unwrap();
    // Each is left to the strict parser: not canonical, not whole, or not entries.
    for other in [
        "[]".to_owned(),
        format!("[{one},]"),
        format!("[ {one}]"),
        format!("{text} "),
        format!("{text}[]"),
        format!("[{one}"),
        format!("[[{one}]]"),
        format!("[{one},1]"),
        text.replacen(":", ": ", 1),
    ] {
        assert!(SignedEntry::read_canonical_submission(other.as_bytes()).is_none(), "{other}");
    }
}

proptest::proptest! {
    /// Whatever one changed byte makes of an entry's canonical bytes, replication's
    /// decoding gives the strict parser's verdict, refusal and message included.
    #[test]
    fn any_changed_byte_gives_the_strict_verdict(at in proptest::prelude::any::<proptest::sample::Index>(), byte in proptest::prelude::any::<u8>()) {
        let mut bytes = SignedEntry::sign(statement(), &[&key(1), &key(2)]).unwrap().canonical_bytes();
        let at = at.index(bytes.len());
        bytes[at] = byte;
        match (SignedEntry::from_canonical_json(&bytes), SignedEntry::from_json_bytes(&bytes)) {
            (Ok(fast), Ok(strict)) => proptest::prop_assert!(fast == strict),
            (Err(fast), Err(strict)) => proptest::prop_assert_eq!((fast.code, fast.message), (strict.code, strict.message)),
            (fast, strict) => proptest::prop_assert!(false, "fast {:?}, strict {:?}", fast.map(|e| e.id()), strict.map(|e| e.id())),
        }
    }
}

#[test]
fn a_statements_canonical_bytes_are_its_generic_jcs_encoding() {
    let genesis = Statement { ledger: None, kind: Kind::Genesis, ..statement() };
    let awkward = Statement { body: json!({"\u{1f600}": [1.5, -0.0, "\u{7}\"\\"], "\u{fb33}": null}), ..statement() };
    for statement in [statement(), genesis, awkward] {
        assert_eq!(statement.canonical_bytes(), canonical::to_canonical_bytes(&statement), "{statement:?}");
    }
}

#[test]
fn signed_entries_round_trip_and_verify() {
    let entry = SignedEntry::sign(statement(), &[&key(1), &key(2)]).unwrap();
    entry.verify_signatures().unwrap();
    let bytes = serde_json::to_vec(&entry).unwrap();
    let parsed = SignedEntry::from_json_bytes(&bytes).unwrap();
    assert_eq!(parsed, entry);
    assert_eq!(parsed.id(), entry.id());
    parsed.verify_signatures().unwrap();
}

#[test]
fn entry_id_is_blake3_of_the_canonical_statement() {
    let entry = SignedEntry::sign(statement(), &[&key(1)]).unwrap();
    let canonical = format!(
        "{{\"body\":{{\"giai\":\"4750001BEAM-0001\",\"to\":\"reuse-hub\"}},\"kind\":\"item.transfer\",\"ledger\":\"{}\",\"time\":\"2026-11-23T10:00:00Z\"}}",
        "07".repeat(32)
    );
    assert_eq!(entry.canonical_statement(), canonical.as_bytes());
    assert_eq!(entry.id().0, *blake3::hash(canonical.as_bytes()).as_bytes());
    // The signature covers the context label followed by the canonical statement.
    let message = [SIGNING_CONTEXT, canonical.as_bytes()].concat();
    key(1).verifying_key().verify_strict(&message, &entry.signatures()[0].sig).unwrap();
}

#[test]
fn any_change_to_the_statement_breaks_the_signature() {
    let entry = SignedEntry::sign(statement(), &[&key(1)]).unwrap();
    let mut changed = statement();
    changed.body = json!({"giai": "4750001BEAM-0001", "to": "someone-else"});
    let forged = SignedEntry::new(changed, entry.signatures().to_vec());
    assert_eq!(forged.verify_signatures().unwrap_err().code, RefusalCode::SignatureInvalid);
}

#[test]
fn signature_lists_are_checked() {
    let unsigned = SignedEntry::new(statement(), vec![]);
    assert_eq!(unsigned.verify_signatures().unwrap_err().code, RefusalCode::SignatureMissing);
    let twice = SignedEntry::sign(statement(), &[&key(1), &key(1)]).unwrap();
    assert_eq!(twice.verify_signatures().unwrap_err().code, RefusalCode::SignatureDuplicate);
    let keys: Vec<SigningKey> = (1..=17).map(key).collect();
    let many = SignedEntry::sign(statement(), &keys.iter().collect::<Vec<_>>()).unwrap();
    assert_eq!(many.verify_signatures().unwrap_err().code, RefusalCode::SignatureTooMany);
}

#[test]
fn entries_checked_together_get_the_verdicts_they_get_alone() {
    // A list mixes entries refused before any cryptography, entries whose
    // first or second signature fails, and valid ones: each must keep its
    // own verdict, naming its own failing signature, and no verdict may
    // slide onto the next entry.
    let valid = SignedEntry::sign(statement(), &[&key(1)]).unwrap();
    let two = SignedEntry::sign(statement(), &[&key(1), &key(2)]).unwrap();
    let mut first_forged = two.signatures().to_vec();
    first_forged[0].sig = two.signatures()[1].sig;
    let mut second_forged = two.signatures().to_vec();
    second_forged[1].sig = two.signatures()[0].sig;
    let mut changed = statement();
    changed.body = json!({"giai": "4750001BEAM-0001", "to": "someone-else"});
    let entries = vec![
        SignedEntry::new(statement(), first_forged),
        valid.clone(),
        SignedEntry::new(statement(), vec![]),
        SignedEntry::new(statement(), second_forged),
        SignedEntry::new(changed, valid.signatures().to_vec()),
        two.clone(),
    ];
    let together = SignedEntry::verify_signatures_each(&entries);
    let alone: Vec<Result<(), Refusal>> = entries.iter().map(SignedEntry::verify_signatures).collect();
    assert_eq!(together, alone);
    let codes: Vec<Option<RefusalCode>> =
        together.iter().map(|verdict| verdict.as_ref().err().map(|refusal| refusal.code)).collect();
    assert_eq!(
        codes,
        [
            Some(RefusalCode::SignatureInvalid),
            None,
            Some(RefusalCode::SignatureMissing),
            Some(RefusalCode::SignatureInvalid),
            Some(RefusalCode::SignatureInvalid),
            None
        ]
    );
    assert!(together[0].as_ref().unwrap_err().message.starts_with("signature 0 "));
    assert!(together[3].as_ref().unwrap_err().message.starts_with("signature 1 "));
}

#[test]
fn moving_the_body_decodes_what_serde_decodes_and_leaves_the_rest_to_it() {
    let good = serde_json::to_value(SignedEntry::sign(statement(), &[&key(1)]).unwrap()).unwrap();
    let mut genesis = good.clone();
    genesis["statement"].as_object_mut().unwrap().remove("ledger");
    let mut extra = good.clone();
    extra["extra"] = json!(1);
    let mut extra_in_statement = good.clone();
    extra_in_statement["statement"]["note"] = json!("x");
    let mut no_time = good.clone();
    no_time["statement"].as_object_mut().unwrap().remove("time");
    let mut null_ledger = good.clone();
    null_ledger["statement"]["ledger"] = Value::Null;
    let mut bad_kind = good.clone();
    bad_kind["statement"]["kind"] = json!("item.steal");
    let as_array = json!([good["statement"].clone(), good["signatures"].clone()]);
    let serde = |value: Value| {
        serde_json::from_value::<SignedEntryWire>(value).map(|wire| SignedEntry::new(wire.statement, wire.signatures))
    };
    for (value, moved) in [
        (good, true),
        (genesis, true),
        (extra, false),
        (extra_in_statement, false),
        (no_time, false),
        (null_ledger, false),
        (bad_kind, false),
        (as_array, false),
    ] {
        assert_eq!(SignedEntry::moving_body(value.clone()).is_ok(), moved, "{value}");
        if let Err(untouched) = SignedEntry::moving_body(value.clone()) {
            assert_eq!(untouched, value);
        }
        assert_eq!(SignedEntry::from_value(value.clone()).ok(), serde(value).ok());
    }
}

#[test]
fn malformed_entries_are_refused_with_codes() {
    let good = serde_json::to_value(SignedEntry::sign(statement(), &[&key(1)]).unwrap()).unwrap();
    let refuse = |value: serde_json::Value| SignedEntry::from_value(value).unwrap_err().code;
    let mut extra = good.clone();
    extra["statement"]["extra"] = json!(1);
    assert_eq!(refuse(extra), RefusalCode::EntryMalformed);
    let mut null_ledger = good.clone();
    null_ledger["statement"]["ledger"] = Value::Null;
    assert_eq!(refuse(null_ledger), RefusalCode::EntryMalformed);
    let mut upper = good.clone();
    upper["signatures"][0]["key"] =
        json!(key(1).verifying_key().as_bytes().iter().map(|b| format!("{b:02X}")).collect::<String>());
    assert_eq!(refuse(upper), RefusalCode::EntryMalformed);
    let mut not_a_point = good.clone();
    let off_curve = (2u8..=255)
        .map(|first| {
            let mut bytes = [0u8; 32];
            bytes[0] = first;
            bytes
        })
        .find(|bytes| VerifyingKey::from_bytes(bytes).is_err())
        .unwrap();
    not_a_point["signatures"][0]["key"] = json!(hex::encode(off_curve));
    assert_eq!(refuse(not_a_point), RefusalCode::KeyInvalid);
    let mut offset_time = good.clone();
    offset_time["statement"]["time"] = json!("2026-11-23T10:00:00+02:00");
    assert_eq!(refuse(offset_time), RefusalCode::EntryMalformed);
    let mut big = good;
    big["statement"]["body"]["n"] = json!(9007199254740992u64);
    assert_eq!(refuse(big), RefusalCode::JsonNumberOutOfRange);
    let text = br#"{"statement":{"kind":"item.cancel","kind":"item.cancel"},"signatures":[]}"#;
    assert_eq!(SignedEntry::from_json_bytes(text).unwrap_err().code, RefusalCode::JsonDuplicateKey);
}

#[test]
fn timestamps_must_be_utc_rfc3339() {
    assert!(Timestamp::parse("2026-11-23T10:00:00.123Z").is_ok());
    for bad in [
        "2026-11-23T10:00:00",
        "2026-11-23 10:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-11-23T10:00:00+00:00",
        "2026-11-23t10:00:00Z",
        "2026-11-23T10:00:00z",
    ] {
        assert_eq!(Timestamp::parse(bad).unwrap_err().code, RefusalCode::TimeInvalid, "{bad}");
    }
    let now = Timestamp::now();
    assert_eq!(Timestamp::parse(now.as_str()).unwrap(), now);
}
