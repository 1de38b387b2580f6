//! Raft's messages between nodes: JSON over HTTP/1.1, signed by the sender.
//!
//! Each message is a `POST` to the receiving node's `/v1/raft/append`,
//! `/v1/raft/vote` or `/v1/raft/snapshot`, its body openraft's request as
//! JSON and its `auth::AUTH_HEADER` the sending operator's signature. The
//! answer is JSON of openraft's `Result<response, RaftError>`, taken only if
//! the peer's operator signed it as the answer to that request
//! (`auth::ANSWER_HEADER`). Each peer client
//! keeps one keep-alive connection and opens a new one when it breaks; a peer
//! that cannot be reached is reported to Raft as unreachable, and Raft retries.
//!
//! Raft traffic is plain HTTP: its integrity and origin rest on the signatures,
//! not on the channel. It carries nothing that is not also in the ledger every
//! member may download.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;

use super::auth::{self, ANSWER_HEADER, AUTH_HEADER, Nonce, RequestSigner};
use super::roster::Roster;
use super::{ConsortiumNode, NodeId, TypeConfig};

/// The paths of Raft's messages, on every node.
pub const APPEND_PATH: &str = "/v1/raft/append";
/// See [`APPEND_PATH`].
pub const VOTE_PATH: &str = "/v1/raft/vote";
/// See [`APPEND_PATH`].
pub const SNAPSHOT_PATH: &str = "/v1/raft/snapshot";

/// The largest answer read from a peer: Raft's answers are small, a forwarded
/// batch's outcomes at most some hundred kilobytes.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// How long a node waits to connect to a peer before calling it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Makes a [`PeerClient`] for each node Raft talks to.
pub struct Network {
    connections: PeerConnections,
}

impl Network {
    /// Raft messages signed by `signer`, this node's operator, and answers
    /// checked against the members of `roster`.
    pub fn new(signer: RequestSigner, roster: Arc<Roster>) -> Network {
        Network { connections: PeerConnections::new(signer, roster) }
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeId, node: &ConsortiumNode) -> PeerClient {
        PeerClient { target, node: node.clone(), connections: self.connections.fresh() }
    }
}

/// Sends Raft's messages to one peer; openraft sends them one at a time, so
/// they take one keep-alive connection.
pub struct PeerClient {
    target: NodeId,
    node: ConsortiumNode,
    connections: PeerConnections,
}

/// Why a message did not reach the peer or its answer could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The peer's URL is not `http://host:port`.
    #[error("the peer URL {0} is not http://host:port")]
    Url(String),
    /// No connection could be made or kept.
    #[error("{url}: {reason}")]
    Connection {
        /// The peer.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The peer's answer is not signed by its operator as the answer to this request.
    #[error("{url} answered without its operator's signature on the answer: {reason}")]
    Unsigned {
        /// The peer.
        url: String,
        /// What is wrong with the signature.
        reason: auth::AnswerError,
    },
    /// The peer answered with something that is not a Raft answer.
    #[error("{url} answered {status}: {body}")]
    Answer {
        /// The peer.
        url: String,
        /// The HTTP status.
        status: StatusCode,
        /// The start of the answer's body.
        body: String,
    },
}

/// Posts to other nodes, signed by this node's operator as Raft traffic is,
/// over keep-alive connections: Raft's messages, the batches a follower
/// forwards to the leader and cosignature requests all go this way, since a
/// new TCP connection per message would cost a handshake and a socket on both
/// sides each time.
///
/// A connection is taken for one request and given back once its answer is
/// read, so concurrent posts to one node use as many connections as are in
/// flight. One that the peer has closed is noticed when it is taken and
/// dropped, as is one whose request failed or was abandoned; a request that
/// fails is not retried (the caller decides).
#[derive(Clone)]
pub struct PeerConnections {
    signer: RequestSigner,
    roster: Arc<Roster>,
    // INVARIANT: every connection kept here has answered its last request in full.
    idle: Arc<Mutex<HashMap<String, Vec<Connection>>>>,
}

/// The sending half of one HTTP/1.1 connection to a peer.
type Connection = SendRequest<Full<Bytes>>;

/// Why a connection or a request could not be made.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl PeerConnections {
    /// Posts signed by `signer`, whose answers are checked against the members of `roster`.
    pub fn new(signer: RequestSigner, roster: Arc<Roster>) -> PeerConnections {
        PeerConnections { signer, roster, idle: Arc::default() }
    }

    /// Posts by the same signer over connections of their own.
    pub fn fresh(&self) -> PeerConnections {
        PeerConnections::new(self.signer.clone(), Arc::clone(&self.roster))
    }

    /// Posts `body` as JSON to `path` on `node`, signed, over a kept connection
    /// if one is ready, and returns the answer's status and body. A `200`
    /// answer is returned only if `node`'s operator signed it as the answer
    /// to this request.
    pub async fn post(
        &self,
        node: &ConsortiumNode,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, Bytes), TransportError> {
        self.post_limited(node, path, body, MAX_ANSWER_BYTES).await
    }

    /// [`PeerConnections::post`] with an answer of up to `answer_limit` bytes
    /// (an attachment may be larger than any Raft answer).
    pub async fn post_limited(
        &self,
        node: &ConsortiumNode,
        path: &str,
        body: Vec<u8>,
        answer_limit: usize,
    ) -> Result<(StatusCode, Bytes), TransportError> {
        let url = node.url.as_str();
        let failed = |reason: &dyn std::fmt::Display| TransportError::Connection {
            url: url.to_owned(),
            reason: reason.to_string(),
        };
        let Some(authority) = authority(url) else {
            return Err(TransportError::Url(url.to_owned()));
        };
        let (request, nonce) =
            signed_request(authority, &node.member, path, body, &self.signer).map_err(|e| failed(&*e))?;
        let mut sender = loop {
            let kept = self.idle.lock().ok().and_then(|mut idle| idle.get_mut(authority).and_then(Vec::pop));
            match kept {
                Some(mut sender) => {
                    if sender.ready().await.is_ok() {
                        break sender;
                    }
                }
                None => break connect(authority).await.map_err(|e| failed(&e))?,
            }
        };
        let response = sender.send_request(request).await.map_err(|e| failed(&e))?;
        let status = response.status();
        let signature = response.headers().get(ANSWER_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        // A peer's answer is read only up to what a Raft answer can take.
        let answer = http_body_util::Limited::new(response.into_body(), answer_limit)
            .collect()
            .await
            .map_err(|e| failed(&e))?
            .to_bytes();
        if let Ok(mut idle) = self.idle.lock() {
            idle.entry(authority.to_owned()).or_default().push(sender);
        }
        if status == StatusCode::OK {
            let members = self.roster.members().await.map_err(|e| failed(&e))?;
            let request = (self.signer.member(), &nonce, path);
            auth::verify_answer(signature.as_deref(), &node.member, &members, request, &answer)
                .map_err(|reason| TransportError::Unsigned { url: url.to_owned(), reason })?;
        }
        Ok((status, answer))
    }
}

/// Opens an HTTP/1.1 connection to `authority`, without Nagle's delay (a
/// request's head and body must not wait for an acknowledgement).
async fn connect(authority: &str) -> Result<Connection, BoxError> {
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(authority)).await??;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    // The connection's task ends when the sender is dropped or the peer closes it.
    tokio::spawn(connection);
    Ok(sender)
}

/// A JSON `POST` of `body` to `path` at `authority`, the node of operator
/// `destination`, signed by `signer`; and the request's nonce.
fn signed_request(
    authority: &str,
    destination: &str,
    path: &str,
    body: Vec<u8>,
    signer: &RequestSigner,
) -> Result<(Request<Full<Bytes>>, Nonce), BoxError> {
    let (auth, nonce) = signer.sign(destination, path, &body, SystemTime::now())?;
    let request = Request::post(path)
        .header(header::HOST, authority)
        .header(header::CONTENT_TYPE, "application/json")
        .header(AUTH_HEADER, auth)
        .body(Full::new(Bytes::from(body)))?;
    Ok((request, nonce))
}

/// The `host:port` of an `http://host:port` URL.
fn authority(url: &str) -> Option<&str> {
    url.strip_prefix("http://").map(|rest| rest.trim_end_matches('/')).filter(|a| !a.is_empty() && !a.contains('/'))
}

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, ConsortiumNode, RaftError<NodeId>>> {
        let capacity = 256 + rpc.entries.iter().map(super::entry_json_len_hint).sum::<usize>();
        self.call(APPEND_PATH, &rpc, capacity, option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, ConsortiumNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        // Bytes are JSON numbers: up to four characters each.
        self.call(SNAPSHOT_PATH, &rpc, 256 + 4 * rpc.data.len(), option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, ConsortiumNode, RaftError<NodeId>>> {
        self.call(VOTE_PATH, &rpc, 256, option).await
    }
}

impl PeerClient {
    /// Sends one message and reads Raft's answer, within the message's time limit.
    /// `capacity` is about how many bytes the message's JSON takes.
    async fn call<Q, A, E>(
        &mut self,
        path: &str,
        message: &Q,
        capacity: usize,
        option: RPCOption,
    ) -> Result<A, RPCError<NodeId, ConsortiumNode, RaftError<NodeId, E>>>
    where
        Q: Serialize,
        A: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let mut body = Vec::with_capacity(capacity);
        serde_json::to_writer(&mut body, message).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let exchange = self.exchange(path, body);
        // A broken or abandoned connection is not kept for the next message.
        let answer = match tokio::time::timeout(option.hard_ttl(), exchange).await {
            Ok(Ok(answer)) => answer,
            // A peer that answered is not unreachable: calling it so would make
            // Raft back off from a node that is up and refusing this message
            // (a 413, say), as if it were down.
            Ok(Err(error @ (TransportError::Answer { .. } | TransportError::Unsigned { .. }))) => {
                return Err(RPCError::Network(NetworkError::new(&error)));
            }
            Ok(Err(error)) => return Err(RPCError::Unreachable(Unreachable::new(&error))),
            Err(elapsed) => return Err(RPCError::Unreachable(Unreachable::new(&elapsed))),
        };
        let answer: Result<A, RaftError<NodeId, E>> =
            serde_json::from_slice(&answer).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        answer.map_err(|error| RPCError::RemoteError(RemoteError::new_with_node(self.target, self.node.clone(), error)))
    }

    /// Posts `body` to the peer's `path` and returns the answer's body if it is 200.
    async fn exchange(&self, path: &str, body: Vec<u8>) -> Result<Bytes, TransportError> {
        let url = &self.node.url;
        let (status, answer) = self.connections.post(&self.node, path, body).await?;
        if status != StatusCode::OK {
            let body = String::from_utf8_lossy(&answer[..answer.len().min(300)]).into_owned();
            return Err(TransportError::Answer { url: url.clone(), status, body });
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests;
