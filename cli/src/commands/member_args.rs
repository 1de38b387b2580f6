//! What every command that talks to a node shares: where the node is, the
//! member's key for commands that sign, and how to print the answer.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use ed25519_dalek::SigningKey;
use salvage_ledger::entry::{Kind, LedgerId, SignedEntry, Statement, Timestamp};
use salvage_ledger::key::KeyFile;
use serde_json::Value;

use crate::client::NodeClient;

/// The node a command reads from.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// The node's URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "SALVAGE_NODE")]
    pub node: String,
    /// Print JSON for scripts instead of text for people.
    #[arg(long)]
    pub json: bool,
}

impl NodeArgs {
    /// A client of the node.
    pub fn client(&self) -> Result<NodeClient> {
        NodeClient::new(&self.node)
    }
}

/// The node a command submits to and the key it signs with.
#[derive(Debug, Args)]
pub struct SignerArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// The member's Ed25519 key, PKCS#8 PEM (mode 0600); repeat it for
    /// statements that several admins sign together.
    #[arg(long, env = "SALVAGE_KEY", required = true)]
    pub key: Vec<PathBuf>,
}

impl SignerArgs {
    /// Signs a statement of `kind` with the member's key, submits it, and
    /// prints the receipt; a refusal becomes the command's error.
    pub fn submit(&self, kind: Kind, body: Value) -> Result<()> {
        let client = self.node.client()?;
        let entry = self.sign(&client, kind, body)?;
        let outcome =
            client.submit(std::slice::from_ref(&entry))?.into_iter().next().context("the node answered no outcome")?;
        let receipt = outcome?;
        if self.node.json {
            say!("{receipt}");
        } else {
            let subject = entry
                .statement()
                .body
                .get("giai")
                .or_else(|| entry.statement().body.get("id"))
                .or_else(|| entry.statement().body.get("member"))
                .and_then(Value::as_str)
                .unwrap_or("");
            say!("{} {subject}: recorded at position {}", kind.as_str(), receipt["seq"]);
            say!("  entry {}", receipt["entry_id"].as_str().unwrap_or_default());
        }
        Ok(())
    }

    /// A statement of the node's ledger, made now and signed with the key.
    pub fn sign(&self, client: &NodeClient, kind: Kind, body: Value) -> Result<SignedEntry> {
        let keys = read_keys(&self.key)?;
        let ledger = ledger_id(client)?;
        let statement = Statement { ledger: Some(ledger), kind, time: Timestamp::now(), body };
        Ok(SignedEntry::sign(statement, &keys.iter().collect::<Vec<_>>())?)
    }
}

/// The id of the ledger a node serves.
pub fn ledger_id(client: &NodeClient) -> Result<LedgerId> {
    let status = client.get_json("/v1/status")?;
    let text = status["ledger_id"].as_str().context("the node's status names no ledger_id")?;
    LedgerId::from_hex(text).with_context(|| format!("the node's ledger id {text:?}"))
}

/// Reads key files (PKCS#8 PEM, not readable by others).
pub fn read_keys(paths: &[PathBuf]) -> Result<Vec<SigningKey>> {
    paths.iter().map(|path| Ok(KeyFile::read(path)?.into_signing_key())).collect()
}
