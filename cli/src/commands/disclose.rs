//! `salvage disclose GIAI --field POINTER --out FILE`: a proof of one
//! restricted value, which anyone holding the genesis verifies offline
//! (docs/format.md §13, "Disclosure proofs").
//!
//! The member reads the item's disclosures from its node with a signed
//! request (docs/rules.md §8), takes the one for the field, fetches the item's
//! proof bundle and puts them together. Before anything is written the proof
//! is verified here exactly as `salvage verify` will verify it, so a file that
//! is written is a file that proves.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use ed25519_dalek::SigningKey;
use salvage_ledger::bundle::Bundle;
use salvage_ledger::disclosure::Disclosure;
use salvage_ledger::disclosure_proof::{DisclosureProof, ProofError, ProvenValue, verify_disclosure_proof};
use salvage_ledger::entry::{Kind, PublicKey, SignedEntry};
use salvage_ledger::genesis::Genesis;
use salvage_ledger::key::KeyFile;
use serde_json::{Value, json};

use super::member_args::NodeArgs;
use crate::client::NodeClient;

/// The long help of `salvage disclose --help`.
pub const LONG_ABOUT: &str = "Prove one restricted value of an item to someone outside the consortium.

A passport (or an installation) can restrict values such as the donor
building's address or an item's mass: the ledger then records only a
fingerprint of each value, and the values themselves stay with the members
who handled the item. When a buyer, a bank or a certification body needs to
see one of them, this command writes a proof file for that one value.

The proof holds the value, the random salt it was fingerprinted with and
the item's proof bundle (its signed records and the consortium's signed
checkpoint). It shows that value, exactly as the signer recorded it, and
nothing else the record withholds: the other restricted values stay hidden.

--field names the value as a JSON Pointer, either within the passport
(`/origin/address`, `/mass_kg`) or within the record (`/passport/origin/address`,
`/site/address` for an installation, `/parts/0/passport/mass_kg` for a split).
When several records hold the value (an amended passport), the latest is
proven; --seq N proves the one recorded at position N.

Reading restricted values needs your member key (--key): only members who
registered, held, offered, received or attested the item may read them.
The proof is checked before it is written: against --genesis when given,
otherwise against the genesis the node's bundle carries. The file is
created readable by you only (mode 0600), since it carries the value.

Whoever receives the file verifies it offline, trusting only the
consortium's genesis:

    salvage verify FILE --genesis genesis.json";

/// `salvage disclose`: see [`LONG_ABOUT`].
#[derive(Debug, Args)]
pub struct DiscloseCommand {
    /// The item's GIAI.
    giai: String,
    /// The value to prove, as a JSON Pointer within the passport
    /// (`/origin/address`) or within the record (`/site/address`).
    #[arg(long, value_name = "POINTER")]
    field: String,
    /// Prove the value as recorded at this position, instead of the latest
    /// record that holds it.
    #[arg(long, value_name = "N")]
    seq: Option<u64>,
    /// Where to write the proof (JSON, mode 0600).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Your member key (PKCS#8 PEM, mode 0600), which signs the read.
    #[arg(long, env = "SALVAGE_KEY", value_name = "FILE")]
    key: PathBuf,
    /// The consortium's genesis file, to check the proof against before it is
    /// written [default: the genesis the node's bundle carries].
    #[arg(long, env = "SALVAGE_GENESIS")]
    genesis: Option<PathBuf>,
    #[command(flatten)]
    node: NodeArgs,
}

impl DiscloseCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        if !self.field.starts_with('/') {
            bail!(
                "--field {:?} is not a JSON Pointer, which starts with `/`: e.g. /origin/address or /site/address",
                self.field
            );
        }
        // A genesis given by name is read first: a typo should not cost a signed read.
        let trusted = self.genesis.as_deref().map(Genesis::read).transpose()?;
        let key = KeyFile::read(&self.key)?;
        let client = self.node.client()?;
        let listed = self.read_disclosures(&client, key.signing_key())?;
        let bundle_path = format!("/v1/items/{}/bundle", super::path_segment(&self.giai));
        let bytes = client.get_bytes(&bundle_path, "application/json")?;
        let bundle: Bundle = serde_json::from_slice(&bytes).context("the node's bundle is not a proof bundle")?;

        let found = self.find(&listed, &bundle);
        let Some((seq, disclosure)) = found.last().cloned() else {
            bail!("{}", self.not_disclosed(&listed));
        };
        let proof = DisclosureProof::new(seq, &disclosure, bundle);
        let genesis = match &trusted {
            Some(genesis) => genesis.entry().clone(),
            None => carried_genesis(&proof.bundle)?,
        };
        let (proven, _report) = verify_disclosure_proof(&proof, &genesis, 1).map_err(|error| {
            anyhow!(
                "the node's records do not prove {} of {}: {}; nothing was written",
                self.field,
                self.giai,
                why(&error)
            )
        })?;
        let mut text = serde_json::to_string_pretty(&proof)?;
        text.push('\n');
        write_private(&self.out, text.as_bytes())?;

        let seqs: Vec<u64> = found.iter().map(|(seq, _)| *seq).collect();
        if self.node.json {
            let genesis = self.genesis.as_ref().map(|path| path.display().to_string());
            let out = self.out.display().to_string();
            say!("{}", json!({"out": out, "proven": proven, "genesis": genesis, "recorded_at": seqs}));
        } else {
            self.print(&proven, &seqs);
        }
        Ok(())
    }

    /// `GET /v1/items/{giai}/disclosures`, signed with the member's key.
    fn read_disclosures(&self, client: &NodeClient, key: &SigningKey) -> Result<Listed> {
        let path = format!("/v1/items/{}/disclosures", super::path_segment(&self.giai));
        let (status, bytes) = client.get_signed(&path, key)?;
        if status != 200 {
            return Err(self.refusal(status, &bytes, client, key));
        }
        let answer: Value =
            serde_json::from_slice(&bytes).with_context(|| format!("{}{path} did not answer JSON", self.node.node))?;
        Listed::read(&answer)
    }

    /// A refused read, in words for the member who made it.
    fn refusal(&self, status: u16, body: &[u8], client: &NodeClient, key: &SigningKey) -> anyhow::Error {
        let answer: Value = serde_json::from_slice(body).unwrap_or_default();
        let code = answer["error"]["code"].as_str().unwrap_or_default();
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        let key_file = self.key.display();
        let explained = match (status, code) {
            (401, "auth.unknown_key") => format!(
                "the key in {key_file} (public key {}) is not an active key of any member of this consortium: use \
                 your organisation's member key",
                PublicKey::of(key).to_hex()
            ),
            (401, "auth.stale" | "auth.expired") => "this computer's clock differs from the node's by more than a \
                                                     minute: set the clock right and try again"
                .to_owned(),
            (401, _) => format!("the node did not accept the read signed with {key_file}: {message}"),
            (403, _) => {
                let member = member_of(client, &PublicKey::of(key)).map_or_else(
                    || format!("the member whose key is in {key_file}"),
                    |id| format!("{id} (the key in {key_file})"),
                );
                format!(
                    "{member} never registered, held, offered, received or attested {}, and only the members who did \
                     may read its restricted values; ask one of them for the proof",
                    self.giai
                )
            }
            (404, _) => format!("the node knows no item {}", self.giai),
            (503, _) => format!("the node is too busy to check the signature; try again shortly ({message})"),
            _ if !code.is_empty() => message.to_owned(),
            _ => {
                format!("the node answered status {status}: {}", String::from_utf8_lossy(&body[..body.len().min(200)]))
            }
        };
        match code {
            "" => anyhow!("{explained}; nothing was written"),
            code => anyhow!("{code}: {explained}; nothing was written"),
        }
    }

    /// Every disclosure of `--field` the node listed (only record `--seq`
    /// when given), in ledger order.
    fn find(&self, listed: &Listed, bundle: &Bundle) -> Vec<(u64, Disclosure)> {
        let mut found = Vec::new();
        for record in self.records(listed) {
            let wanted = self.places_in(record, bundle);
            let place = |disclosure: &&Disclosure| wanted.contains(&disclosure.place().to_string());
            if let Some(disclosure) = record.disclosures.iter().find(place) {
                found.push((record.seq, disclosure.clone()));
            }
        }
        found
    }

    /// The listed records `--seq` lets in.
    fn records<'a>(&self, listed: &'a Listed) -> impl Iterator<Item = &'a ListedRecord> {
        let seq = self.seq;
        listed.records.iter().filter(move |record| seq.is_none_or(|seq| seq == record.seq))
    }

    /// The pointers `--field` may stand for in `record`: itself, below the
    /// passport, and, in the split that made this item, below its part's passport.
    fn places_in(&self, record: &ListedRecord, bundle: &Bundle) -> Vec<String> {
        let mut places = vec![self.field.clone(), format!("/passport{}", self.field)];
        if record.kind == Kind::ItemSplit.as_str() {
            let body = bundle
                .records
                .iter()
                .find(|proven| proven.record.seq.get() == record.seq)
                .map(|proven| &proven.record.entry.statement().body);
            let parts = body.and_then(|body| body["parts"].as_array()).map(Vec::as_slice).unwrap_or_default();
            if let Some(index) = parts.iter().position(|part| part["giai"].as_str() == Some(self.giai.as_str())) {
                places.push(format!("/parts/{index}/passport{}", self.field));
            }
        }
        places
    }

    /// Why nothing matched `--field`: what the records do withhold.
    fn not_disclosed(&self, listed: &Listed) -> String {
        let records: Vec<&ListedRecord> = self.records(listed).collect();
        if records.is_empty() {
            let withholding: Vec<String> =
                listed.records.iter().map(|record| format!("{} ({})", record.seq, record.kind)).collect();
            return match self.seq {
                Some(seq) if !withholding.is_empty() => format!(
                    "record {seq} is no record of {} that withholds values; those that do are at positions {}",
                    self.giai,
                    withholding.join(", ")
                ),
                _ => format!("no record of {} withholds a value: there is nothing to prove", self.giai),
            };
        }
        let scope = match self.seq {
            Some(seq) => format!("record {seq} of {}", self.giai),
            None => self.giai.clone(),
        };
        let withheld: Vec<String> = records
            .iter()
            .map(|record| {
                let places: Vec<String> = record.disclosures.iter().map(|d| d.place().to_string()).collect();
                format!("record {} ({}): {}", record.seq, record.kind, places.join(", "))
            })
            .collect();
        let truncated = if listed.truncated { " (the node listed only the first records)" } else { "" };
        format!(
            "{scope} withholds no value at {}; the values withheld are at {}{truncated}",
            self.field,
            withheld.join("; ")
        )
    }

    /// What was written, for people.
    fn print(&self, proven: &ProvenValue, seqs: &[u64]) {
        say!(
            "Proof of {} of {} (record {}) written to {}",
            proven.pointer,
            proven.giai,
            proven.seq,
            self.out.display()
        );
        say!("  value            {}", proven.value);
        let signers = if proven.signed_by.is_empty() { "(unknown)".to_owned() } else { proven.signed_by.join(", ") };
        say!("  recorded by      {signers} ({})", proven.kind);
        if let [earlier @ .., _latest] = seqs
            && self.seq.is_none()
            && !earlier.is_empty()
        {
            let earlier: Vec<String> = earlier.iter().map(u64::to_string).collect();
            say!(
                "  note             record(s) {} hold this value too (the passport was amended); the latest is \
                 proven, --seq N proves another",
                earlier.join(", ")
            );
        }
        match &self.genesis {
            Some(path) => say!("  checked against  the genesis {}", path.display()),
            None => say!("  checked against  the genesis the node's bundle carries (--genesis checks against yours)"),
        }
        say!("  verify with      salvage verify {} --genesis genesis.json", self.out.display());
    }
}

/// The node's answer to a read of an item's disclosures.
struct Listed {
    records: Vec<ListedRecord>,
    /// Whether the node left records out (it lists at most 1000).
    truncated: bool,
}

/// One record's disclosures, as the node listed them.
struct ListedRecord {
    seq: u64,
    kind: String,
    disclosures: Vec<Disclosure>,
}

impl Listed {
    /// Reads `{"records": [{"seq", "kind", "disclosures"}], "truncated"}`.
    fn read(answer: &Value) -> Result<Listed> {
        let records = answer["records"].as_array().context("the node's answer lists no records")?;
        let records = records.iter().map(ListedRecord::read).collect::<Result<_>>()?;
        Ok(Listed { records, truncated: answer["truncated"].as_bool().unwrap_or(false) })
    }
}

impl ListedRecord {
    /// Reads `{"seq", "kind", "disclosures": [[salt, pointer, value], …]}`.
    fn read(record: &Value) -> Result<ListedRecord> {
        let seq = record["seq"].as_u64().context("the node listed a record without its seq")?;
        let disclosures = record["disclosures"]
            .as_array()
            .with_context(|| format!("the node listed record {seq} without disclosures"))?
            .iter()
            .map(|each| {
                Disclosure::from_value(each)
                    .map_err(|refusal| anyhow!("the node listed a malformed disclosure of record {seq}: {refusal}"))
            })
            .collect::<Result<_>>()?;
        Ok(ListedRecord { seq, kind: record["kind"].as_str().unwrap_or_default().to_owned(), disclosures })
    }
}

/// The id of the member whose key `key` is, as the node's public member list
/// says; `None` when it cannot tell, since this only improves a message.
fn member_of(client: &NodeClient, key: &PublicKey) -> Option<String> {
    let members = client.get_json("/v1/members").ok()?;
    let hex = key.to_hex();
    let member = members.as_array()?.iter().find(|member| member["keys"].get(&hex).is_some())?;
    member["id"].as_str().map(str::to_owned)
}

/// The genesis a bundle carries as its record 0, for a check made without a
/// genesis of the member's own: it shows the proof is whole and consistent,
/// though not that the ledger is the consortium's.
fn carried_genesis(bundle: &Bundle) -> Result<SignedEntry> {
    bundle
        .records
        .first()
        .filter(|proven| proven.record.seq.get() == 0)
        .map(|proven| proven.record.entry.clone())
        .context("the node's bundle does not begin with the genesis")
}

/// A proof error, with the bundle's first problem when that is the reason.
fn why(error: &ProofError) -> String {
    match error {
        ProofError::Bundle(report) => match report.problems.first() {
            Some(problem) => format!("{error}, first {}: {}", problem.code, problem.message),
            None => error.to_string(),
        },
        _ => error.to_string(),
    }
}

/// Writes `bytes` to `path`, readable by its owner only: a proof carries a
/// restricted value.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    // The mode above applies to a new file only; an existing one is made
    // private before the value is written into it.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .and_then(|()| file.set_len(0))
        .and_then(|()| file.write_all(bytes))
        .with_context(|| format!("cannot write {}", path.display()))
}
