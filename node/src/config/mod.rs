//! The configuration of `salvage node`: which ledger it serves, where it keeps
//! it, where it listens, whose key it signs with, and who its peers are.
//!
//! Every setting can come from three places; a later one wins:
//!
//! 1. the TOML config file given with `--config FILE` (`SALVAGE_CONFIG`),
//! 2. an environment variable `SALVAGE_…`,
//! 3. a command-line flag.
//!
//! The command line reads 2 and 3 itself (clap's `env` attribute) and hands the
//! result over as [`Overrides`]; [`NodeConfig::load`] lays them over the file
//! and checks that every required setting was given somewhere. [`Setting`]
//! names each setting's TOML key, flag and variable.
//!
//! | TOML key     | flag           | environment          | value                               | default          |
//! |--------------|----------------|----------------------|-------------------------------------|------------------|
//! | `genesis`    | `--genesis`    | `SALVAGE_GENESIS`    | path of the signed genesis (JSON)   | required         |
//! | `data`       | `--data`       | `SALVAGE_DATA`       | path of the ledger directory        | required         |
//! | `listen`     | `--listen`     | `SALVAGE_LISTEN`     | IP address and port                 | `127.0.0.1:8080` |
//! | `key`        | `--key`        | `SALVAGE_KEY`        | path of the operator's PKCS#8 PEM   | required         |
//! | `public_url` | `--public-url` | `SALVAGE_PUBLIC_URL` | absolute http(s) URL                | required         |
//! | `body_limit` | `--body-limit` | `SALVAGE_BODY_LIMIT` | bytes, or `"4 MiB"`, `"512 KiB"`    | `"4 MiB"`        |
//! | `attachment_limit` | `--attachment-limit` | `SALVAGE_ATTACHMENT_LIMIT` | bytes, or `"20 MiB"` (64 KiB–1 GiB) | `"20 MiB"` |
//! | `client_timeout` | `--client-timeout` | `SALVAGE_CLIENT_TIMEOUT` | seconds, or `"10 s"` (1–300) | `"10 s"` |
//! | `max_connections` | `--max-connections` | `SALVAGE_MAX_CONNECTIONS` | connections (4–65536) | `1024` |
//! | `state_cache` | `--state-cache` | `SALVAGE_STATE_CACHE` | bytes, or `"1 GiB"` (16 MiB–64 GiB) | `"128 MiB"` |
//! | `tls_certificate` | `--tls-certificate` | `SALVAGE_TLS_CERTIFICATE` | path of the TLS certificate chain (PEM) | none: plain HTTP |
//! | `tls_key` | `--tls-key` | `SALVAGE_TLS_KEY` | path of that certificate's private key (PEM) | none: plain HTTP |
//! | `[[peers]]`  | `--peer M=URL` | `SALVAGE_PEERS`      | the other nodes (`M=URL,M=URL`)     | none             |
//! | `join`       | `--join`       | `SALVAGE_JOIN`       | `true`: join a running consortium   | `false`          |
//!
//! Relative paths in the file are relative to the file's directory, so a file
//! can sit next to its genesis and keys and be started from anywhere; relative
//! paths from flags and variables are relative to the working directory, as
//! every shell user expects. Peers from a flag or variable replace the file's
//! list rather than adding to it. A node started for the first time proposes
//! its peers as the consortium's first set of nodes, unless `join` is set: a
//! node added to a running consortium (by a `node.add` entry the admins sign)
//! waits for the others to bring it in. The public URL is where the QR codes the
//! node prints will point for as long as the labels last, so it has no
//! default: a guessed `http://127.0.0.1:8080` on a printed label is unfixable.
//!
//! `state_cache` bounds the memory for the custody state read back from disk:
//! the state lives in the ledger's index on disk, and the node keeps in memory
//! only this much of it (half the index database's page cache, half the items
//! it read back) besides what the records not yet indexed changed, so the
//! node's memory no longer grows with the ledger's history. A larger cache only
//! saves reads from disk ([`StateCache`]).
//!
//! `attachment_limit` bounds the photos and PDFs members upload to
//! `POST /v1/attachments`, apart from `body_limit`, which bounds submissions of
//! entries: a larger file is refused with `413` (`attachment.too_large`). An
//! upload is held in memory while it is checked, so the limit also bounds the
//! memory one upload takes ([`AttachmentLimit`]).
//!
//! `tls_certificate` and `tls_key` make the node serve HTTPS itself on its
//! listen address (and only HTTPS there), as a phone's browser needs for a
//! secure context; give both or neither. They are read and checked at start
//! (the key must be the certificate's) and again on `SIGHUP`, which swaps in a
//! renewed certificate without a restart; a reload that fails is logged and
//! the node keeps serving the certificate it had. Browsers refuse Ed25519
//! certificates: use ECDSA P-256 or RSA ([`TlsFiles`]). A consortium node's
//! peers reach it over plain HTTP, so a node with peers refuses these settings:
//! serve its public side through a reverse proxy instead.
//!
//! # The config file
//!
//! ```toml
//! # /etc/salvage/node.toml
//! genesis = "genesis.json"                    # /etc/salvage/genesis.json
//! data = "/var/lib/salvage/ledger"
//! listen = "0.0.0.0:8080"
//! key = "keys/city-of-jelgava.pem"            # /etc/salvage/keys/city-of-jelgava.pem
//! public_url = "https://passports.jelgava.example"
//! body_limit = "4 MiB"                        # or a number of bytes: 4194304
//! attachment_limit = "20 MiB"                 # the largest photo or PDF taken
//! client_timeout = "10 s"                     # headers, idle keep-alive, a body's grace
//! max_connections = 1024
//! state_cache = "128 MiB"                     # custody state read back from disk
//!
//! [[peers]]
//! member = "regional-planning"
//! url = "https://salvage.zpr.example"
//!
//! [[peers]]
//! member = "reuse-hub"
//! url = "http://10.20.0.7:8080"
//! ```
//!
//! Unknown keys are refused, naming the key, the file, the line and the column:
//! a misspelt `pubic_url` must not leave the real setting at its default.
//!
//! # The operator's key
//!
//! `key` names an unencrypted PKCS#8 Ed25519 private key in PEM
//! (`-----BEGIN PRIVATE KEY-----`), as `openssl genpkey -algorithm ed25519`
//! writes it. On Unix the file must not be accessible to other users and not
//! writable by its group (`chmod 600`, or `640` with a group for the service):
//! whoever reads it can sign checkpoints in the operator's name, so the node
//! refuses to start, as `ssh` does, rather than warn into a log nobody reads.
//! The key must be an active key of a member with the `operator` role
//! ([`salvage_ledger::operator::Operator::identify`]); the ledger reads the file
//! ([`salvage_ledger::key::KeyFile`]), as the CLI's commands do.
//!
//! # Start-up
//!
//! [`crate::run`] starts a node from its config; what it does first:
//!
//! ```no_run
//! use salvage_node::config::{NodeConfig, Overrides};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = NodeConfig::load(Some("/etc/salvage/node.toml".as_ref()), &Overrides::default())?;
//! let genesis = config.read_genesis()?;
//! // Refuse a key that is no operator before touching the data directory.
//! config.identify_operator(&genesis, genesis.founders())?;
//! let (ledger, _report) = config.open_ledger(&genesis)?;
//! // The ledger's current members: keys may have been rotated since the genesis.
//! let operator = config.identify_operator(&genesis, &ledger.members()?)?;
//! println!("{} serves ledger {} at {}", operator.member(), ledger.ledger_id(), config.public_url());
//! # Ok(())
//! # }
//! ```

mod error;
mod limits;
mod tls;
mod values;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use salvage_ledger::Ledger;
use salvage_ledger::custody::Member;
use salvage_ledger::genesis::Genesis;
use salvage_ledger::key::KeyFile;
use salvage_ledger::operator::Operator;
use salvage_ledger::store::{OpenOptions, OpenReport};
use serde::Deserialize;

pub use error::{ConfigError, Position};
pub use limits::{ClientTimeout, MaxConnections};
pub use tls::{ServerCertificate, TlsError, TlsFiles};
pub use values::{AttachmentLimit, BaseUrl, BodyLimit, InvalidValue, Peer, StateCache, parse_listen};

use values::{FileListen, FilePath};

/// The address the node listens on when none is given: this machine only, so
/// that a node is never exposed by accident; put it behind a reverse proxy or
/// set `listen = "0.0.0.0:8080"`.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);

/// The environment variable naming the config file (the `--config` flag's).
pub const CONFIG_ENV: &str = "SALVAGE_CONFIG";

/// The checked configuration of a node.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    /// The signed genesis file of the ledger the node serves.
    pub genesis: PathBuf,
    /// The directory that holds the ledger.
    pub data_dir: PathBuf,
    /// Where the HTTP API and the resolver listen.
    pub listen: SocketAddr,
    /// The operator's private key (PKCS#8 PEM).
    pub key: PathBuf,
    /// The public base URL of the node's resolver, where printed QR codes point.
    pub public_url: BaseUrl,
    /// The largest request body the node accepts.
    pub body_limit: BodyLimit,
    /// The largest attachment the node takes.
    pub attachment_limit: AttachmentLimit,
    /// How long a client may take (headers, idle keep-alive, a body's grace).
    pub client_timeout: ClientTimeout,
    /// The most connections served at once.
    pub max_connections: MaxConnections,
    /// The memory for the custody state read back from disk.
    pub state_cache: StateCache,
    /// The certificate and key to serve HTTPS with; `None` serves plain HTTP.
    pub tls: Option<TlsFiles>,
    /// The other nodes of the consortium, one per member.
    pub peers: Vec<Peer>,
    /// Whether the node joins a running consortium instead of proposing its
    /// peers as the first set of nodes.
    pub join: bool,
}

/// Settings from the environment and the command line, which win over the
/// config file. `None` leaves the file's value (or the default) in place.
///
/// The CLI fills it from clap arguments declared with `env = Setting::…env()`,
/// parsing values with the types' `FromStr` ([`parse_listen`] for `listen`).
#[non_exhaustive]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--genesis` / `SALVAGE_GENESIS`.
    pub genesis: Option<PathBuf>,
    /// `--data` / `SALVAGE_DATA`.
    pub data_dir: Option<PathBuf>,
    /// `--listen` / `SALVAGE_LISTEN`.
    pub listen: Option<SocketAddr>,
    /// `--key` / `SALVAGE_KEY`.
    pub key: Option<PathBuf>,
    /// `--public-url` / `SALVAGE_PUBLIC_URL`.
    pub public_url: Option<BaseUrl>,
    /// `--body-limit` / `SALVAGE_BODY_LIMIT`.
    pub body_limit: Option<BodyLimit>,
    /// `--attachment-limit` / `SALVAGE_ATTACHMENT_LIMIT`.
    pub attachment_limit: Option<AttachmentLimit>,
    /// `--client-timeout` / `SALVAGE_CLIENT_TIMEOUT`.
    pub client_timeout: Option<ClientTimeout>,
    /// `--max-connections` / `SALVAGE_MAX_CONNECTIONS`.
    pub max_connections: Option<MaxConnections>,
    /// `--state-cache` / `SALVAGE_STATE_CACHE`.
    pub state_cache: Option<StateCache>,
    /// `--tls-certificate` / `SALVAGE_TLS_CERTIFICATE`.
    pub tls_certificate: Option<PathBuf>,
    /// `--tls-key` / `SALVAGE_TLS_KEY`.
    pub tls_key: Option<PathBuf>,
    /// `--peer` (repeated) / `SALVAGE_PEERS` (comma-separated); replaces the file's peers.
    pub peers: Option<Vec<Peer>>,
    /// `--join` / `SALVAGE_JOIN`.
    pub join: Option<bool>,
}

/// One setting of the node, with the names it goes by in each place.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// The genesis file.
    Genesis,
    /// The data directory.
    DataDir,
    /// The listen address.
    Listen,
    /// The operator's key file.
    Key,
    /// The public resolver URL.
    PublicUrl,
    /// The request body limit.
    BodyLimit,
    /// The largest attachment taken.
    AttachmentLimit,
    /// How long a client may take.
    ClientTimeout,
    /// The connection limit.
    MaxConnections,
    /// The memory for the custody state read back from disk.
    StateCache,
    /// The TLS certificate chain file.
    TlsCertificate,
    /// The TLS private key file.
    TlsKey,
    /// The peers.
    Peers,
    /// Joining a running consortium.
    Join,
}

impl Setting {
    /// Every setting, in the order of the config file.
    pub const ALL: [Setting; 14] = [
        Setting::Genesis,
        Setting::DataDir,
        Setting::Listen,
        Setting::Key,
        Setting::PublicUrl,
        Setting::BodyLimit,
        Setting::AttachmentLimit,
        Setting::ClientTimeout,
        Setting::MaxConnections,
        Setting::StateCache,
        Setting::TlsCertificate,
        Setting::TlsKey,
        Setting::Peers,
        Setting::Join,
    ];

    /// The key in the config file.
    pub fn toml_key(self) -> &'static str {
        match self {
            Setting::Genesis => "genesis",
            Setting::DataDir => "data",
            Setting::Listen => "listen",
            Setting::Key => "key",
            Setting::PublicUrl => "public_url",
            Setting::BodyLimit => "body_limit",
            Setting::AttachmentLimit => "attachment_limit",
            Setting::ClientTimeout => "client_timeout",
            Setting::MaxConnections => "max_connections",
            Setting::StateCache => "state_cache",
            Setting::TlsCertificate => "tls_certificate",
            Setting::TlsKey => "tls_key",
            Setting::Peers => "peers",
            Setting::Join => "join",
        }
    }

    /// The command-line flag.
    pub fn flag(self) -> &'static str {
        match self {
            Setting::Genesis => "--genesis",
            Setting::DataDir => "--data",
            Setting::Listen => "--listen",
            Setting::Key => "--key",
            Setting::PublicUrl => "--public-url",
            Setting::BodyLimit => "--body-limit",
            Setting::AttachmentLimit => "--attachment-limit",
            Setting::ClientTimeout => "--client-timeout",
            Setting::MaxConnections => "--max-connections",
            Setting::StateCache => "--state-cache",
            Setting::TlsCertificate => "--tls-certificate",
            Setting::TlsKey => "--tls-key",
            Setting::Peers => "--peer",
            Setting::Join => "--join",
        }
    }

    /// The environment variable.
    pub fn env(self) -> &'static str {
        match self {
            Setting::Genesis => "SALVAGE_GENESIS",
            Setting::DataDir => "SALVAGE_DATA",
            Setting::Listen => "SALVAGE_LISTEN",
            Setting::Key => "SALVAGE_KEY",
            Setting::PublicUrl => "SALVAGE_PUBLIC_URL",
            Setting::BodyLimit => "SALVAGE_BODY_LIMIT",
            Setting::AttachmentLimit => "SALVAGE_ATTACHMENT_LIMIT",
            Setting::ClientTimeout => "SALVAGE_CLIENT_TIMEOUT",
            Setting::MaxConnections => "SALVAGE_MAX_CONNECTIONS",
            Setting::StateCache => "SALVAGE_STATE_CACHE",
            Setting::TlsCertificate => "SALVAGE_TLS_CERTIFICATE",
            Setting::TlsKey => "SALVAGE_TLS_KEY",
            Setting::Peers => "SALVAGE_PEERS",
            Setting::Join => "SALVAGE_JOIN",
        }
    }

    /// What the setting is, in words.
    pub fn description(self) -> &'static str {
        match self {
            Setting::Genesis => "genesis file",
            Setting::DataDir => "data directory",
            Setting::Listen => "listen address",
            Setting::Key => "operator key file",
            Setting::PublicUrl => "public URL",
            Setting::BodyLimit => "request body limit",
            Setting::AttachmentLimit => "attachment limit",
            Setting::ClientTimeout => "client timeout",
            Setting::MaxConnections => "connection limit",
            Setting::StateCache => "state cache",
            Setting::TlsCertificate => "TLS certificate file",
            Setting::TlsKey => "TLS key file",
            Setting::Peers => "peers",
            Setting::Join => "joining a running consortium",
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl NodeConfig {
    /// Reads the config file, if any, lays the overrides over it, applies the
    /// defaults and checks that every required setting is there.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<NodeConfig, ConfigError> {
        let from_file = match file {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let require = |value: Option<PathBuf>, setting| value.ok_or(ConfigError::Missing { setting });
        let peers = overrides.peers.clone().or(from_file.peers).unwrap_or_default();
        check_peers(&peers)?;
        let tls = tls_files(
            overrides.tls_certificate.clone().or(from_file.tls_certificate),
            overrides.tls_key.clone().or(from_file.tls_key),
        )?;
        if tls.is_some() && !peers.is_empty() {
            return Err(ConfigError::TlsWithPeers);
        }
        Ok(NodeConfig {
            genesis: require(overrides.genesis.clone().or(from_file.genesis), Setting::Genesis)?,
            data_dir: require(overrides.data_dir.clone().or(from_file.data_dir), Setting::DataDir)?,
            listen: overrides.listen.or(from_file.listen).unwrap_or(DEFAULT_LISTEN),
            key: require(overrides.key.clone().or(from_file.key), Setting::Key)?,
            public_url: overrides
                .public_url
                .clone()
                .or(from_file.public_url)
                .ok_or(ConfigError::Missing { setting: Setting::PublicUrl })?,
            body_limit: overrides.body_limit.or(from_file.body_limit).unwrap_or_default(),
            attachment_limit: overrides.attachment_limit.or(from_file.attachment_limit).unwrap_or_default(),
            client_timeout: overrides.client_timeout.or(from_file.client_timeout).unwrap_or_default(),
            max_connections: overrides.max_connections.or(from_file.max_connections).unwrap_or_default(),
            state_cache: overrides.state_cache.or(from_file.state_cache).unwrap_or_default(),
            tls,
            peers,
            join: overrides.join.or(from_file.join).unwrap_or(false),
        })
    }

    /// Reads and checks the genesis file.
    pub fn read_genesis(&self) -> Result<Genesis, ConfigError> {
        Ok(Genesis::read(&self.genesis)?)
    }

    /// Reads the operator's key file and identifies its operator among
    /// `members`: the genesis's founders before the ledger is opened, the
    /// ledger's members after (keys may have been rotated since).
    pub fn identify_operator<'a>(
        &self,
        genesis: &Genesis,
        members: impl IntoIterator<Item = &'a Member>,
    ) -> Result<Operator, ConfigError> {
        Ok(Operator::identify_file(KeyFile::read(&self.key)?, genesis, members)?)
    }

    /// Opens the ledger in the data directory, creating it from the genesis if
    /// the directory is new; refuses a directory that holds another ledger.
    ///
    /// The ledger keeps the custody state it reads back from disk within the
    /// state cache ([`StateCache::index_cache_bytes`], [`StateCache::cached_items`]),
    /// and logs its progress while it replays a long stretch of the record log
    /// (rebuilding a missing or damaged index).
    pub fn open_ledger(&self, genesis: &Genesis) -> Result<(Ledger, OpenReport), ConfigError> {
        let options = OpenOptions {
            cached_items: self.state_cache.cached_items(),
            index_cache_bytes: self.state_cache.index_cache_bytes(),
            progress: Some(Arc::new(|records: u64| {
                tracing::info!(records, "rebuilding the index from the record log: records replayed so far");
            })),
        };
        Ledger::open_or_create_with(&self.data_dir, genesis.entry().clone(), &options).map_err(|source| match source {
            salvage_ledger::LedgerError::WrongLedger { found, expected, .. } => ConfigError::WrongLedger {
                data_dir: self.data_dir.clone(),
                found,
                genesis_file: self.genesis.clone(),
                expected,
            },
            source => ConfigError::Ledger { data_dir: self.data_dir.clone(), source },
        })
    }

    /// The public base URL (a shorthand for the field, as it is used often).
    pub fn public_url(&self) -> &BaseUrl {
        &self.public_url
    }
}

/// What a config file sets, its relative paths already resolved.
#[derive(Default)]
struct FileSettings {
    genesis: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    key: Option<PathBuf>,
    public_url: Option<BaseUrl>,
    body_limit: Option<BodyLimit>,
    attachment_limit: Option<AttachmentLimit>,
    client_timeout: Option<ClientTimeout>,
    max_connections: Option<MaxConnections>,
    state_cache: Option<StateCache>,
    tls_certificate: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    peers: Option<Vec<Peer>>,
    join: Option<bool>,
}

/// The config file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileFormat {
    genesis: Option<FilePath>,
    data: Option<FilePath>,
    listen: Option<FileListen>,
    key: Option<FilePath>,
    public_url: Option<BaseUrl>,
    body_limit: Option<BodyLimit>,
    attachment_limit: Option<AttachmentLimit>,
    client_timeout: Option<ClientTimeout>,
    max_connections: Option<MaxConnections>,
    state_cache: Option<StateCache>,
    tls_certificate: Option<FilePath>,
    tls_key: Option<FilePath>,
    peers: Option<Vec<Peer>>,
    join: Option<bool>,
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile { path: path.to_owned(), source })?;
    let format: FileFormat = toml::from_str(&text).map_err(|error| file_error(path, &text, &error))?;
    // Relative paths in the file mean: next to the file.
    let base = path.parent().unwrap_or(Path::new(""));
    let resolve = |value: Option<FilePath>| value.map(|FilePath(relative)| base.join(relative));
    Ok(FileSettings {
        genesis: resolve(format.genesis),
        data_dir: resolve(format.data),
        listen: format.listen.map(|FileListen(address)| address),
        key: resolve(format.key),
        public_url: format.public_url,
        body_limit: format.body_limit,
        attachment_limit: format.attachment_limit,
        client_timeout: format.client_timeout,
        max_connections: format.max_connections,
        state_cache: format.state_cache,
        tls_certificate: resolve(format.tls_certificate),
        tls_key: resolve(format.tls_key),
        peers: format.peers,
        join: format.join,
    })
}

/// Turns a TOML error into a [`ConfigError`] with its position, recognising
/// serde's "unknown field" so that the key is named on its own.
fn file_error(path: &Path, text: &str, error: &toml::de::Error) -> ConfigError {
    let position = error.span().map(|span| Position::of_offset(text, span.start));
    let message = error.message().trim_end();
    if let Some((key, expected)) = message.strip_prefix("unknown field `").and_then(|rest| rest.split_once('`')) {
        let expected = expected.trim_start_matches(", expected ").trim_start_matches("one of ");
        return ConfigError::UnknownKey {
            path: path.to_owned(),
            position,
            key: key.to_owned(),
            expected: expected.to_owned(),
        };
    }
    ConfigError::File { path: path.to_owned(), position, message: message.to_owned() }
}

/// The TLS files, when both are given; one without the other is a mistake
/// (plain HTTP would be served where HTTPS was meant), never a default.
fn tls_files(certificate: Option<PathBuf>, key: Option<PathBuf>) -> Result<Option<TlsFiles>, ConfigError> {
    match (certificate, key) {
        (Some(certificate), Some(key)) => Ok(Some(TlsFiles { certificate, key })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError::TlsIncomplete { given: Setting::TlsCertificate, missing: Setting::TlsKey }),
        (None, Some(_)) => Err(ConfigError::TlsIncomplete { given: Setting::TlsKey, missing: Setting::TlsCertificate }),
    }
}

fn check_peers(peers: &[Peer]) -> Result<(), ConfigError> {
    let mut seen: BTreeMap<&str, &Peer> = BTreeMap::new();
    for peer in peers {
        if let Some(first) = seen.insert(peer.member.as_str(), peer) {
            return Err(ConfigError::DuplicatePeer {
                member: peer.member.clone(),
                first: first.url.to_string(),
                second: peer.url.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
