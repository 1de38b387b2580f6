use ed25519_dalek::VerifyingKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};

use super::*;

const NOW: u64 = 1_767_225_600;
const NONCE: &str = "0123456789abcdef0123456789abcdef";
const AUTHORITY: &str = "node.example:8080";
const PATH: &str = "/v1/items/urn:epc:id:giai:4012345.1/disclosures";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn target(query: Option<&'static str>) -> SignedTarget<'static> {
    SignedTarget { method: "GET", authority: AUTHORITY, path: PATH, query }
}

/// Checks `signed` as the node does for a request to `target` at `now`.
fn check(target: &SignedTarget<'_>, signed: &RequestSignature, now: u64) -> Result<Claim, MemberAuthError> {
    verify(target, Some(signed.signature_input.as_bytes()), Some(signed.signature.as_bytes()), now)
}

/// Headers for `target` signed by `key` over a `Signature-Input` entry written by hand, `inner`
/// (the covered components and parameters), which may differ from what [`sign`] writes.
fn sign_inner(target: &SignedTarget<'_>, key: &SigningKey, inner: &str) -> RequestSignature {
    let covered = covered(format!("{LABEL}={inner}").as_bytes(), LABEL).unwrap();
    let values = components(target);
    let lines: Vec<(&str, &str)> = covered
        .components
        .iter()
        .map(|name| values.iter().find(|(n, _)| n == name).map(|(n, v)| (*n, &**v)).unwrap())
        .collect();
    let signature = key.sign(signature_base(&lines, &covered.params_line).as_bytes()).to_bytes();
    let mut header = DictSerializer::new();
    let _ = header.bare_item(sfv::key_ref(LABEL), &signature[..]);
    RequestSignature { signature_input: format!("{LABEL}={inner}"), signature: header.finish().unwrap() }
}

fn keyid(seed: u8) -> String {
    PublicKey::of(&key(seed)).to_hex()
}

/// RFC 9421 Appendix B.2.6, "Signing a Request Using ed25519", with the key of Appendix B.1.4
/// (`test-key-ed25519`). The RFC wraps long lines as RFC 8792 describes; they are unwrapped here.
#[test]
fn rfc_9421_appendix_b_2_6_ed25519_base_and_signature() {
    const PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----\n\
        MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n\
        -----END PUBLIC KEY-----\n";
    const PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----\n\
        MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n\
        -----END PRIVATE KEY-----\n";
    const SIGNATURE_INPUT: &str = concat!(
        r#"sig-b26=("date" "@method" "@path" "@authority" "#,
        r#""content-type" "content-length");created=1618884473"#,
        r#";keyid="test-key-ed25519""#,
    );
    const SIGNATURE: &str = concat!(
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1",
        "u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:",
    );
    const BASE: &str = concat!(
        "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n",
        "\"@method\": POST\n",
        "\"@path\": /foo\n",
        "\"@authority\": example.com\n",
        "\"content-type\": application/json\n",
        "\"content-length\": 18\n",
        r#""@signature-params": ("date" "@method" "@path" "@authority" "#,
        r#""content-type" "content-length");created=1618884473"#,
        r#";keyid="test-key-ed25519""#,
    );
    // The values of the appendix's test request (Appendix B.2) for the components it covers.
    let request = [
        ("date", "Tue, 20 Apr 2021 02:07:55 GMT"),
        ("@method", "POST"),
        ("@path", "/foo"),
        ("@authority", "example.com"),
        ("content-type", "application/json"),
        ("content-length", "18"),
    ];
    let covered = covered(SIGNATURE_INPUT.as_bytes(), "sig-b26").unwrap();
    assert_eq!(covered.components, request.map(|(name, _)| name));
    let lines: Vec<(&str, &str)> =
        covered.components.iter().map(|name| *request.iter().find(|(n, _)| n == name).unwrap()).collect();
    let base = signature_base(&lines, &covered.params_line);
    assert_eq!(base, BASE);

    let public = VerifyingKey::from_public_key_pem(PUBLIC_KEY).unwrap();
    let signature = signature_bytes(SIGNATURE.as_bytes(), "sig-b26").unwrap();
    public.verify_strict(base.as_bytes(), &signature).unwrap();
    // Ed25519 is deterministic: the appendix's private key signs the base into the same bytes.
    let private = SigningKey::from_pkcs8_pem(PRIVATE_KEY).unwrap();
    assert_eq!(private.verifying_key(), public);
    assert_eq!(private.sign(base.as_bytes()), signature);
    // One byte of the base changed, and the signature no longer verifies.
    assert!(public.verify_strict(base.replace("POST", "PUT").as_bytes(), &signature).is_err());
}

#[test]
fn a_signed_read_has_the_documented_headers_and_base() {
    let signed = sign(&target(Some("fields=weight")), &key(1), NOW, NONCE);
    assert_eq!(
        signed.signature_input,
        format!(
            "{}{}",
            r#"salvage=("@method" "@authority" "@path" "@query")"#,
            format_args!(
                r#";created={NOW};nonce="{NONCE}";keyid="{}";alg="ed25519";tag="salvage-member/v1""#,
                keyid(1)
            )
        )
    );
    assert!(signed.signature.starts_with("salvage=:") && signed.signature.ends_with(':'));
    let covered = covered(signed.signature_input.as_bytes(), LABEL).unwrap();
    // What `sign` writes by hand is what RFC 8941 serializes: the verifier's line is the same.
    assert_eq!(format!("{LABEL}={}", covered.params_line), signed.signature_input);
    let expected_base = format!(
        "\"@method\": GET\n\"@authority\": {AUTHORITY}\n\"@path\": {PATH}\n\"@query\": ?fields=weight\n\
         \"@signature-params\": {}",
        covered.params_line
    );
    let lines = [("@method", "GET"), ("@authority", AUTHORITY), ("@path", PATH), ("@query", "?fields=weight")];
    assert_eq!(signature_base(&lines, &covered.params_line), expected_base);
    let signature = signature_bytes(signed.signature.as_bytes(), LABEL).unwrap();
    PublicKey::of(&key(1)).verifying_key().verify_strict(expected_base.as_bytes(), &signature).unwrap();
}

#[test]
fn a_read_signed_with_or_without_a_query_verifies() {
    for query in [None, Some("fields=weight&lang=lv"), Some("")] {
        let target = target(query);
        let signed = sign(&target, &key(1), NOW, NONCE);
        assert_eq!(
            check(&target, &signed, NOW),
            Ok(Claim { key: PublicKey::of(&key(1)), created: NOW, nonce: NONCE.to_owned() }),
            "query {query:?}"
        );
        assert_eq!(signed.signature_input.contains("\"@query\""), query.is_some());
    }
    // An empty path is signed and checked as `/` (RFC 9421 §2.2.6).
    let empty = SignedTarget { path: "", ..target(None) };
    let signed = sign(&empty, &key(1), NOW, NONCE);
    assert!(check(&SignedTarget { path: "/", ..target(None) }, &signed, NOW).is_ok());
}

#[test]
fn the_authority_is_signed_in_lowercase() {
    let signed = sign(&SignedTarget { authority: "Node.EXAMPLE:8080", ..target(None) }, &key(1), NOW, NONCE);
    assert!(check(&target(None), &signed, NOW).is_ok());
    let signed = sign(&target(None), &key(1), NOW, NONCE);
    assert!(check(&SignedTarget { authority: "NODE.example:8080", ..target(None) }, &signed, NOW).is_ok());
}

#[test]
fn another_request_does_not_verify() {
    let original = target(Some("fields=weight"));
    let signed = sign(&original, &key(1), NOW, NONCE);
    let bad = MemberAuthError::BadSignature;
    for (what, other) in [
        ("method", SignedTarget { method: "POST", ..original }),
        ("method's case", SignedTarget { method: "get", ..original }),
        ("authority", SignedTarget { authority: "other.example:8080", ..original }),
        ("port", SignedTarget { authority: "node.example:8081", ..original }),
        ("port left out", SignedTarget { authority: "node.example", ..original }),
        ("path", SignedTarget { path: "/v1/items/urn:epc:id:giai:4012345.2/disclosures", ..original }),
        ("path's encoding", SignedTarget { path: "/v1/items/urn%3Aepc:id:giai:4012345.1/disclosures", ..original }),
        ("query", SignedTarget { query: Some("fields=owner"), ..original }),
        ("empty query", SignedTarget { query: Some(""), ..original }),
    ] {
        assert_eq!(check(&other, &signed, NOW), Err(bad.clone()), "{what}");
    }
    // A query dropped, or added to a request signed without one: the signature covers another set.
    assert!(matches!(check(&target(None), &signed, NOW), Err(MemberAuthError::Coverage(_))));
    let without = sign(&target(None), &key(1), NOW, NONCE);
    assert!(matches!(check(&original, &without, NOW), Err(MemberAuthError::Coverage(_))));
}

#[test]
fn changed_parameters_or_signature_do_not_verify() {
    let target = target(None);
    let signed = sign(&target, &key(1), NOW, NONCE);
    let with_input = |input: String| RequestSignature { signature_input: input, signature: signed.signature.clone() };
    let bad = Err(MemberAuthError::BadSignature);
    let input = &signed.signature_input;
    let later = with_input(input.replace(&format!("created={NOW}"), &format!("created={}", NOW + 1)));
    assert_eq!(check(&target, &later, NOW), bad);
    let other_nonce = with_input(input.replace(NONCE, "fedcba9876543210fedcba9876543210"));
    assert_eq!(check(&target, &other_nonce, NOW), bad);
    // Another member's key, named as the signer.
    assert_eq!(check(&target, &with_input(input.replace(&keyid(1), &keyid(2))), NOW), bad);
    // The same parameters in another order: another `@signature-params` line than the one signed.
    let reordered = with_input(input.replace(
        &format!(r#"nonce="{NONCE}";keyid="{}""#, keyid(1)),
        &format!(r#"keyid="{}";nonce="{NONCE}""#, keyid(1)),
    ));
    assert_ne!(&reordered.signature_input, input);
    assert_eq!(check(&target, &reordered, NOW), bad);
    let extra = with_input(format!(r#"{input};extra="x""#));
    assert_eq!(check(&target, &extra, NOW), bad);
    // Another signature: one bit flipped, or the signature of another request.
    let mut bytes = signature_bytes(signed.signature.as_bytes(), LABEL).unwrap().to_bytes();
    bytes[10] ^= 1;
    let mut header = DictSerializer::new();
    let _ = header.bare_item(sfv::key_ref(LABEL), &bytes[..]);
    let flipped = RequestSignature { signature_input: input.clone(), signature: header.finish().unwrap() };
    assert_eq!(check(&target, &flipped, NOW), bad);
    let other = sign(&target, &key(1), NOW, "fedcba9876543210fedcba9876543210");
    let swapped = RequestSignature { signature_input: input.clone(), signature: other.signature };
    assert_eq!(check(&target, &swapped, NOW), bad);
}

#[test]
fn parameters_in_any_order_and_unknown_ones_verify_as_received() {
    let target = target(Some("a=1"));
    let k = keyid(3);
    let all = r#"("@method" "@authority" "@path" "@query")"#;
    let usual = format!(r#";created={NOW};nonce="{NONCE}";keyid="{k}";alg="ed25519";tag="{TAG}""#);
    for inner in [
        format!(r#"("@path" "@query" "@method" "@authority");tag="{TAG}";alg="ed25519";keyid="{k}""#)
            + &format!(r#";nonce="{NONCE}";created={NOW}"#),
        format!(r#"{all}{usual};app="x";n=5"#),
        format!(r#"{all};expires={}{usual}"#, NOW + 30),
    ] {
        let signed = sign_inner(&target, &key(3), &inner);
        let claim = check(&target, &signed, NOW).unwrap_or_else(|e| panic!("{inner}: {e}"));
        assert_eq!(claim.key, PublicKey::of(&key(3)));
        // The parameters' line is rebuilt from the header as received; whitespace that RFC 8941
        // allows around members does not change it.
        let spaced = RequestSignature {
            signature_input: format!("other=(), {}  ", signed.signature_input),
            signature: format!(" other=:AAAA:,{}", signed.signature),
        };
        assert!(check(&target, &spaced, NOW).is_ok(), "{inner}");
    }
}

#[test]
fn only_the_request_target_may_be_covered() {
    let target = target(None);
    let k = keyid(1);
    let params = format!(r#";created={NOW};nonce="{NONCE}";keyid="{k}";alg="ed25519";tag="{TAG}""#);
    let signature = sign(&target, &key(1), NOW, NONCE).signature;
    for components in [
        r#"("@method" "@path")"#,
        r#"("@method" "@authority" "@path" "@authority")"#,
        r#"("@method" "@method" "@path")"#,
        r#"("@method" "@authority" "@path" "@target-uri")"#,
        r#"("@method" "@authority" "@path";req)"#,
        "()",
    ] {
        let input = format!("{LABEL}={components}{params}");
        let result = verify(&target, Some(input.as_bytes()), Some(signature.as_bytes()), NOW);
        assert!(matches!(result, Err(MemberAuthError::Coverage(_))), "{components}: {result:?}");
    }
}

#[test]
fn created_must_be_within_the_skew_both_ways() {
    let target = target(None);
    let signed = sign(&target, &key(1), NOW, NONCE);
    let skew = MAX_SKEW.as_secs();
    assert!(check(&target, &signed, NOW + skew).is_ok());
    assert!(check(&target, &signed, NOW - skew).is_ok());
    let late = check(&target, &signed, NOW + skew + 1);
    assert_eq!(late, Err(MemberAuthError::Stale { created: NOW, now: NOW + skew + 1 }));
    assert!(late.unwrap_err().message().contains("behind"));
    let early = check(&target, &signed, NOW - skew - 1);
    assert_eq!(early, Err(MemberAuthError::Stale { created: NOW, now: NOW - skew - 1 }));
    let message = early.unwrap_err().message();
    assert!(message.contains("ahead of") && !message.contains(&(NOW - skew - 1).to_string()), "{message}");
}

#[test]
fn an_expired_signature_is_refused() {
    let target = target(None);
    let k = keyid(1);
    let inner = |expires: u64| {
        format!(r#"("@method" "@authority" "@path");created={NOW};expires={expires};nonce="{NONCE}""#)
            + &format!(r#";keyid="{k}";alg="ed25519";tag="{TAG}""#)
    };
    let signed = sign_inner(&target, &key(1), &inner(NOW + 10));
    assert!(check(&target, &signed, NOW + 10).is_ok());
    assert_eq!(check(&target, &signed, NOW + 11), Err(MemberAuthError::Expired { expires: NOW + 10, now: NOW + 11 }));
}

#[test]
fn missing_headers_are_refused() {
    let target = target(None);
    let signed = sign(&target, &key(1), NOW, NONCE);
    let (input, signature) = (signed.signature_input.as_bytes(), signed.signature.as_bytes());
    assert_eq!(verify(&target, None, None, NOW), Err(MemberAuthError::Missing));
    assert_eq!(verify(&target, Some(input), None, NOW), Err(MemberAuthError::Missing));
    assert_eq!(verify(&target, None, Some(signature), NOW), Err(MemberAuthError::Missing));
}

#[test]
fn the_algorithm_and_the_tag_are_required() {
    let target = target(None);
    let signed = sign(&target, &key(1), NOW, NONCE);
    let check_input = |input: String| verify(&target, Some(input.as_bytes()), Some(signed.signature.as_bytes()), NOW);
    let input = &signed.signature_input;
    assert_eq!(
        check_input(input.replace(r#"alg="ed25519""#, r#"alg="rsa-pss-sha512""#)),
        Err(MemberAuthError::UnknownAlgorithm("rsa-pss-sha512".to_owned()))
    );
    assert_eq!(
        check_input(input.replace(r#"alg="ed25519""#, r#"alg="Ed25519""#)),
        Err(MemberAuthError::UnknownAlgorithm("Ed25519".to_owned()))
    );
    assert!(matches!(check_input(input.replace(r#";alg="ed25519""#, "")), Err(MemberAuthError::Malformed(_))));
    assert!(matches!(
        check_input(input.replace(r#"alg="ed25519""#, "alg=ed25519")),
        Err(MemberAuthError::Malformed(_))
    ));
    assert_eq!(
        check_input(input.replace(TAG, "salvage-member/v2")),
        Err(MemberAuthError::WrongTag(Some("salvage-member/v2".to_owned())))
    );
    assert_eq!(check_input(input.replace(&format!(r#";tag="{TAG}""#), "")), Err(MemberAuthError::WrongTag(None)));
}

#[test]
fn bad_nonces_and_keyids_are_malformed() {
    let target = target(None);
    for nonce in
        ["0123456789abcde", &"a".repeat(65), "0123456789abcdef 0123", "0123456789abcdef.0123", "0123456789abcdéf0"]
    {
        let result = check(&target, &sign(&target, &key(1), NOW, nonce), NOW);
        assert!(matches!(result, Err(MemberAuthError::Malformed(_))), "{nonce:?}: {result:?}");
    }
    for nonce in ["0123456789abcdef", &"A_-z".repeat(16)] {
        assert!(check(&target, &sign(&target, &key(1), NOW, nonce), NOW).is_ok(), "{nonce:?}");
    }
    let signed = sign(&target, &key(1), NOW, NONCE);
    // Not a point on the curve (y = 2 has no x), a short key, uppercase hex, a weak key (the identity).
    let not_a_point = format!("02{}", "00".repeat(31));
    let identity = format!("01{}", "00".repeat(31));
    for keyid in [not_a_point, "abcd".to_owned(), keyid(1).to_uppercase(), identity] {
        let input = signed.signature_input.replace(&self::keyid(1), &keyid);
        let result = verify(&target, Some(input.as_bytes()), Some(signed.signature.as_bytes()), NOW);
        assert!(matches!(result, Err(MemberAuthError::Malformed(_))), "{keyid}: {result:?}");
    }
}

#[test]
fn garbage_truncated_and_huge_headers_are_malformed_and_never_panic() {
    let target = target(Some("q=1"));
    let signed = sign(&target, &key(1), NOW, NONCE);
    let (input, signature) = (signed.signature_input.as_bytes(), signed.signature.as_bytes());
    // Every truncation of either header is refused.
    for end in 0..input.len() {
        assert!(verify(&target, Some(&input[..end]), Some(signature), NOW).is_err(), "{end}");
    }
    for end in 0..signature.len() {
        assert!(verify(&target, Some(input), Some(&signature[..end]), NOW).is_err(), "{end}");
    }
    let huge = format!(r#"{};pad="{}""#, signed.signature_input, "x".repeat(10_000));
    let garbage: [&[u8]; 12] = [
        b"",
        b"salvage",
        b"salvage=",
        b"salvage=1",
        b"salvage=(",
        b"salvage=:AAAA:",
        b"other=(\"@method\");created=1",
        b"\xff\xfe\x00salvage",
        b"salvage=(\"@method\" \"@authority\" \"@path\" \"@query\");created=1.5",
        b"salvage=(\"@method\" \"@authority\" \"@path\" \"@query\");created=-5",
        b"salvage=(\"@method\" \"@authority\" \"@path\" \"@query\");created=99999999999999999999",
        huge.as_bytes(),
    ];
    for bad in garbage {
        let result = verify(&target, Some(bad), Some(signature), NOW);
        assert!(matches!(result, Err(MemberAuthError::Malformed(_))), "{:?}: {result:?}", String::from_utf8_lossy(bad));
    }
    let huge_signature = vec![b'a'; 10 * 1024];
    let signatures: [&[u8]; 7] = [
        b"",
        b"salvage=?1",
        b"salvage=:AAAA:",
        b"salvage=:not base64:",
        b"salvage=(:AAAA:)",
        b"other=:AAAA:",
        &huge_signature,
    ];
    for bad in signatures {
        let result = verify(&target, Some(input), Some(bad), NOW);
        assert!(matches!(result, Err(MemberAuthError::Malformed(_))), "{:?}: {result:?}", String::from_utf8_lossy(bad));
    }
    // A request target with a line feed cannot be signed: its value could pose as another line.
    let forged = SignedTarget { path: "/x\n\"@query\": ?a", ..target };
    let result = check(&forged, &sign(&forged, &key(1), NOW, NONCE), NOW);
    assert!(matches!(result, Err(MemberAuthError::Malformed(_))), "{result:?}");
}

#[test]
fn a_replayed_request_is_refused() {
    let target = target(None);
    let seen = SeenRequests::default();
    let start = Instant::now();
    let claim = check(&target, &sign(&target, &key(1), NOW, NONCE), NOW).unwrap();
    assert_eq!(seen.admit(&claim, start), Ok(()));
    assert_eq!(seen.admit(&claim, start), Err(MemberAuthError::Replayed));
    assert_eq!(seen.admit(&claim, start + SEEN_FOR), Err(MemberAuthError::Replayed));
    // Nonces are the signer's: the same one from another key is another request.
    let other = check(&target, &sign(&target, &key(2), NOW, NONCE), NOW).unwrap();
    assert_eq!(seen.admit(&other, start), Ok(()));
    let fresh = Claim { nonce: fresh_nonce().unwrap(), ..claim };
    assert_eq!(seen.admit(&fresh, start), Ok(()));
}

fn claim(seed: u8, n: usize) -> Claim {
    Claim { key: PublicKey::of(&key(seed)), created: NOW, nonce: format!("nonce-{n:010}") }
}

#[test]
fn the_memory_of_nonces_is_bounded_in_all_and_per_key() {
    let window = Duration::from_secs(120);
    let seen = SeenRequests::with_bounds(4, 2, window);
    let start = Instant::now();
    assert_eq!(seen.admit(&claim(1, 1), start), Ok(()));
    assert_eq!(seen.admit(&claim(1, 2), start), Ok(()));
    assert_eq!(seen.admit(&claim(1, 3), start), Err(MemberAuthError::Busy), "two of one key");
    assert_eq!(seen.admit(&claim(2, 1), start), Ok(()));
    assert_eq!(seen.admit(&claim(3, 1), start), Ok(()));
    assert_eq!(seen.admit(&claim(4, 1), start), Err(MemberAuthError::Busy), "four in all");
    // Full, it still tells a replay from a request it has no room for.
    assert_eq!(seen.admit(&claim(1, 1), start), Err(MemberAuthError::Replayed));
    // Once the window has passed, everything is forgotten and there is room again.
    let later = start + window + Duration::from_secs(1);
    assert_eq!(seen.admit(&claim(4, 1), later), Ok(()));
    assert_eq!(seen.admit(&claim(1, 3), later), Ok(()));
    assert_eq!(seen.admit(&claim(1, 4), later), Ok(()));
    assert_eq!(seen.admit(&claim(1, 5), later), Err(MemberAuthError::Busy));

    // The default bounds hold too: as many nonces as allowed of one key, and not one more.
    let seen = SeenRequests::default();
    for n in 0..MAX_SEEN_PER_KEY {
        assert_eq!(seen.admit(&claim(5, n), start), Ok(()));
    }
    assert_eq!(seen.admit(&claim(5, MAX_SEEN_PER_KEY), start), Err(MemberAuthError::Busy));
    assert_eq!(seen.admit(&claim(6, 0), start), Ok(()));
}

#[test]
fn nonces_are_forgotten_after_the_window_and_not_before() {
    let window = Duration::from_secs(120);
    let seen = SeenRequests::with_bounds(16, 16, window);
    let start = Instant::now();
    assert_eq!(seen.admit(&claim(1, 1), start), Ok(()));
    assert_eq!(seen.admit(&claim(1, 2), start + Duration::from_secs(60)), Ok(()));
    assert_eq!(seen.admit(&claim(1, 1), start + window), Err(MemberAuthError::Replayed));
    let after = start + window + Duration::from_millis(1);
    assert_eq!(seen.admit(&claim(1, 1), after), Ok(()), "forgotten, then noted again");
    assert_eq!(seen.admit(&claim(1, 1), after), Err(MemberAuthError::Replayed));
    assert_eq!(seen.admit(&claim(1, 2), after), Err(MemberAuthError::Replayed), "the later one is still remembered");
    // The window covers every request `verify` lets in: created at most MAX_SKEW from arrival, and
    // accepted at most MAX_SKEW after created.
    assert!(SEEN_FOR >= 2 * MAX_SKEW);
}

#[test]
fn fresh_nonces_are_random_lowercase_hex_and_accepted() {
    let (a, b) = (fresh_nonce().unwrap(), fresh_nonce().unwrap());
    assert_ne!(a, b);
    assert_eq!(a.len(), 32);
    assert!(a.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{a}");
    let target = target(None);
    assert_eq!(check(&target, &sign(&target, &key(1), NOW, &a), NOW).map(|claim| claim.nonce), Ok(a));
}

#[test]
fn every_refusal_has_its_own_code_and_a_message() {
    let refusals = [
        MemberAuthError::Missing,
        MemberAuthError::Malformed("the Signature header is 5000 bytes long".to_owned()),
        MemberAuthError::UnknownAlgorithm("hmac-sha256".to_owned()),
        MemberAuthError::WrongTag(None),
        MemberAuthError::WrongTag(Some("other".to_owned())),
        MemberAuthError::Coverage("\"@method\"".to_owned()),
        MemberAuthError::Stale { created: 1, now: 100 },
        MemberAuthError::Expired { expires: 1, now: 100 },
        MemberAuthError::BadSignature,
        MemberAuthError::Replayed,
        MemberAuthError::Busy,
    ];
    let mut codes: Vec<&str> = refusals.iter().map(MemberAuthError::code).collect();
    for refusal in &refusals {
        let message = refusal.message();
        assert!(refusal.code().starts_with("auth.") && message.len() > 40, "{}: {message}", refusal.code());
    }
    codes.dedup();
    assert_eq!(codes.len(), refusals.len() - 1, "WrongTag's two refusals share a code, and no others");
    assert!(MemberAuthError::WrongTag(None).message().contains("absent"));
    // Text from the request is cut short in messages.
    let long = shown(&"x".repeat(1000));
    assert_eq!(long.chars().count(), SHOWN_LEN + 1);
}
