//! Where a command that reads a whole ledger takes its records from: a node (`--node URL`,
//! `GET /v1/records`) or a node's data directory, offline (`--data DIR`, the record log read in
//! place). `salvage audit` and `salvage report` both read this way.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use salvage_ledger::store::log;

use crate::client::NodeClient;

/// Canonical record bytes, in ledger order, record 0 first.
pub type Records = Box<dyn Iterator<Item = Result<Vec<u8>>>>;

/// Where the records come from.
pub enum RecordSource {
    /// A node, and a client for it.
    Node { url: String, client: NodeClient },
    /// A node's data directory, and its record log.
    Data { dir: PathBuf, log: PathBuf },
}

impl RecordSource {
    /// The source `--node` or `--data` names (`--node` first); `reads` says what the command
    /// reads the records for, in the error when neither is given.
    pub fn given(node: Option<&String>, data: Option<&PathBuf>, reads: &str) -> Result<RecordSource> {
        match (node, data) {
            (Some(url), _) => Ok(RecordSource::Node { url: url.clone(), client: NodeClient::new(url)? }),
            (None, Some(dir)) => Ok(RecordSource::Data { dir: dir.clone(), log: log_directory(dir)? }),
            (None, None) => bail!("say what to {reads}: --node URL or --data DIR"),
        }
    }

    /// The records, from the first.
    pub fn records(&self) -> Result<Records> {
        Ok(match self {
            RecordSource::Node { client, .. } => Box::new(client.records()?),
            RecordSource::Data { log, .. } => Box::new(log::scan(log).map(|item| item.map_err(anyhow::Error::from))),
        })
    }

    /// The node's URL or the directory, for messages.
    pub fn name(&self) -> String {
        match self {
            RecordSource::Node { url, .. } => url.clone(),
            RecordSource::Data { dir, .. } => dir.display().to_string(),
        }
    }
}

/// The record log of a data directory: `DIR/log`, or `DIR` itself when it holds the segments.
pub fn log_directory(dir: &Path) -> Result<PathBuf> {
    let nested = dir.join("log");
    if nested.is_dir() {
        return Ok(nested);
    }
    let holds_segments = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the data directory {}", dir.display()))?
        .filter_map(std::result::Result::ok)
        .any(|entry| entry.file_name().to_string_lossy().starts_with("segment-"));
    if !holds_segments {
        bail!("{} is no node data directory: it holds neither log/ nor log segments", dir.display());
    }
    Ok(dir.to_owned())
}
