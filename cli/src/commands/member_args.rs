//! What every command that talks to a node shares: where the node is, the
//! member's key for commands that sign, and how to print the answer.
//!
//! On a ledger of format 2 (docs/format.md §13) a restricted value never
//! enters a signed statement: [`Signer`] takes such values out of the body
//! before signing it, keeps their disclosures in the member's own directory
//! ([`DisclosuresDir`]) and sends them beside the entry. On a ledger of format
//! 1 the body is signed as it is, its `restricted` list only a hint to public views.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use ed25519_dalek::SigningKey;
use salvage_cli::disclosures_dir::DisclosuresDir;
use salvage_ledger::disclosure::{DisclosedEntry, Disclosure, Salt, withhold};
use salvage_ledger::entry::{Kind, LedgerId, SignedEntry, Statement, Timestamp};
use salvage_ledger::key::KeyFile;
use salvage_ledger::refusal::Refusal;
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
    /// Where to keep the restricted values withheld from a format-2 ledger,
    /// one file per entry, written before the entry is sent [default:
    /// `disclosures` beside the (first) key file].
    #[arg(long, env = "SALVAGE_DISCLOSURES", value_name = "DIR")]
    pub disclosures: Option<PathBuf>,
}

impl SignerArgs {
    /// Signs a statement of `kind` with the member's key, keeps the values it
    /// withholds, submits it, and prints the receipt; a refusal becomes the
    /// command's error.
    pub fn submit(&self, kind: Kind, body: Value) -> Result<()> {
        let client = self.node.client()?;
        let signer = self.signer(&client)?;
        let signed = signer.sign(kind, body)?;
        let kept = signer.keep(&signed)?;
        let outcome = client
            .submit_disclosed(std::slice::from_ref(&signed))?
            .into_iter()
            .next()
            .context("the node answered no outcome")?;
        let receipt = outcome?;
        if self.node.json {
            say!("{receipt}");
        } else {
            let body = &signed.entry.statement().body;
            let subject = body
                .get("giai")
                .or_else(|| body.get("id"))
                .or_else(|| body.get("member"))
                .and_then(Value::as_str)
                .unwrap_or("");
            say!("{} {subject}: recorded at position {}", kind.as_str(), receipt["seq"]);
            say!("  entry {}", receipt["entry_id"].as_str().unwrap_or_default());
            if let Some(path) = kept {
                say!(
                    "  {} restricted value(s) withheld; disclosures kept in {}",
                    signed.disclosures.len(),
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// What signs this run's statements: the keys, read once, and the node's
    /// ledger id and format, asked once (`GET /v1/status`).
    pub fn signer(&self, client: &NodeClient) -> Result<Signer> {
        let keys = read_keys(&self.key)?;
        let (ledger, format) = ledger_of(client)?;
        Ok(Signer { keys, ledger, format, store: DisclosuresDir::new(self.disclosures_dir()) })
    }

    /// `--disclosures`, or `disclosures` beside the first key file: the key
    /// file is what a member already keeps safe, so its values sit beside it.
    fn disclosures_dir(&self) -> PathBuf {
        if let Some(dir) = &self.disclosures {
            return dir.clone();
        }
        let beside = self.key.first().and_then(|key| key.parent()).unwrap_or(std::path::Path::new(""));
        beside.join("disclosures")
    }
}

/// Signs statements of one node's ledger with the member's keys, withholding
/// restricted values when the ledger's format asks for it.
pub struct Signer {
    keys: Vec<SigningKey>,
    ledger: LedgerId,
    format: u8,
    store: DisclosuresDir,
}

impl Signer {
    /// Where the disclosures of this run are kept.
    pub fn store(&self) -> &DisclosuresDir {
        &self.store
    }

    /// The body to sign and the disclosures of its restricted values: on a
    /// format-2 ledger the values are taken out (docs/format.md §13); on a
    /// format-1 ledger the body is signed whole, with none. The inner error is
    /// a body whose restricted places cannot be withheld (one without a value,
    /// one inside another), which the caller reports where it came from.
    pub fn withhold(&self, kind: Kind, body: Value) -> Result<Result<(Value, Vec<Disclosure>), Refusal>> {
        if self.format < 2 {
            return Ok(Ok((body, Vec::new())));
        }
        withhold(kind, &body, Salt::random)
            .map_err(|error| anyhow!("cannot draw a random salt from the operating system: {error}"))
    }

    /// Signs `public` (a body [`Signer::withhold`] made) as a statement of the
    /// node's ledger, made now.
    pub fn sign_public(&self, kind: Kind, public: Value, disclosures: Vec<Disclosure>) -> Result<DisclosedEntry> {
        let statement = Statement { ledger: Some(self.ledger), kind, time: Timestamp::now(), body: public };
        let entry = SignedEntry::sign(statement, &self.keys.iter().collect::<Vec<_>>())?;
        Ok(DisclosedEntry { entry, disclosures })
    }

    /// Withholds and signs: the entry to submit, with its disclosures.
    pub fn sign(&self, kind: Kind, body: Value) -> Result<DisclosedEntry> {
        let (public, disclosures) =
            self.withhold(kind, body)?.map_err(|refusal| anyhow!("{refusal}; nothing was submitted"))?;
        self.sign_public(kind, public, disclosures)
    }

    /// Keeps the disclosures of an entry that has any, before it is submitted
    /// (see [`DisclosuresDir`]); the file's path, or `None` for an entry
    /// that withholds nothing.
    pub fn keep(&self, signed: &DisclosedEntry) -> Result<Option<PathBuf>> {
        if signed.disclosures.is_empty() {
            return Ok(None);
        }
        self.store
            .keep(self.ledger, &signed.entry, &signed.disclosures)
            .map(Some)
            .context("the restricted values were not kept, so nothing was submitted")
    }
}

/// The id and format of the ledger a node serves. A node that names no
/// format serves a format-1 ledger (it predates format 2).
pub fn ledger_of(client: &NodeClient) -> Result<(LedgerId, u8)> {
    let status = client.get_json("/v1/status")?;
    let text = status["ledger_id"].as_str().context("the node's status names no ledger_id")?;
    let ledger = LedgerId::from_hex(text).with_context(|| format!("the node's ledger id {text:?}"))?;
    let format = match &status["format"] {
        Value::Null => 1,
        Value::Number(number) if number.as_u64() == Some(1) => 1,
        Value::Number(number) if number.as_u64() == Some(2) => 2,
        // Signing for a format this build does not know could put a
        // restricted value in the clear, or send what the node cannot read.
        other => bail!("the node's ledger is of format {other}, which this salvage does not know; upgrade salvage"),
    };
    Ok((ledger, format))
}

/// Reads key files (PKCS#8 PEM, not readable by others).
pub fn read_keys(paths: &[PathBuf]) -> Result<Vec<SigningKey>> {
    paths.iter().map(|path| Ok(KeyFile::read(path)?.into_signing_key())).collect()
}
