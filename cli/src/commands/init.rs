//! `salvage init`: the signed genesis of a new consortium.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use salvage_ledger::custody::State;
use salvage_ledger::entry::{Kind, SignedEntry, Statement, Timestamp};
use serde_json::json;

use super::member_args::read_keys;
use super::register::read_json;
use super::write_file;

/// Write and sign the genesis of a new consortium: its name, founding members and admin threshold.
///
/// MEMBERS.json is an array of members, each `{"id", "name", "roles": [...], "keys": [hex]}`
/// (roles: admin, operator, contractor, holder, certifier, issuer; keys as printed by `salvage
/// key new`), with `"company_prefixes": [...]` for a member that holds GS1 company prefixes. The
/// ledger allocates GIAIs: a contractor registers only under its prefixes or the ranges the
/// consortium allocates to it.
/// The genesis must be signed by at least THRESHOLD founding admins: pass each one's --key.
#[derive(Debug, Args)]
pub struct InitCommand {
    /// The consortium's name.
    #[arg(long)]
    consortium: String,
    /// Its country, ISO 3166-1 alpha-2 (e.g. LV).
    #[arg(long)]
    country: Option<String>,
    /// The founding members, JSON.
    #[arg(long)]
    members: PathBuf,
    /// A GS1 company prefix the consortium holds (repeatable): it allocates serial ranges under
    /// it to members that hold none (`salvage member allocate`).
    #[arg(long = "company-prefix")]
    company_prefixes: Vec<String>,
    /// How many admins must sign membership changes.
    #[arg(long, default_value_t = 1)]
    threshold: u64,
    /// A founding admin's key (repeat for each signing admin).
    #[arg(long, required = true)]
    key: Vec<PathBuf>,
    /// Where to write the genesis; an existing file is never overwritten.
    #[arg(long)]
    out: PathBuf,
}

impl InitCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        if self.out.exists() {
            bail!("{} exists; a genesis is never overwritten (it defines a ledger)", self.out.display());
        }
        let members = read_json(&self.members)?;
        let mut consortium = json!({"name": self.consortium});
        if let Some(country) = self.country {
            consortium["country"] = json!(country);
        }
        if !self.company_prefixes.is_empty() {
            consortium["company_prefixes"] = json!(self.company_prefixes);
        }
        // Format 2: restricted values are withheld from the records as salted
        // digests (docs/format.md §13), GIAIs are allocated (docs/rules.md §10), and the
        // waste and attestation rules hold (rules 2, §11): every new consortium starts on all.
        let body = json!({
            "consortium": consortium,
            "format": 2,
            "giai_allocation": true,
            "rules": 2,
            "admin_threshold": self.threshold,
            "members": members,
        });
        let keys = read_keys(&self.key)?;
        let statement = Statement { ledger: None, kind: Kind::Genesis, time: Timestamp::now(), body };
        let genesis = SignedEntry::sign(statement, &keys.iter().collect::<Vec<_>>())?;
        // Every rule a ledger applies to its genesis, before anyone relies on this file.
        genesis.verify_signatures()?;
        salvage_ledger::schema::validate_body(Kind::Genesis.as_str(), &genesis.statement().body)
            .map_err(|error| anyhow::anyhow!("{}: {error}", self.members.display()))?;
        State::from_genesis(&genesis).context("the genesis breaks a ledger rule")?;
        write_file(&self.out, &serde_json::to_vec_pretty(&genesis.to_value())?)?;
        say!("genesis of ledger {} written to {}", genesis.id(), self.out.display());
        Ok(())
    }
}
