//! The demo consortium's creation: its members' keys, the signed genesis, the
//! node config, the ledger seeded with the [`super::inventory`] and the files
//! its entries name, and every item's QR code.

use std::path::Path;

use anyhow::{Context, Result, bail};
use salvage_ledger::Ledger;
use salvage_ledger::attachment::AttachmentStore;
use salvage_ledger::disclosure::{DisclosedEntry, Salt, withhold};
use salvage_ledger::entry::{Kind, PublicKey, SignedEntry, Statement, Timestamp};
use salvage_ledger::ident::Giai;
use salvage_ledger::ident::digital_link::DigitalLink;
use salvage_ledger::key::generate_signing_key;
use salvage_node::qr::QrCode;
use serde_json::json;

use super::inventory;
use crate::commands::key::write_new_key;
use crate::commands::write_file;

/// Creates the consortium, the ledger and its seed in an empty directory.
pub(super) fn create(dir: &Path, public_url: &str) -> Result<()> {
    let (genesis, keys) = create_consortium(dir)?;
    let config = format!(
        "# The demo node: `salvage node --config {}`\ngenesis = \"genesis.json\"\ndata = \"ledger\"\nkey = \"keys/{}.pem\"\npublic_url = {public_url:?}\n",
        dir.join("node.toml").display(),
        inventory::OPERATOR
    );
    write_file(&dir.join("node.toml"), config.as_bytes())?;

    let ledger = Ledger::create(&dir.join("ledger"), genesis.clone()).context("creating the demo ledger")?;
    // Where the node keeps its attachments (docs/format.md §15), filled before
    // any record names them.
    let files = store_assets(&ledger.dir().join("attachments"))?;
    let entries = seed(&genesis, &keys)?;
    let seeded = entries.len();
    let kinds: Vec<Kind> = entries.iter().map(|each| each.entry.statement().kind).collect();
    let entries = entries.into_iter().map(|each| (each.entry, each.disclosures)).collect();
    for (outcome, kind) in ledger.submit_disclosed(entries)?.into_iter().zip(kinds) {
        if let Err(refusal) = outcome {
            bail!("the demo's own {} entry was refused ({refusal}): a defect in the demo", kind.as_str());
        }
    }
    announce!(
        "created the demo consortium in {}: {} members, {seeded} entries, {files} attached files",
        dir.display(),
        inventory::MEMBERS.len()
    );
    Ok(())
}

/// Puts every file the demo's entries name into the attachment store in
/// `dir` (a ledger directory's `attachments/`), where the node serves them
/// from; returns how many.
pub(super) fn store_assets(dir: &Path) -> Result<usize> {
    let store = AttachmentStore::open(dir).with_context(|| format!("opening the attachments in {}", dir.display()))?;
    let assets = inventory::assets();
    for asset in &assets {
        let stored = store
            .put(asset.bytes)
            .with_context(|| format!("storing the demo's {} in {}", asset.file, dir.display()))?;
        if stored.media_type.as_str() != asset.media_type {
            bail!(
                "the demo's {} is a {}, not a {}: a defect in the demo",
                asset.file,
                stored.media_type.as_str(),
                asset.media_type
            );
        }
    }
    Ok(assets.len())
}

/// Every demo member's signing key, by member id.
pub(super) type Keys = std::collections::HashMap<&'static str, ed25519_dalek::SigningKey>;

/// Creates the consortium in an empty directory: a key for every member in
/// `DIR/keys/` and the signed genesis in `DIR/genesis.json`.
pub(super) fn create_consortium(dir: &Path) -> Result<(SignedEntry, Keys)> {
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
        let mut member = json!({"id": id, "name": name, "roles": roles, "keys": [PublicKey::of(&key).to_hex()]});
        if let Some((_, prefix)) = inventory::COMPANY_PREFIXES.iter().find(|(holder, _)| holder == id) {
            member["company_prefixes"] = json!([prefix]);
        }
        members.push(member);
        keys.insert(*id, key);
    }
    let operator = key_of(&keys, inventory::OPERATOR)?;
    // Format 2: restricted values (the donor buildings' addresses) are withheld
    // from the records as salted digests (docs/format.md §13). GIAIs are allocated
    // (docs/rules.md §10): the contractors hold their prefixes, the consortium its own.
    let body = json!({
        "consortium": {
            "name": "Zemgale Materials Reuse Consortium (demo)",
            "country": "LV",
            "company_prefixes": [inventory::CONSORTIUM_PREFIX],
        },
        "format": 2,
        "giai_allocation": true,
        "rules": 2,
        "admin_threshold": 1,
        "members": members,
    });
    let genesis =
        SignedEntry::sign(Statement { ledger: None, kind: Kind::Genesis, time: Timestamp::now(), body }, &[operator])?;
    write_file(&dir.join("genesis.json"), &serde_json::to_vec_pretty(&genesis.to_value())?)?;
    Ok((genesis, keys))
}

/// The demo inventory's entries, signed, with their restricted values withheld.
pub(super) fn seed(genesis: &SignedEntry, keys: &Keys) -> Result<Vec<DisclosedEntry>> {
    let ledger_id = Some(salvage_ledger::entry::LedgerId(genesis.id().0));
    let mut entries = Vec::new();
    for step in inventory::steps() {
        let (body, disclosures) = withhold(step.kind, &step.body, Salt::random)
            .context("the operating system gave no randomness for a salt")?
            .map_err(|refusal| anyhow::anyhow!("the demo's own {} cannot be withheld ({refusal})", step.kind))?;
        let statement = Statement { ledger: ledger_id, kind: step.kind, time: Timestamp::now(), body };
        entries
            .push(DisclosedEntry { entry: SignedEntry::sign(statement, &[key_of(keys, step.signer)?])?, disclosures });
    }
    Ok(entries)
}

fn key_of<'k>(keys: &'k Keys, member: &str) -> Result<&'k ed25519_dalek::SigningKey> {
    keys.get(member).with_context(|| format!("the demo has no member {member}: a defect in the demo"))
}

/// Prints every item's provenance URL and writes its QR code.
pub(super) fn print_items(dir: &Path, public_url: &str) -> Result<()> {
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
