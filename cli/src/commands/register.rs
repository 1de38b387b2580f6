//! `salvage register PASSPORT.json`: a contractor registers a salvaged item.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use salvage_ledger::entry::Kind;
use serde_json::{Value, json};

use super::member_args::SignerArgs;

/// Register an item with its material passport (the GIAI is the passport's identity.giai).
#[derive(Debug, Args)]
pub struct RegisterCommand {
    /// The passport, JSON (schemas/passport.schema.json).
    passport: PathBuf,
    #[command(flatten)]
    signer: SignerArgs,
}

impl RegisterCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let passport = read_json(&self.passport)?;
        let giai = passport_giai(&passport)
            .with_context(|| format!("{}: the passport names no identity.giai", self.passport.display()))?;
        self.signer.submit(Kind::ItemRegister, json!({"giai": giai, "passport": passport}))
    }
}

/// The GIAI a passport is for.
pub fn passport_giai(passport: &Value) -> Option<String> {
    passport.pointer("/identity/giai").and_then(Value::as_str).map(str::to_owned)
}

/// Reads a JSON document strictly (duplicate keys refused), naming the file in any error.
pub fn read_json(path: &std::path::Path) -> Result<Value> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    salvage_ledger::canonical::parse_strict(&bytes).map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))
}
