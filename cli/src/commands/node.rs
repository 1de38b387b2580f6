//! `salvage node`: serve one ledger over HTTP until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use salvage_node::config::{
    AttachmentLimit, BaseUrl, BodyLimit, ClientTimeout, MaxConnections, NodeConfig, Overrides, Peer, StateCache,
    parse_listen,
};

/// Serve a ledger: the HTTP API, the Digital Link resolver and the provenance pages.
///
/// Settings come from the config file, then SALVAGE_* environment variables, then flags;
/// see the README for the file format.
#[derive(Debug, Args)]
pub struct NodeCommand {
    /// The TOML config file.
    #[arg(long, env = "SALVAGE_CONFIG")]
    config: Option<PathBuf>,
    /// The consortium's signed genesis (JSON).
    #[arg(long, env = "SALVAGE_GENESIS")]
    genesis: Option<PathBuf>,
    /// The ledger's data directory (created on first start).
    #[arg(long, env = "SALVAGE_DATA")]
    data: Option<PathBuf>,
    /// The address to listen on, IP:PORT (port 0 picks a free one).
    #[arg(long, env = "SALVAGE_LISTEN", value_parser = parse_listen)]
    listen: Option<SocketAddr>,
    /// The operator's Ed25519 key, PKCS#8 PEM.
    #[arg(long, env = "SALVAGE_KEY")]
    key: Option<PathBuf>,
    /// The public base URL of the resolver, printed in every QR code.
    #[arg(long, env = "SALVAGE_PUBLIC_URL")]
    public_url: Option<BaseUrl>,
    /// The largest request body accepted, e.g. 4194304 or "4 MiB".
    #[arg(long, env = "SALVAGE_BODY_LIMIT")]
    body_limit: Option<BodyLimit>,
    /// The largest attachment (photo or PDF) accepted, e.g. 20971520 or "20 MiB"
    /// (64 KiB to 1 GiB); an upload is held in memory while it is checked.
    #[arg(long, env = "SALVAGE_ATTACHMENT_LIMIT")]
    attachment_limit: Option<AttachmentLimit>,
    /// How long a client may take to send headers (and stay idle), in seconds, e.g. 10 or "10 s".
    #[arg(long, env = "SALVAGE_CLIENT_TIMEOUT")]
    client_timeout: Option<ClientTimeout>,
    /// The most connections served at once; more are closed at once.
    #[arg(long, env = "SALVAGE_MAX_CONNECTIONS")]
    max_connections: Option<MaxConnections>,
    /// Memory for the custody state read back from disk, e.g. "128 MiB" or "1 GiB"
    /// (16 MiB to 64 GiB); the node's memory does not grow with the ledger's history.
    #[arg(long, env = "SALVAGE_STATE_CACHE")]
    state_cache: Option<StateCache>,
    /// Serve HTTPS with this certificate chain (PEM, the server's certificate first;
    /// ECDSA P-256 or RSA: browsers refuse Ed25519). Needs --tls-key; SIGHUP reloads both.
    #[arg(long, env = "SALVAGE_TLS_CERTIFICATE")]
    tls_certificate: Option<PathBuf>,
    /// The private key of the TLS certificate (PEM).
    #[arg(long, env = "SALVAGE_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Another consortium node, MEMBER=URL (repeatable).
    #[arg(long = "peer", env = "SALVAGE_PEERS", value_delimiter = ',')]
    peers: Vec<Peer>,
    /// Join a running consortium (after the admins' `node.add`) instead of
    /// proposing the peers as the consortium's first set of nodes.
    #[arg(long, env = "SALVAGE_JOIN")]
    join: bool,
}

impl NodeCommand {
    /// Runs the node until it is told to stop.
    pub fn run(self) -> Result<()> {
        let mut overrides = Overrides::default();
        overrides.genesis = self.genesis;
        overrides.data_dir = self.data;
        overrides.listen = self.listen;
        overrides.key = self.key;
        overrides.public_url = self.public_url;
        overrides.body_limit = self.body_limit;
        overrides.attachment_limit = self.attachment_limit;
        overrides.client_timeout = self.client_timeout;
        overrides.max_connections = self.max_connections;
        overrides.state_cache = self.state_cache;
        overrides.tls_certificate = self.tls_certificate;
        overrides.tls_key = self.tls_key;
        overrides.peers = (!self.peers.is_empty()).then_some(self.peers);
        overrides.join = self.join.then_some(true);
        super::serving::serve(NodeConfig::load(self.config.as_deref(), &overrides)?)
    }
}
