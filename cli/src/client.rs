//! Talking to a node: the HTTP API that members, buyers and auditors use.
//!
//! Every answer the node gives is either what was asked for or an error
//! `{"error": {code, message, details}}`; [`Refused`] carries such an error to
//! the user with its code, so scripts can tell a custody conflict from a
//! network failure.

use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use ed25519_dalek::SigningKey;
use salvage_ledger::disclosure::DisclosedEntry;
use salvage_node::member_auth::{self, SignedTarget};
use serde_json::Value;

/// A node's error answer, shown to the user as `CODE: message`.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Refused {
    /// The HTTP status.
    pub status: u16,
    /// The stable code, e.g. `custody.not_custodian`.
    pub code: String,
    /// What the node said.
    pub message: String,
    /// Per-entry outcomes or schema violations, when the node gave them.
    pub details: Value,
}

/// One entry's outcome in a submission: its receipt or the refusal.
pub type Outcome = std::result::Result<Value, Refused>;

/// A node's API at a base URL such as `http://127.0.0.1:8080`.
pub struct NodeClient {
    base: String,
    agent: ureq::Agent,
}

impl NodeClient {
    /// A client of the node at `base` (`http://` or `https://`, no path).
    pub fn new(base: &str) -> Result<NodeClient> {
        let base = base.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            bail!("--node {base:?} is not a node's URL such as http://127.0.0.1:8080 or https://ledger.example.org");
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(600)))
            .build()
            .into();
        Ok(NodeClient { base: base.to_owned(), agent })
    }

    /// GETs `path` signed by a member's `key` (RFC 9421, as `salvage_node::member_auth`
    /// signs members' reads) and returns the status and the answer's bytes, whatever the
    /// status. The `Host` header is sent as signed, and redirects are not followed: the
    /// signature covers this node's authority and path, so another could only refuse it.
    pub fn get_signed(&self, path: &str, key: &SigningKey) -> Result<(u16, Vec<u8>)> {
        self.send_signed("GET", path, key, None)
    }

    /// POSTs `body` to `path` signed by a member's `key`, as [`NodeClient::get_signed`] GETs.
    /// The signature covers the path and query, not the body: a query such as
    /// `?blake3=` binds the body where it matters.
    pub fn post_signed(&self, path: &str, key: &SigningKey, body: &[u8]) -> Result<(u16, Vec<u8>)> {
        self.send_signed("POST", path, key, Some(body))
    }

    fn send_signed(&self, method: &str, path: &str, key: &SigningKey, body: Option<&[u8]>) -> Result<(u16, Vec<u8>)> {
        let url = format!("{}{path}", self.base);
        let uri: ureq::http::Uri = url.parse().with_context(|| format!("{url} is not a URL"))?;
        let authority = host_header(&uri).with_context(|| format!("{url} names no host"))?;
        let target = SignedTarget { method, authority: &authority, path: uri.path(), query: uri.query() };
        let nonce = member_auth::fresh_nonce()
            .map_err(|error| anyhow!("cannot draw a random nonce from the operating system: {error}"))?;
        let created = SystemTime::now().duration_since(UNIX_EPOCH).map(|since| since.as_secs()).unwrap_or_default();
        let signature = member_auth::sign(&target, key, created, &nonce);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(600)))
            .build()
            .into();
        let response = match body {
            None => agent
                .get(&url)
                .header("Host", &authority)
                .header("Accept", "application/json")
                .header(member_auth::SIGNATURE_INPUT_HEADER, &signature.signature_input)
                .header(member_auth::SIGNATURE_HEADER, &signature.signature)
                .call(),
            Some(body) => agent
                .post(&url)
                .header("Host", &authority)
                .header("Accept", "application/json")
                .header("Content-Type", "application/octet-stream")
                .header(member_auth::SIGNATURE_INPUT_HEADER, &signature.signature_input)
                .header(member_auth::SIGNATURE_HEADER, &signature.signature)
                .send(body),
        };
        let mut response = response.map_err(|error| anyhow!("cannot reach the node at {url}: {error}"))?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(64 * 1024 * 1024)
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading the answer of {url}"))?;
        Ok((status, bytes))
    }

    /// GETs a JSON answer.
    pub fn get_json(&self, path: &str) -> Result<Value> {
        let bytes = self.get_bytes(path, "application/json")?;
        serde_json::from_slice(&bytes).with_context(|| format!("{}{path} did not answer JSON", self.base))
    }

    /// GETs an answer's bytes, asking for `accept`.
    pub fn get_bytes(&self, path: &str, accept: &str) -> Result<Vec<u8>> {
        let url = format!("{}{path}", self.base);
        let mut response =
            self.agent.get(&url).header("Accept", accept).call().map_err(|e| unreachable_node(&url, e))?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        response
            .body_mut()
            .as_reader()
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading the answer of {url}"))?;
        if status != 200 {
            return Err(refused(status, &bytes).into());
        }
        Ok(bytes)
    }

    /// Streams every record the node holds, in order, as the stored canonical
    /// bytes of each (`GET /v1/records` as NDJSON, one record a line).
    ///
    /// The download has no overall time limit, since a large ledger takes a
    /// while, but a read that waits longer than two minutes fails. A line cut
    /// off by a dropped connection is an error item, never a record.
    pub fn records(&self) -> Result<RecordStream> {
        let url = format!("{}/v1/records", self.base);
        let request = self
            .agent
            .get(&url)
            .header("Accept", "application/x-ndjson")
            .config()
            .timeout_global(None)
            .timeout_per_read(Some(Duration::from_secs(120)))
            .build();
        let mut response = request.call().map_err(|e| unreachable_node(&url, e))?;
        let status = response.status().as_u16();
        if status != 200 {
            let mut bytes = Vec::new();
            response
                .body_mut()
                .as_reader()
                .take(64 * 1024)
                .read_to_end(&mut bytes)
                .with_context(|| format!("reading the answer of {url}"))?;
            return Err(refused(status, &bytes).into());
        }
        Ok(RecordStream { lines: BufReader::new(response.into_body().into_reader()), url, read: 0, finished: false })
    }

    /// Submits entries that may withhold values (docs/format.md §13) as one
    /// JSON array: an entry with disclosures as the envelope `{"disclosures",
    /// "entry"}`, one without as its bare canonical JSON. Without any
    /// disclosure the array is byte for byte `SignedEntry::canonical_array`,
    /// which a node reads without its strict parser; with some, the node parses
    /// it strictly. Returns each entry's outcome, in order.
    pub fn submit_disclosed(&self, entries: &[DisclosedEntry]) -> Result<Vec<Outcome>> {
        let mut body =
            Vec::with_capacity(entries.iter().map(|each| each.entry.canonical_statement().len() + 256).sum());
        body.push(b'[');
        for (index, each) in entries.iter().enumerate() {
            if index > 0 {
                body.push(b',');
            }
            if each.disclosures.is_empty() {
                each.entry.write_canonical(&mut body);
            } else {
                body.extend_from_slice(&each.canonical_bytes());
            }
        }
        body.push(b']');
        self.post_entries(&body, entries.len())
    }

    /// POSTs a JSON array of `count` entries to `/v1/entries` and reads each
    /// one's outcome from the answer.
    fn post_entries(&self, body: &[u8], count: usize) -> Result<Vec<Outcome>> {
        let url = format!("{}/v1/entries", self.base);
        let mut response = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body)
            .map_err(|e| unreachable_node(&url, e))?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        response
            .body_mut()
            .as_reader()
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading the answer of {url}"))?;
        match status {
            201 => {
                let receipts: Vec<Value> =
                    serde_json::from_slice(&bytes).context("the node's receipts are not JSON")?;
                Ok(receipts.into_iter().map(Ok).collect())
            }
            207 => {
                let answer: Value = serde_json::from_slice(&bytes).context("the node's results are not JSON")?;
                let results = answer["results"].as_array().ok_or_else(|| anyhow!("a 207 answer without results"))?;
                Ok(results.iter().map(|result| outcome(status, result)).collect())
            }
            _ => {
                let error = refused(status, &bytes);
                // Every entry refused: the details hold each one's outcome, with
                // its own message (for one entry, better than the batch's "every
                // entry was refused; the first: …").
                match error.details.as_array() {
                    Some(each) if each.len() == count && each.iter().all(|result| result.get("error").is_some()) => {
                        Ok(each.iter().map(|result| outcome(status, result)).collect())
                    }
                    _ => Ok(vec![Err(error)]),
                }
            }
        }
    }
}

/// The records of a download, one item per line of NDJSON; after an error
/// item the stream ends.
pub struct RecordStream {
    lines: BufReader<ureq::BodyReader<'static>>,
    url: String,
    /// Records read so far, to name where a download broke off.
    read: u64,
    finished: bool,
}

impl Iterator for RecordStream {
    type Item = Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let mut line = Vec::new();
        let item = match self.lines.read_until(b'\n', &mut line) {
            Ok(0) => None,
            Ok(_) if line.last() == Some(&b'\n') => {
                line.pop();
                self.read += 1;
                Some(Ok(line))
            }
            Ok(_) => Some(Err(anyhow!("the download from {} ended in the middle of record {}", self.url, self.read))),
            Err(error) => {
                Some(Err(anyhow!("the download from {} broke off at record {}: {error}", self.url, self.read)))
            }
        };
        self.finished = !matches!(item, Some(Ok(_)));
        item
    }
}

fn outcome(status: u16, result: &Value) -> Outcome {
    if let Some(receipt) = result.get("receipt") {
        return Ok(receipt.clone());
    }
    let error = &result["error"];
    Err(Refused {
        status,
        code: error["code"].as_str().unwrap_or("unknown").to_owned(),
        message: error["message"].as_str().unwrap_or_default().to_owned(),
        details: error["details"].clone(),
    })
}

pub(crate) fn refused(status: u16, body: &[u8]) -> Refused {
    let answer: Value = serde_json::from_slice(body).unwrap_or_default();
    let error = &answer["error"];
    match error["code"].as_str() {
        Some(code) => Refused {
            status,
            code: code.to_owned(),
            message: error["message"].as_str().unwrap_or_default().to_owned(),
            details: error["details"].clone(),
        },
        None => Refused {
            status,
            code: format!("http.{status}"),
            message: format!(
                "the node answered status {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ),
            details: Value::Null,
        },
    }
}

fn unreachable_node(url: &str, error: ureq::Error) -> anyhow::Error {
    anyhow!("cannot reach the node at {url}: {error}")
}

/// The `Host` header for `uri`: its host, and its port unless the scheme's
/// default, without any user info (as HTTP clients send it, RFC 9110 §7.2).
fn host_header(uri: &ureq::http::Uri) -> Option<String> {
    let host = uri.host()?;
    let default = match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    };
    Some(match uri.port_u16() {
        Some(port) if port != default => format!("{host}:{port}"),
        _ => host.to_owned(),
    })
}
