//! `proofs`: inclusion proofs of random records, what an auditor or a buyer's
//! verifier asks a node for. Every answer must be a 200 JSON proof.

use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use serde_json::Value;

use crate::LoadError;
use crate::drive::{self, Connection, Plan, Workload};
use crate::report::Report;
use crate::scenario::{host, splitmix64};
use crate::target::Target;

/// `proofs`: reads the ledger's size from `GET /v1/status`, then asks for
/// inclusion proofs of records chosen at random in that tree
/// (`GET /v1/proof/inclusion?seq=N&size=S`).
pub async fn proofs(target: &Target, plan: &Plan) -> Result<Report, LoadError> {
    let workload = Arc::new(InclusionProofs::at_current_size(target).await?);
    eprintln!("inclusion proofs in a tree of {} records", workload.size);
    let tally = drive::drive(target.addresses(), plan, workload, target.pid()).await?;
    Ok(Report::new("proofs", "proofs", plan, tally))
}

/// Inclusion proofs of random records in a tree of a fixed size.
pub struct InclusionProofs {
    size: u64,
    host: HeaderValue,
}

impl InclusionProofs {
    /// Proofs in the tree of the node's size now (later records do not change
    /// what a proof at this size must be).
    pub async fn at_current_size(target: &Target) -> Result<InclusionProofs, LoadError> {
        let host = host(target)?;
        let mut connection = Connection::open(target.address()).await?;
        let mut request = Request::new(Full::new(Bytes::new()));
        *request.uri_mut() = Uri::from_static("/v1/status");
        request.headers_mut().insert(header::HOST, host.clone());
        let answer = connection.send(request).await?;
        let status: Value = serde_json::from_slice(&answer.body)
            .map_err(|error| LoadError::Setup(format!("GET /v1/status: not JSON ({error})")))?;
        let size = status["size"]
            .as_u64()
            .filter(|size| *size > 0)
            .ok_or_else(|| LoadError::Setup(format!("GET /v1/status: no size in {status}")))?;
        Ok(InclusionProofs { size, host })
    }
}

impl Workload for InclusionProofs {
    fn next(&self, seed: &mut u64) -> Option<Request<Full<Bytes>>> {
        let seq = splitmix64(seed) % self.size;
        let mut request = Request::new(Full::new(Bytes::new()));
        *request.uri_mut() = Uri::try_from(format!("/v1/proof/inclusion?seq={seq}&size={}", self.size)).ok()?;
        request.headers_mut().insert(header::HOST, self.host.clone());
        Some(request)
    }

    fn check(&self, _uri: &Uri, status: StatusCode, content_type: &str) -> Option<String> {
        if status != StatusCode::OK {
            return Some(format!("status {status}"));
        }
        (!content_type.starts_with("application/json")).then(|| format!("content type {content_type:?}"))
    }
}
