//! `salvage demo`: a whole demo consortium on this machine with one command.
//!
//! The first run creates the consortium (every member's key as PKCS#8 PEM in
//! `DIR/keys/`, the signed genesis in `DIR/genesis.json`, a node config in
//! `DIR/node.toml`), seeds the ledger in `DIR/ledger` with the inventory of a
//! dismantled warehouse ([`inventory`]), writes each item's QR code to
//! `DIR/qr/`, and serves it exactly as `salvage node --config DIR/node.toml`
//! would. A later run on the same directory reopens that ledger and seeds
//! nothing.

mod cluster;
mod inventory;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, FromArgMatches};
use salvage_ledger::Ledger;
use salvage_ledger::entry::{Kind, PublicKey, SignedEntry, Statement, Timestamp};
use salvage_ledger::ident::Giai;
use salvage_ledger::ident::digital_link::DigitalLink;
use salvage_ledger::key::generate_signing_key;
use salvage_node::config::parse_listen;
use salvage_node::qr::QrCode;
use serde_json::json;

use super::key::write_new_key;
use super::node::NodeCommand;
use super::write_file;

/// Create and serve a demo consortium with a realistic inventory (or reopen one).
#[derive(Debug, Args)]
pub struct DemoCommand {
    /// The demo's directory: keys, genesis, node config, ledger and QR codes.
    #[arg(long, default_value = "salvage-demo")]
    data: PathBuf,
    /// The address the node listens on; the QR codes point at it.
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = parse_listen)]
    listen: SocketAddr,
    /// Stop after creating and seeding instead of serving.
    #[arg(long)]
    exit: bool,
    /// How many nodes: 1 serves the demo in this process; 2 or 3 start a
    /// replicating consortium, each node its own `salvage node` process,
    /// with configs in DIR/node1/node.toml … and ports ADDR's, +1, +2.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=3))]
    nodes: u8,
}

impl DemoCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        if self.nodes > 1 {
            return cluster::run(&self.data, self.listen, usize::from(self.nodes), self.exit);
        }
        let public_url = format!("http://{}", self.listen);
        let genesis_path = self.data.join("genesis.json");
        if genesis_path.exists() {
            announce!("reopening the demo consortium in {}", self.data.display());
        } else {
            create(&self.data, &public_url)?;
        }
        print_items(&self.data, &public_url)?;
        let config = self.data.join("node.toml");
        if self.exit {
            announce!(
                "seeded; serve it with `salvage demo --data {}` or `salvage node --config {}`",
                self.data.display(),
                config.display()
            );
            return Ok(());
        }
        let arguments = [
            "node",
            "--config",
            &config.to_string_lossy(),
            "--listen",
            &self.listen.to_string(),
            "--public-url",
            &public_url,
        ];
        let matches =
            <NodeCommand as Args>::augment_args(clap::Command::new("node")).try_get_matches_from(arguments)?;
        NodeCommand::from_arg_matches(&matches)?.run()
    }
}

/// Creates the consortium, the ledger and its seed in an empty directory.
fn create(dir: &Path, public_url: &str) -> Result<()> {
    let (genesis, keys) = create_consortium(dir)?;
    let config = format!(
        "# The demo node: `salvage node --config {}`\ngenesis = \"genesis.json\"\ndata = \"ledger\"\nkey = \"keys/{}.pem\"\npublic_url = {public_url:?}\n",
        dir.join("node.toml").display(),
        inventory::OPERATOR
    );
    write_file(&dir.join("node.toml"), config.as_bytes())?;

    let ledger = Ledger::create(&dir.join("ledger"), genesis.clone()).context("creating the demo ledger")?;
    let entries = seed(&genesis, &keys)?;
    let seeded = entries.len();
    let kinds: Vec<Kind> = entries.iter().map(|entry| entry.statement().kind).collect();
    for (outcome, kind) in ledger.submit(entries)?.into_iter().zip(kinds) {
        if let Err(refusal) = outcome {
            bail!("the demo's own {} entry was refused ({refusal}): a defect in the demo", kind.as_str());
        }
    }
    announce!(
        "created the demo consortium in {}: {} members, {seeded} entries",
        dir.display(),
        inventory::MEMBERS.len()
    );
    Ok(())
}

/// Every demo member's signing key, by member id.
type Keys = std::collections::HashMap<&'static str, ed25519_dalek::SigningKey>;

/// Creates the consortium in an empty directory: a key for every member in
/// `DIR/keys/` and the signed genesis in `DIR/genesis.json`.
fn create_consortium(dir: &Path) -> Result<(SignedEntry, Keys)> {
    if dir.exists()
        && std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?.next().is_some()
    {
        bail!("{} is not empty and holds no demo (no genesis.json): choose another --data directory", dir.display());
    }
    let keys_dir = dir.join("keys");
    std::fs::create_dir_all(&keys_dir).with_context(|| format!("cannot create {}", keys_dir.display()))?;
    // The keys just written sign the genesis and the seed; no need to read them back.
    let mut keys = Keys::new();
    let mut members = Vec::new();
    for (id, name, roles) in inventory::MEMBERS {
        let key = generate_signing_key().context("the operating system gave no randomness for a key")?;
        write_new_key(&keys_dir.join(format!("{id}.pem")), &key)?;
        members.push(json!({"id": id, "name": name, "roles": roles, "keys": [PublicKey::of(&key).to_hex()]}));
        keys.insert(*id, key);
    }
    let operator = key_of(&keys, inventory::OPERATOR)?;
    let body = json!({
        "consortium": {"name": "Zemgale Materials Reuse Consortium (demo)", "country": "LV"},
        "admin_threshold": 1,
        "members": members,
    });
    let genesis =
        SignedEntry::sign(Statement { ledger: None, kind: Kind::Genesis, time: Timestamp::now(), body }, &[operator])?;
    write_file(&dir.join("genesis.json"), &serde_json::to_vec_pretty(&genesis.to_value())?)?;
    Ok((genesis, keys))
}

/// The demo inventory's entries, signed.
fn seed(genesis: &SignedEntry, keys: &Keys) -> Result<Vec<SignedEntry>> {
    let ledger_id = Some(salvage_ledger::entry::LedgerId(genesis.id().0));
    let mut entries = Vec::new();
    for step in inventory::steps() {
        let statement = Statement { ledger: ledger_id, kind: step.kind, time: Timestamp::now(), body: step.body };
        entries.push(SignedEntry::sign(statement, &[key_of(keys, step.signer)?])?);
    }
    Ok(entries)
}

fn key_of<'k>(keys: &'k Keys, member: &str) -> Result<&'k ed25519_dalek::SigningKey> {
    keys.get(member).with_context(|| format!("the demo has no member {member}: a defect in the demo"))
}

/// Prints every item's provenance URL and writes its QR code.
fn print_items(dir: &Path, public_url: &str) -> Result<()> {
    let qr_dir = dir.join("qr");
    std::fs::create_dir_all(&qr_dir).with_context(|| format!("cannot create {}", qr_dir.display()))?;
    // A reader that stops early (`| head`) must not stop the QR codes being written.
    announce!("items (scan a QR code, or open the link):");
    for giai in inventory::items() {
        let giai = Giai::parse(&giai)?;
        let uri = DigitalLink::for_giai(public_url, &giai)?.to_string();
        let png = QrCode::encode(&uri)?.to_png(8)?;
        write_file(&qr_dir.join(format!("{giai}.png")), &png)?;
        announce!("  {uri}");
    }
    announce!("QR codes: {}", qr_dir.display());
    Ok(())
}
