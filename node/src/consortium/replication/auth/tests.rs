use salvage_ledger::testkit::Fixture;

use super::*;

const VOTE: &str = "/v1/raft/vote";

fn members() -> Vec<Member> {
    salvage_ledger::custody::State::from_genesis(&Fixture::new().genesis).unwrap().members().cloned().collect()
}

fn signer(member: &str) -> RequestSigner {
    RequestSigner::new(member, Fixture::key(member))
}

/// Parses and checks a header as a receiving node does, body included.
fn receive(
    header: &str,
    path: &str,
    own: &str,
    body: &[u8],
    seen: &SeenNonces,
    now: SystemTime,
) -> Result<String, AuthError> {
    let claim = Claim::parse(Some(header))?;
    claim.verify(path, own, &members(), seen, now)?;
    claim.check_body(body)?;
    seen.note(&claim, Instant::now())?;
    Ok(claim.sender)
}

#[test]
fn an_operators_request_to_this_node_is_accepted_once_and_anything_else_refused() {
    let now = SystemTime::now();
    let seen = SeenNonces::default();
    let (header, _) = signer("regional-planning").sign("city-of-jelgava", VOTE, b"{\"vote\":1}", now).unwrap();
    assert_eq!(receive(&header, VOTE, "city-of-jelgava", b"{\"vote\":1}", &seen, now).unwrap(), "regional-planning");

    // The same request again, to the same node: a replay.
    assert_eq!(
        receive(&header, VOTE, "city-of-jelgava", b"{\"vote\":1}", &seen, now),
        Err(AuthError::Replayed("regional-planning".to_owned()))
    );
    let fresh = SeenNonces::default();
    // Sent to one node, replayed to another.
    assert_eq!(
        receive(&header, VOTE, "reuse-hub", b"{\"vote\":1}", &fresh, now),
        Err(AuthError::Misdirected("city-of-jelgava".to_owned()))
    );
    // The destination rewritten to the node it is replayed to.
    let rewritten = header.replacen("city-of-jelgava", "reuse-hub", 1);
    assert_eq!(
        receive(&rewritten, VOTE, "reuse-hub", b"{\"vote\":1}", &fresh, now),
        Err(AuthError::BadSignature("regional-planning".to_owned()))
    );
    // Another body, another path, another time.
    assert_eq!(receive(&header, VOTE, "city-of-jelgava", b"{\"vote\":2}", &fresh, now), Err(AuthError::BodyMismatch));
    assert_eq!(
        receive(&header, "/v1/raft/append", "city-of-jelgava", b"{\"vote\":1}", &fresh, now),
        Err(AuthError::BadSignature("regional-planning".to_owned()))
    );
    let later = now + MAX_SKEW + Duration::from_secs(1);
    assert!(matches!(
        receive(&header, VOTE, "city-of-jelgava", b"{\"vote\":1}", &fresh, later),
        Err(AuthError::Stale { .. })
    ));
    assert_eq!(Claim::parse(None), Err(AuthError::Missing));

    // A member that is no operator cannot sign Raft traffic, even with its own key.
    let (header, _) = signer("baltic-demolition").sign("city-of-jelgava", VOTE, b"", now).unwrap();
    assert_eq!(
        receive(&header, VOTE, "city-of-jelgava", b"", &fresh, now),
        Err(AuthError::NotOperator("baltic-demolition".to_owned()))
    );
    // An operator's id with a key of someone else's.
    let stranger = RequestSigner::new("regional-planning", SigningKey::from_bytes(&[7; 32]));
    let (header, _) = stranger.sign("city-of-jelgava", VOTE, b"", now).unwrap();
    assert_eq!(
        receive(&header, VOTE, "city-of-jelgava", b"", &fresh, now),
        Err(AuthError::BadSignature("regional-planning".to_owned()))
    );
}

#[test]
fn malformed_headers_are_refused_as_malformed() {
    let (good, _) = signer("regional-planning").sign("city-of-jelgava", VOTE, b"", SystemTime::now()).unwrap();
    let fields: Vec<&str> = good.split(' ').collect();
    let with = |index: usize, value: &str| {
        let mut changed = fields.clone();
        changed[index] = value;
        changed.join(" ")
    };
    let uppercase_nonce = fields[3].to_uppercase();
    let malformed = [
        String::new(),
        "a b c".to_owned(),
        format!("{good} extra"),
        with(0, ""),
        with(2, "soon"),
        with(3, "00"),
        with(3, &uppercase_nonce),
        with(4, "zz"),
        with(5, &"0".repeat(126)),
    ];
    for header in malformed {
        assert!(matches!(Claim::parse(Some(&header)), Err(AuthError::Malformed(_))), "{header:?}");
    }
}

#[test]
fn seen_nonces_are_forgotten_only_once_their_requests_are_stale() {
    let now = SystemTime::now();
    let seen = SeenNonces::default();
    let (header, _) = signer("regional-planning").sign("city-of-jelgava", VOTE, b"", now).unwrap();
    let claim = Claim::parse(Some(&header)).unwrap();
    let arrived = Instant::now();
    seen.note(&claim, arrived).unwrap();
    assert!(seen.contains(&claim));
    // Another request's note, a little before its copy would be stale, keeps it.
    let (other, _) = signer("regional-planning").sign("city-of-jelgava", VOTE, b"", now).unwrap();
    seen.note(&Claim::parse(Some(&other)).unwrap(), arrived + 2 * MAX_SKEW - Duration::from_secs(1)).unwrap();
    assert!(seen.contains(&claim));
    let (third, _) = signer("regional-planning").sign("city-of-jelgava", VOTE, b"", now).unwrap();
    seen.note(&Claim::parse(Some(&third)).unwrap(), arrived + 2 * MAX_SKEW + Duration::from_secs(1)).unwrap();
    assert!(!seen.contains(&claim));
}

#[test]
fn an_answer_verifies_only_as_the_asked_nodes_answer_to_that_request() {
    let members = members();
    let asking = signer("regional-planning");
    let (header, nonce) = asking.sign("city-of-jelgava", VOTE, b"{}", SystemTime::now()).unwrap();
    let claim = Claim::parse(Some(&header)).unwrap();
    let answer = signer("city-of-jelgava").sign_answer(&claim, VOTE, b"{\"Ok\":1}");
    let request = ("regional-planning", &nonce, VOTE);
    verify_answer(Some(&answer), "city-of-jelgava", &members, request, b"{\"Ok\":1}").unwrap();

    let bad = Err(AnswerError::BadSignature("city-of-jelgava".to_owned()));
    assert_eq!(verify_answer(Some(&answer), "city-of-jelgava", &members, request, b"{\"Ok\":2}"), bad);
    let other_nonce = [9; 16];
    let other_request = ("regional-planning", &other_nonce, VOTE);
    assert_eq!(verify_answer(Some(&answer), "city-of-jelgava", &members, other_request, b"{\"Ok\":1}"), bad);
    let other_path = ("regional-planning", &nonce, "/v1/raft/append");
    assert_eq!(verify_answer(Some(&answer), "city-of-jelgava", &members, other_path, b"{\"Ok\":1}"), bad);
    assert_eq!(
        verify_answer(Some(&answer), "reuse-hub", &members, request, b"{\"Ok\":1}"),
        Err(AnswerError::OtherResponder { asked: "reuse-hub".to_owned(), answered: "city-of-jelgava".to_owned() })
    );
    assert_eq!(verify_answer(None, "city-of-jelgava", &members, request, b""), Err(AnswerError::Missing));
    assert_eq!(
        verify_answer(Some("city-of-jelgava"), "city-of-jelgava", &members, request, b""),
        Err(AnswerError::Malformed)
    );
    // Signed by the asked operator's id with a key not among its own.
    let forged = RequestSigner::new("city-of-jelgava", SigningKey::from_bytes(&[7; 32])).sign_answer(
        &claim,
        VOTE,
        b"{\"Ok\":1}",
    );
    assert_eq!(verify_answer(Some(&forged), "city-of-jelgava", &members, request, b"{\"Ok\":1}"), bad);
}

/// The worked example of docs/format.md §12, recomputed.
#[test]
fn format_md_shows_the_request_and_answer_headers_the_code_computes() {
    let page = include_str!("../../../../../docs/format.md");
    let at = UNIX_EPOCH + Duration::from_secs(1_795_428_000);
    let nonce: Nonce = std::array::from_fn(|i| i as u8);
    let body = br#"{"example":true}"#;
    let header = signer("regional-planning").sign_with("city-of-jelgava", VOTE, body, at, nonce);
    let claim = Claim::parse(Some(&header)).unwrap();
    let answer = signer("city-of-jelgava").sign_answer(&claim, VOTE, br#"{"Ok":true}"#);
    if std::env::var_os("SALVAGE_PRINT_EXAMPLE").is_some() {
        println!("{header}\n{answer}");
    }
    assert!(page.contains(&header), "docs/format.md does not show the request header:\n{header}");
    assert!(page.contains(&answer), "docs/format.md does not show the answer header:\n{answer}");
    claim.verify(VOTE, "city-of-jelgava", &members(), &SeenNonces::default(), at).unwrap();
}
