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
mod seed;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use salvage_node::config::{BaseUrl, NodeConfig, Overrides, parse_listen};

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
            seed::create(&self.data, &public_url)?;
        }
        seed::print_items(&self.data, &public_url)?;
        let config = self.data.join("node.toml");
        if self.exit {
            announce!(
                "seeded; serve it with `salvage demo --data {}` or `salvage node --config {}`",
                self.data.display(),
                config.display()
            );
            return Ok(());
        }
        let mut overrides = Overrides::default();
        overrides.listen = Some(self.listen);
        overrides.public_url = Some(BaseUrl::parse(&public_url)?);
        super::serving::serve(NodeConfig::load(Some(&config), &overrides)?)
    }
}
