//! `salvage member add|update|allocate|revoke|node-add|node-remove`: changes to the
//! consortium's membership, the GIAIs its members may issue, and which members run its nodes.

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use salvage_ledger::entry::Kind;
use serde_json::json;

use super::member_args::SignerArgs;

/// Admit a member, change one, revoke a key, or add or remove a member's consortium node.
/// Admissions, role changes and node changes need the admin threshold: pass one --key per
/// signing admin.
#[derive(Debug, Args)]
pub struct MemberCommand {
    #[command(subcommand)]
    action: MemberAction,
}

#[derive(Debug, Subcommand)]
enum MemberAction {
    /// Admit a new member (signed by the admin threshold).
    Add {
        /// Its id: lowercase letters, digits and hyphens.
        id: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// A role (repeat): admin, operator, contractor, holder, certifier, issuer.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Its public key, 64 hex digits as `salvage key new` prints (repeatable).
        #[arg(long = "public-key", required = true)]
        keys: Vec<String>,
        /// A GS1 company prefix it holds a licence for (repeatable): it may register GIAIs under it.
        #[arg(long = "company-prefix")]
        prefixes: Vec<String>,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Rename a member, change its roles (admin threshold), or rotate its keys (the member itself).
    Update {
        /// The member's id.
        id: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// The complete new set of roles (repeat).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// A public key to add (repeatable).
        #[arg(long = "add-key")]
        add_keys: Vec<String>,
        /// A public key to revoke (repeatable).
        #[arg(long = "revoke-key")]
        revoke_keys: Vec<String>,
        /// A GS1 company prefix it now holds too (repeatable; admin threshold).
        #[arg(long = "add-company-prefix")]
        add_prefixes: Vec<String>,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Allocate serials under one of the consortium's company prefixes to a member that holds
    /// none (signed by the admin threshold, or by one member with the issuer role): it may then
    /// register the GIAIs PREFIX followed by each serial, and print their labels ahead.
    Allocate {
        /// The member's id.
        member: String,
        /// One of the consortium's company prefixes.
        #[arg(long)]
        prefix: String,
        /// The first serial.
        #[arg(long)]
        first: u64,
        /// The last serial (inclusive).
        #[arg(long)]
        last: u64,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Revoke one of a member's keys, e.g. a lost or compromised one; records it signed stay valid.
    Revoke {
        /// The member's id.
        id: String,
        /// The public key to revoke, 64 hex digits.
        public_key: String,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Let an operator run a consortium node (signed by the admin threshold); the nodes add it
    /// to their replication group.
    NodeAdd {
        /// The operator's member id.
        member: String,
        /// Where the other nodes reach its node: http://host:port, no path, e.g. http://10.0.3.10:8080.
        #[arg(long)]
        url: String,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Take a member's node out of the consortium (signed by the admin threshold); the nodes
    /// drop it from their replication group.
    NodeRemove {
        /// The member's id.
        member: String,
        #[command(flatten)]
        signer: SignerArgs,
    },
}

impl MemberCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        match self.action {
            MemberAction::Add { id, name, roles, keys, prefixes, signer } => {
                let mut body = json!({"id": id, "name": name, "roles": roles, "keys": keys});
                if !prefixes.is_empty() {
                    body["company_prefixes"] = json!(prefixes);
                }
                signer.submit(Kind::MemberAdd, body)
            }
            MemberAction::Allocate { member, prefix, first, last, signer } => signer
                .submit(Kind::GiaiAllocate, json!({"member": member, "prefix": prefix, "first": first, "last": last})),
            MemberAction::Update { id, name, roles, add_keys, revoke_keys, add_prefixes, signer } => {
                let mut body = json!({"id": id});
                if let Some(name) = name {
                    body["name"] = json!(name);
                }
                let fields = [
                    ("roles", roles),
                    ("add_keys", add_keys),
                    ("revoke_keys", revoke_keys),
                    ("add_company_prefixes", add_prefixes),
                ];
                for (field, values) in fields {
                    if !values.is_empty() {
                        body[field] = json!(values);
                    }
                }
                if body.as_object().is_some_and(|fields| fields.len() == 1) {
                    bail!("nothing to change: give --name, --role, --add-key, --revoke-key or --add-company-prefix");
                }
                signer.submit(Kind::MemberUpdate, body)
            }
            MemberAction::Revoke { id, public_key, signer } => {
                signer.submit(Kind::MemberUpdate, json!({"id": id, "revoke_keys": [public_key]}))
            }
            MemberAction::NodeAdd { member, url, signer } => {
                signer.submit(Kind::NodeAdd, json!({"member": member, "url": url}))
            }
            MemberAction::NodeRemove { member, signer } => signer.submit(Kind::NodeRemove, json!({"member": member})),
        }
    }
}
