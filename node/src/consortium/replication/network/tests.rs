//! A node takes a peer's answer only if the peer's operator signed it as the
//! answer to that very request: a fake peer on a real socket answers in
//! every wrong way an attacker on the path could.

use std::sync::Arc;

use salvage_ledger::store::Ledger;
use salvage_ledger::testkit::Fixture;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::consortium::replication::auth::{AnswerError, Claim};

/// How the fake peer answers a request, given its parsed header and body.
type Answering = fn(&Claim, &[u8]) -> (Option<String>, Vec<u8>);

/// Serves one connection at `listener`, answering each request with `answering`.
async fn fake_peer(listener: TcpListener, answering: Answering) {
    let (mut stream, _) = listener.accept().await.unwrap();
    let mut buffer = Vec::new();
    loop {
        let head_end = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0u8; 4096];
            let read = stream.read(&mut chunk).await.unwrap();
            if read == 0 {
                return;
            }
            buffer.extend_from_slice(&chunk[..read]);
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_lowercase();
        let field = |name: &str| {
            head.lines().find_map(|line| line.strip_prefix(&format!("{name}: ")).map(str::trim).map(str::to_owned))
        };
        let length: usize = field("content-length").unwrap().parse().unwrap();
        let auth = field(AUTH_HEADER).unwrap();
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            let read = stream.read(&mut chunk).await.unwrap();
            buffer.extend_from_slice(&chunk[..read]);
        }
        let body = buffer[head_end..head_end + length].to_vec();
        buffer.drain(..head_end + length);
        let (signature, answer) = answering(&Claim::parse(Some(&auth)).unwrap(), &body);
        let mut response = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n", answer.len());
        if let Some(signature) = signature {
            response.push_str(&format!("{ANSWER_HEADER}: {signature}\r\n"));
        }
        response.push_str("\r\n");
        stream.write_all(response.as_bytes()).await.unwrap();
        stream.write_all(&answer).await.unwrap();
    }
}

/// Posts once to a fake peer of `city-of-jelgava`'s that answers with `answering`.
async fn post_to(answering: Answering) -> Result<(StatusCode, Bytes), TransportError> {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let ledger = Arc::new(Ledger::create(dir.path(), fixture.genesis.clone()).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let peer = tokio::spawn(fake_peer(listener, answering));
    let signer = RequestSigner::new("regional-planning", Fixture::key("regional-planning"));
    let connections = PeerConnections::new(signer, Arc::new(Roster::new(ledger)));
    let node = ConsortiumNode { member: "city-of-jelgava".to_owned(), url };
    let posted = connections.post(&node, VOTE_PATH, b"{\"vote\":1}".to_vec()).await;
    peer.abort();
    posted
}

fn signed_by(member: &str, claim: &Claim, body: &[u8]) -> String {
    RequestSigner::new(member, Fixture::key(member)).sign_answer(claim, VOTE_PATH, body)
}

fn refusal(posted: Result<(StatusCode, Bytes), TransportError>) -> AnswerError {
    match posted {
        Err(TransportError::Unsigned { reason, .. }) => reason,
        other => panic!("the answer was taken: {other:?}"),
    }
}

#[tokio::test]
async fn the_asked_nodes_answer_to_the_request_is_taken() {
    let (status, body) =
        post_to(|claim, _| (Some(signed_by("city-of-jelgava", claim, b"{\"Ok\":1}")), b"{\"Ok\":1}".to_vec()))
            .await
            .unwrap();
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"{\"Ok\":1}"[..]));
}

#[tokio::test]
async fn an_unsigned_answer_is_not_taken() {
    assert_eq!(refusal(post_to(|_, _| (None, b"{\"Ok\":1}".to_vec())).await), AnswerError::Missing);
}

#[tokio::test]
async fn an_answer_whose_body_was_changed_on_the_way_is_not_taken() {
    let changed =
        post_to(|claim, _| (Some(signed_by("city-of-jelgava", claim, b"{\"Ok\":1}")), b"{\"Ok\":2}".to_vec()));
    assert_eq!(refusal(changed.await), AnswerError::BadSignature("city-of-jelgava".to_owned()));
}

#[tokio::test]
async fn an_answer_signed_by_another_operator_is_not_taken() {
    let other = post_to(|claim, _| (Some(signed_by("reuse-hub", claim, b"{\"Ok\":1}")), b"{\"Ok\":1}".to_vec()));
    assert_eq!(
        refusal(other.await),
        AnswerError::OtherResponder { asked: "city-of-jelgava".to_owned(), answered: "reuse-hub".to_owned() }
    );
}

#[tokio::test]
async fn an_answer_to_another_request_is_not_taken() {
    // A genuine answer of the asked node, to an earlier request with another nonce.
    let replayed = post_to(|claim, _| {
        let mut earlier = claim.clone();
        earlier.nonce = [0; 16];
        (Some(signed_by("city-of-jelgava", &earlier, b"{\"Ok\":1}")), b"{\"Ok\":1}".to_vec())
    });
    assert_eq!(refusal(replayed.await), AnswerError::BadSignature("city-of-jelgava".to_owned()));
}
