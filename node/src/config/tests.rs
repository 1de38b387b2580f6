use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use salvage_ledger::custody::MemberId;
use salvage_ledger::testkit::Fixture;
use tempfile::TempDir;

use super::*;

/// A directory holding a config file, the demo consortium's genesis and a key.
struct Site {
    dir: TempDir,
}

impl Site {
    fn new() -> Site {
        let site = Site { dir: tempfile::tempdir().unwrap() };
        std::fs::create_dir(site.path("keys")).unwrap();
        site.write("genesis.json", &serde_json::to_vec(&Fixture::new().genesis).unwrap());
        site
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn write(&self, relative: &str, contents: &[u8]) -> PathBuf {
        let path = self.path(relative);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn config(&self, toml: &str) -> PathBuf {
        self.write("node.toml", toml.as_bytes())
    }
}

const FULL: &str = r#"
genesis = "genesis.json"
data = "/var/lib/salvage/ledger"
listen = "0.0.0.0:8080"
key = "keys/city-of-jelgava.pem"
public_url = "https://passports.jelgava.example"
body_limit = "4 MiB"
attachment_limit = "20 MiB"
client_timeout = "10 s"
max_connections = 1024
state_cache = "128 MiB"
join = false

[[peers]]
member = "regional-planning"
url = "https://salvage.zpr.example"

[[peers]]
member = "reuse-hub"
url = "http://10.20.0.7:8080"
"#;

const MINIMAL: &str = r#"
genesis = "genesis.json"
data = "ledger"
key = "keys/operator.pem"
public_url = "https://passports.jelgava.example"
"#;

fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
    NodeConfig::load(Some(path), &Overrides::default())
}

fn url(text: &str) -> BaseUrl {
    BaseUrl::parse(text).unwrap()
}

fn member(id: &str) -> MemberId {
    MemberId::parse(id).unwrap()
}

// --- The file and its layers ------------------------------------------------

#[test]
fn the_documented_example_loads_with_paths_next_to_the_file() {
    let site = Site::new();
    let config = load(&site.config(FULL)).unwrap();
    assert_eq!(config.genesis, site.path("genesis.json"));
    assert_eq!(config.data_dir, PathBuf::from("/var/lib/salvage/ledger"));
    assert_eq!(config.listen, "0.0.0.0:8080".parse::<SocketAddr>().unwrap());
    assert_eq!(config.key, site.path("keys/city-of-jelgava.pem"));
    assert_eq!(config.public_url.to_string(), "https://passports.jelgava.example");
    assert_eq!(config.body_limit.bytes(), 4 * 1024 * 1024);
    assert_eq!(config.attachment_limit.bytes(), 20 * 1024 * 1024);
    assert_eq!(config.state_cache.bytes(), 128 * 1024 * 1024);
    assert_eq!(
        config.peers,
        vec![
            Peer::new(member("regional-planning"), url("https://salvage.zpr.example")),
            Peer::new(member("reuse-hub"), url("http://10.20.0.7:8080")),
        ]
    );
}

#[test]
fn the_module_documentation_example_is_the_one_tested() {
    // The example in the module doc must stay a valid config, equal to FULL.
    let doc = include_str!("mod.rs");
    let block: String = doc
        .lines()
        .skip_while(|line| *line != "//! ```toml")
        .skip(1)
        .take_while(|line| *line != "//! ```")
        .map(|line| format!("{}\n", line.trim_start_matches("//!").trim_start()))
        .collect();
    assert!(block.contains("[[peers]]"), "{block}");
    let site = Site::new();
    let from_doc = load(&site.write("doc.toml", block.as_bytes())).unwrap();
    assert_eq!(from_doc, load(&site.config(FULL)).unwrap());
}

#[test]
fn relative_paths_in_a_file_resolve_against_its_directory() {
    let site = Site::new();
    std::fs::create_dir(site.path("etc")).unwrap();
    let file = site.write("etc/node.toml", MINIMAL.replace("\"genesis.json\"", "\"../genesis.json\"").as_bytes());
    let config = load(&file).unwrap();
    assert_eq!(config.genesis, site.path("etc/../genesis.json"));
    assert_eq!(config.data_dir, site.path("etc/ledger"));
    assert_eq!(config.key, site.path("etc/keys/operator.pem"));
    assert!(config.read_genesis().is_ok());
}

#[test]
fn defaults_apply_where_nothing_is_set() {
    let site = Site::new();
    let config = load(&site.config(MINIMAL)).unwrap();
    assert_eq!(config.listen, DEFAULT_LISTEN);
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.body_limit, BodyLimit::DEFAULT);
    assert_eq!(config.body_limit.bytes(), 4 * 1024 * 1024);
    assert_eq!(config.attachment_limit, AttachmentLimit::DEFAULT);
    assert_eq!(config.attachment_limit.bytes(), salvage_ledger::attachment::DEFAULT_LIMIT);
    assert_eq!(config.state_cache, StateCache::DEFAULT);
    assert_eq!(config.state_cache.bytes(), 128 * 1024 * 1024);
    assert!(config.peers.is_empty());
    assert!(!config.join, "a node proposes its peers as the first nodes unless told to join");
}

#[test]
fn every_override_wins_over_the_file() {
    let site = Site::new();
    let file = site.config(FULL);
    let overrides = Overrides {
        genesis: Some(PathBuf::from("other/genesis.json")),
        data_dir: Some(PathBuf::from("other/ledger")),
        listen: Some("[::]:9090".parse().unwrap()),
        key: Some(PathBuf::from("other/key.pem")),
        public_url: Some(url("https://id.example.com/salvage")),
        body_limit: Some(BodyLimit::parse("64 KiB").unwrap()),
        attachment_limit: Some(AttachmentLimit::parse("100 MiB").unwrap()),
        client_timeout: Some(ClientTimeout::parse("3").unwrap()),
        max_connections: Some(MaxConnections::parse("64").unwrap()),
        state_cache: Some(StateCache::parse("1 GiB").unwrap()),
        // Not with the peers: tested on their own below.
        tls_certificate: None,
        tls_key: None,
        peers: Some(vec![Peer::parse("baltic-cert=https://cert.example").unwrap()]),
        join: Some(true),
    };
    let config = NodeConfig::load(Some(&file), &overrides).unwrap();
    // Relative paths from the command line stay relative to the working directory.
    assert_eq!(config.genesis, PathBuf::from("other/genesis.json"));
    assert_eq!(config.data_dir, PathBuf::from("other/ledger"));
    assert_eq!(config.listen.to_string(), "[::]:9090");
    assert_eq!(config.key, PathBuf::from("other/key.pem"));
    assert_eq!(config.public_url.to_string(), "https://id.example.com/salvage");
    assert_eq!(config.body_limit.bytes(), 64 * 1024);
    assert_eq!(config.attachment_limit.bytes(), 100 * 1024 * 1024);
    assert_eq!(config.client_timeout.duration(), std::time::Duration::from_secs(3));
    assert_eq!(config.max_connections.count(), 64);
    assert_eq!(config.state_cache.bytes(), 1 << 30);
    assert_eq!(config.peers, vec![Peer::new(member("baltic-cert"), url("https://cert.example"))]);
    assert!(config.join, "--join wins over the file's join = false");
}

#[test]
fn an_override_of_one_setting_leaves_the_others_from_the_file() {
    let site = Site::new();
    let file = site.config(FULL);
    let from_file = load(&file).unwrap();
    let overrides = Overrides { listen: Some("127.0.0.1:1".parse().unwrap()), ..Overrides::default() };
    let config = NodeConfig::load(Some(&file), &overrides).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:1");
    assert_eq!(NodeConfig { listen: from_file.listen, ..config }, from_file);
}

#[test]
fn overrides_alone_need_no_file() {
    let overrides = Overrides {
        genesis: Some(PathBuf::from("genesis.json")),
        data_dir: Some(PathBuf::from("ledger")),
        key: Some(PathBuf::from("key.pem")),
        public_url: Some(url("http://localhost:8080")),
        ..Overrides::default()
    };
    let config = NodeConfig::load(None, &overrides).unwrap();
    assert_eq!(config.genesis, PathBuf::from("genesis.json"));
    assert_eq!(config.listen, DEFAULT_LISTEN);
}

#[test]
fn every_required_setting_missing_is_named_with_its_three_spellings() {
    let complete = Overrides {
        genesis: Some(PathBuf::from("g.json")),
        data_dir: Some(PathBuf::from("d")),
        key: Some(PathBuf::from("k.pem")),
        public_url: Some(url("https://p.example")),
        ..Overrides::default()
    };
    type Remove = fn(&mut Overrides);
    let cases: [(Setting, Remove); 4] = [
        (Setting::Genesis, |o| o.genesis = None),
        (Setting::DataDir, |o| o.data_dir = None),
        (Setting::Key, |o| o.key = None),
        (Setting::PublicUrl, |o| o.public_url = None),
    ];
    for (setting, remove) in cases {
        let mut overrides = complete.clone();
        remove(&mut overrides);
        let error = NodeConfig::load(None, &overrides).unwrap_err();
        assert!(matches!(error, ConfigError::Missing { setting: s } if s == setting), "{error}");
        let message = error.to_string();
        for name in [setting.toml_key(), setting.flag(), setting.env()] {
            assert!(message.contains(name), "{message:?} lacks {name}");
        }
    }
    let message = NodeConfig::load(None, &Overrides { public_url: None, ..complete }).unwrap_err().to_string();
    assert_eq!(
        message,
        "no public URL given: set `public_url` in the config file, pass --public-url, or set SALVAGE_PUBLIC_URL"
    );
}

#[test]
fn settings_have_the_documented_names() {
    let names: Vec<_> = Setting::ALL.iter().map(|s| (s.toml_key(), s.flag(), s.env())).collect();
    assert_eq!(
        names,
        [
            ("genesis", "--genesis", "SALVAGE_GENESIS"),
            ("data", "--data", "SALVAGE_DATA"),
            ("listen", "--listen", "SALVAGE_LISTEN"),
            ("key", "--key", "SALVAGE_KEY"),
            ("public_url", "--public-url", "SALVAGE_PUBLIC_URL"),
            ("body_limit", "--body-limit", "SALVAGE_BODY_LIMIT"),
            ("attachment_limit", "--attachment-limit", "SALVAGE_ATTACHMENT_LIMIT"),
            ("client_timeout", "--client-timeout", "SALVAGE_CLIENT_TIMEOUT"),
            ("max_connections", "--max-connections", "SALVAGE_MAX_CONNECTIONS"),
            ("state_cache", "--state-cache", "SALVAGE_STATE_CACHE"),
            ("tls_certificate", "--tls-certificate", "SALVAGE_TLS_CERTIFICATE"),
            ("tls_key", "--tls-key", "SALVAGE_TLS_KEY"),
            ("peers", "--peer", "SALVAGE_PEERS"),
            ("join", "--join", "SALVAGE_JOIN"),
        ]
    );
}

#[test]
fn tls_files_come_from_the_file_next_to_it_or_from_overrides() {
    let site = Site::new();
    assert_eq!(load(&site.config(MINIMAL)).unwrap().tls, None, "plain HTTP unless told otherwise");
    let file =
        site.config(&format!("{MINIMAL}tls_certificate = \"tls/fullchain.pem\"\ntls_key = \"tls/privkey.pem\"\n"));
    let config = load(&file).unwrap();
    assert_eq!(
        config.tls,
        Some(TlsFiles { certificate: site.path("tls/fullchain.pem"), key: site.path("tls/privkey.pem") })
    );
    // Each of the two is layered on its own, like every setting.
    let overrides = Overrides { tls_key: Some(PathBuf::from("renewed/key.pem")), ..Overrides::default() };
    let config = NodeConfig::load(Some(&file), &overrides).unwrap();
    assert_eq!(
        config.tls,
        Some(TlsFiles { certificate: site.path("tls/fullchain.pem"), key: PathBuf::from("renewed/key.pem") })
    );
}

#[test]
fn only_one_of_the_two_tls_settings_is_refused_naming_the_missing_one() {
    let site = Site::new();
    let certificate_only = site.config(&format!("{MINIMAL}tls_certificate = \"cert.pem\"\n"));
    let error = load(&certificate_only).unwrap_err();
    assert!(
        matches!(error, ConfigError::TlsIncomplete { given: Setting::TlsCertificate, missing: Setting::TlsKey }),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "TLS certificate file given without TLS key file: serving HTTPS needs both; set `tls_key` in the config \
         file, pass --tls-key, or set SALVAGE_TLS_KEY (or give neither to serve plain HTTP)"
    );
    let key_only = Overrides { tls_key: Some(PathBuf::from("key.pem")), ..Overrides::default() };
    let message = NodeConfig::load(Some(&site.config(MINIMAL)), &key_only).unwrap_err().to_string();
    for name in ["tls_certificate", "--tls-certificate", "SALVAGE_TLS_CERTIFICATE"] {
        assert!(message.contains(name), "{message:?} lacks {name}");
    }
}

#[test]
fn tls_on_a_consortium_node_is_refused() {
    let site = Site::new();
    let overrides = Overrides {
        tls_certificate: Some(PathBuf::from("cert.pem")),
        tls_key: Some(PathBuf::from("key.pem")),
        ..Overrides::default()
    };
    let error = NodeConfig::load(Some(&site.config(FULL)), &overrides).unwrap_err();
    assert!(matches!(error, ConfigError::TlsWithPeers), "{error}");
    assert!(error.to_string().contains("reverse proxy"), "{error}");
}

// --- Errors in the file ---------------------------------------------------------

#[test]
fn a_missing_config_file_is_named() {
    let site = Site::new();
    let error = load(&site.path("nowhere.toml")).unwrap_err();
    assert!(
        matches!(&error, ConfigError::ReadFile { path, source } if path.ends_with("nowhere.toml") && source.kind() == std::io::ErrorKind::NotFound)
    );
    assert!(error.to_string().starts_with("cannot read config file "), "{error}");
}

#[test]
fn bad_toml_is_reported_with_its_line_and_column() {
    let site = Site::new();
    let file = site.config("genesis = \"genesis.json\"\ndata = \"ledger\nkey = 1\n");
    let error = load(&file).unwrap_err();
    let ConfigError::File { path, position: Some(position), .. } = &error else { panic!("{error:?}") };
    assert_eq!(path, &file);
    assert_eq!(position.line, 2, "{error}");
    assert!(error.to_string().contains("node.toml at line 2, column"), "{error}");
}

#[test]
fn an_unknown_key_is_named_with_its_position() {
    let site = Site::new();
    let file = site.config("genesis = \"genesis.json\"\npubic_url = \"https://p.example\"\n");
    let error = load(&file).unwrap_err();
    let ConfigError::UnknownKey { key, position, expected, .. } = &error else { panic!("{error:?}") };
    assert_eq!(key, "pubic_url");
    assert_eq!(*position, Some(Position { line: 2, column: 1 }));
    assert!(expected.contains("`public_url`"), "{expected}");
    let message = error.to_string();
    assert!(message.contains("node.toml at line 2, column 1: unknown key `pubic_url`"), "{message}");
}

#[test]
fn an_unknown_key_in_a_peer_is_named() {
    let site = Site::new();
    let file = site.config("[[peers]]\nmember = \"reuse-hub\"\nurl = \"https://h.example\"\nkey = \"abc\"\n");
    let error = load(&file).unwrap_err();
    let ConfigError::UnknownKey { key, position, expected, .. } = &error else { panic!("{error:?}") };
    assert_eq!(key, "key");
    assert_eq!(position.map(|p| p.line), Some(4));
    assert!(expected.contains("`member`") && expected.contains("`url`"), "{expected}");
}

#[test]
fn a_bad_listen_address_in_the_file_is_placed_and_explained() {
    let site = Site::new();
    let file = site.config(&format!("{MINIMAL}listen = \"example.com:80\"\n"));
    let error = load(&file).unwrap_err();
    let ConfigError::File { position, message, .. } = &error else { panic!("{error:?}") };
    assert_eq!(position.map(|p| p.line), Some(6), "{error}");
    assert!(message.contains("\"example.com:80\" is not an IP address and port"), "{message}");
}

#[test]
fn listen_addresses_parse_as_documented() {
    assert_eq!(parse_listen("0.0.0.0:8080").unwrap().to_string(), "0.0.0.0:8080");
    assert_eq!(parse_listen("[::1]:443").unwrap().to_string(), "[::1]:443");
    assert_eq!(parse_listen("localhost:3000").unwrap().to_string(), "127.0.0.1:3000");
    for bad in ["8080", "0.0.0.0", "example.com:80", "localhost:99999", ""] {
        assert!(parse_listen(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn a_bad_public_url_in_the_file_is_placed_and_explained() {
    let site = Site::new();
    let file = site.config(&MINIMAL.replace("https://passports.jelgava.example", "passports.jelgava.example"));
    let error = load(&file).unwrap_err();
    let ConfigError::File { position, message, .. } = &error else { panic!("{error:?}") };
    assert_eq!(position.map(|p| p.line), Some(5), "{error}");
    assert!(message.contains("is not absolute"), "{message}");
}

#[test]
fn base_urls_are_checked_and_normalised() {
    assert_eq!(url("HTTPS://Passports.Example.LV/").to_string(), "https://passports.example.lv");
    assert_eq!(url("http://10.0.0.7:8080/Salvage/").to_string(), "http://10.0.0.7:8080/Salvage");
    assert!(url("https://p.example").is_https());
    assert!(!url("http://p.example").is_https());
    for (bad, why) in [
        ("passports.example.lv", "is not absolute"),
        ("ftp://passports.example.lv", "must use http or https"),
        ("https://user:secret@passports.example.lv", "user name or password"),
        ("https://passports.example.lv/?x=1", "not a usable base URL"),
        ("https://passports.example.lv/#top", "not a usable base URL"),
        ("https://", "not a usable base URL"),
        ("https://pass ports.example", "not a usable base URL"),
    ] {
        let error = BaseUrl::parse(bad).unwrap_err();
        assert!(error.message().contains(why), "{bad:?}: {error}");
    }
}

#[test]
fn body_limits_parse_with_binary_units_within_bounds() {
    assert_eq!(BodyLimit::parse("4194304").unwrap().bytes(), 4 * 1024 * 1024);
    assert_eq!(BodyLimit::parse("4 MiB").unwrap(), BodyLimit::DEFAULT);
    assert_eq!(BodyLimit::parse("512kib").unwrap().bytes(), 512 * 1024);
    assert_eq!(BodyLimit::parse("16 MiB").unwrap().bytes(), 16 * 1024 * 1024);
    assert_eq!(BodyLimit::DEFAULT.to_string(), "4 MiB");
    // No body may be larger than the largest record the ledger can hold.
    for bad in ["0", "1000", "17 MiB", "1 GiB", "10 MB", "MiB", "-1", "99999999999999999999 GiB"] {
        assert!(BodyLimit::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn body_limits_in_the_file_may_be_numbers_or_strings() {
    let site = Site::new();
    let numeric = load(&site.config(&format!("{MINIMAL}body_limit = 65536\n"))).unwrap();
    assert_eq!(numeric.body_limit.bytes(), 65536);
    let error = load(&site.config(&format!("{MINIMAL}body_limit = 12\n"))).unwrap_err();
    assert!(error.to_string().contains("outside 1 KiB to 16 MiB"), "{error}");
    let error = load(&site.config(&format!("{MINIMAL}body_limit = -5\n"))).unwrap_err();
    assert!(error.to_string().contains("outside 1 KiB to 16 MiB"), "{error}");
}

#[test]
fn attachment_limits_parse_with_binary_units_within_bounds() {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    assert_eq!(AttachmentLimit::parse("20 MiB").unwrap(), AttachmentLimit::DEFAULT);
    assert_eq!(AttachmentLimit::parse("20971520").unwrap(), AttachmentLimit::DEFAULT);
    assert_eq!(AttachmentLimit::DEFAULT.bytes(), salvage_ledger::attachment::DEFAULT_LIMIT);
    assert_eq!(AttachmentLimit::DEFAULT.to_string(), "20 MiB");
    assert_eq!(AttachmentLimit::parse("64KiB").unwrap().bytes(), AttachmentLimit::MIN);
    assert_eq!(AttachmentLimit::parse("1 gib").unwrap().bytes(), AttachmentLimit::MAX);
    assert_eq!(AttachmentLimit::parse("512 KiB").unwrap().bytes(), 512 * KIB);
    assert_eq!(AttachmentLimit::new(AttachmentLimit::MIN).unwrap().to_string(), "64 KiB");
    assert_eq!(AttachmentLimit::new(AttachmentLimit::MAX).unwrap().to_string(), "1 GiB");
    assert_eq!(AttachmentLimit::new(3 * MIB + 1).unwrap().to_string(), "3145729 B");
    // Too small, too large, and malformed: each message names the setting and its range.
    for (bad, why) in [
        ("65535", "attachment limit of 65535 bytes is outside 64 KiB to 1 GiB"),
        ("0", "attachment limit of 0 bytes is outside 64 KiB to 1 GiB"),
        ("1025 MiB", "attachment limit of 1074790400 bytes is outside 64 KiB to 1 GiB"),
        ("2 GiB", "attachment limit of 2147483648 bytes is outside 64 KiB to 1 GiB"),
        ("99999999999999999999", "attachment limit \"99999999999999999999\" is outside 64 KiB to 1 GiB"),
        (
            "20 MB",
            "attachment limit \"20 MB\" is not a byte count such as 20971520, 512 KiB or 20 MiB (units B, KiB, MiB, GiB; 64 KiB to 1 GiB)",
        ),
        ("1.5 MiB", "attachment limit \"1.5 MiB\" is not a byte count"),
        ("-1", "attachment limit \"-1\" is not a byte count"),
        ("MiB", "attachment limit \"MiB\" does not start with a number of bytes"),
        ("", "attachment limit \"\" does not start with a number of bytes"),
    ] {
        let error = AttachmentLimit::parse(bad).unwrap_err();
        assert!(error.message().starts_with(why), "{bad:?}: {error}");
    }
    assert_eq!(
        AttachmentLimit::new(AttachmentLimit::MAX + 1).unwrap_err().message(),
        "attachment limit of 1073741825 bytes is outside 64 KiB to 1 GiB"
    );
    // `--attachment-limit` and `SALVAGE_ATTACHMENT_LIMIT` parse with `FromStr`.
    assert_eq!("64 KiB".parse::<AttachmentLimit>().unwrap().bytes(), 64 * KIB);
}

#[test]
fn attachment_limits_in_the_file_may_be_numbers_or_strings_and_bad_ones_are_placed() {
    let site = Site::new();
    let numeric = load(&site.config(&format!("{MINIMAL}attachment_limit = 65536\n"))).unwrap();
    assert_eq!(numeric.attachment_limit.bytes(), 64 << 10);
    let text = load(&site.config(&format!("{MINIMAL}attachment_limit = \"100 MiB\"\n"))).unwrap();
    assert_eq!(text.attachment_limit.bytes(), 100 << 20);
    assert_eq!(text.body_limit, BodyLimit::DEFAULT, "the attachment limit leaves the body limit alone");
    for (bad, why) in [
        ("1024", "attachment limit of 1024 bytes is outside 64 KiB to 1 GiB"),
        ("-5", "attachment limit of -5 bytes is outside 64 KiB to 1 GiB"),
        ("\"4 GiB\"", "attachment limit of 4294967296 bytes is outside 64 KiB to 1 GiB"),
        ("\"huge\"", "attachment limit \"huge\" is not a byte count"),
        ("true", "a number of bytes, or a string with a unit"),
    ] {
        let error = load(&site.config(&format!("{MINIMAL}attachment_limit = {bad}\n"))).unwrap_err();
        let ConfigError::File { position, message, .. } = &error else { panic!("{bad}: {error:?}") };
        assert_eq!(position.map(|p| p.line), Some(6), "{bad}: {error}");
        assert!(message.contains(why), "{bad}: {message}");
    }
}

#[test]
fn client_timeouts_and_connection_limits_parse_within_bounds() {
    assert_eq!(ClientTimeout::parse("10").unwrap(), ClientTimeout::DEFAULT);
    assert_eq!(ClientTimeout::parse("10 s").unwrap(), ClientTimeout::DEFAULT);
    assert_eq!(ClientTimeout::parse("3s").unwrap().duration(), std::time::Duration::from_secs(3));
    for bad in ["0", "301", "-1", "ten", "10 min", ""] {
        assert!(ClientTimeout::parse(bad).is_err(), "{bad:?} accepted");
    }
    assert_eq!(MaxConnections::parse("1024").unwrap(), MaxConnections::DEFAULT);
    for bad in ["0", "3", "65537", "many", "-4"] {
        assert!(MaxConnections::parse(bad).is_err(), "{bad:?} accepted");
    }
    let site = Site::new();
    let config = load(&site.config(&format!("{MINIMAL}client_timeout = 5\nmax_connections = \"64\"\n"))).unwrap();
    assert_eq!(config.client_timeout.duration(), std::time::Duration::from_secs(5));
    assert_eq!(config.max_connections.count(), 64);
    let error = load(&site.config(&format!("{MINIMAL}client_timeout = \"forever\"\n"))).unwrap_err();
    assert!(error.to_string().contains("whole number of seconds"), "{error}");
}

#[test]
fn state_caches_parse_with_binary_units_within_bounds() {
    const MIB: u64 = 1024 * 1024;
    assert_eq!(StateCache::parse("128 MiB").unwrap(), StateCache::DEFAULT);
    assert_eq!(StateCache::parse("134217728").unwrap(), StateCache::DEFAULT);
    assert_eq!(StateCache::parse("1gib").unwrap().bytes(), 1024 * MIB);
    assert_eq!(StateCache::parse("16 MiB").unwrap().bytes(), StateCache::MIN);
    assert_eq!(StateCache::parse("64 GiB").unwrap().bytes(), StateCache::MAX);
    assert_eq!(StateCache::DEFAULT.to_string(), "128 MiB");
    assert_eq!(StateCache::MAX.to_string(), (64 * 1024 * MIB).to_string());
    assert_eq!(StateCache::new(StateCache::MAX).unwrap().to_string(), "64 GiB");
    // Too small, too large, and malformed: each message names the setting and its range.
    for (bad, why) in [
        ("15 MiB", "state cache of 15728640 bytes is outside 16 MiB to 64 GiB"),
        ("0", "state cache of 0 bytes is outside 16 MiB to 64 GiB"),
        ("65 GiB", "state cache of 69793218560 bytes is outside 16 MiB to 64 GiB"),
        ("99999999999999999999 GiB", "state cache \"99999999999999999999 GiB\" is outside 16 MiB to 64 GiB"),
        (
            "128 MB",
            "state cache \"128 MB\" is not a byte count such as 134217728, 512 MiB or 1 GiB (units B, KiB, MiB, GiB; 16 MiB to 64 GiB)",
        ),
        ("1.5 GiB", "state cache \"1.5 GiB\" is not a byte count"),
        ("-1", "state cache \"-1\" is not a byte count"),
        ("lots", "state cache \"lots\" is not a byte count"),
        ("MiB", "state cache \"MiB\" does not start with a number of bytes"),
        ("", "state cache \"\" does not start with a number of bytes"),
    ] {
        let error = StateCache::parse(bad).unwrap_err();
        assert!(error.message().starts_with(why), "{bad:?}: {error}");
    }
}

#[test]
fn the_state_cache_is_split_between_the_index_pages_and_the_items() {
    let default = StateCache::DEFAULT;
    assert_eq!(default.index_cache_bytes(), 64 << 20);
    // The other half at 1 KiB an item.
    assert_eq!(default.cached_items().get(), 64 << 10);
    let smallest = StateCache::new(StateCache::MIN).unwrap();
    assert_eq!(smallest.index_cache_bytes(), 8 << 20);
    assert_eq!(smallest.cached_items().get(), 8 << 10);
    // An odd byte count: the halves stay within the whole, short of it by less than one item.
    let odd = StateCache::new(StateCache::MIN + 2047).unwrap();
    let used = odd.index_cache_bytes() as u64 + odd.cached_items().get() as u64 * StateCache::BYTES_PER_ITEM;
    assert!(used <= odd.bytes() && odd.bytes() - used < StateCache::BYTES_PER_ITEM, "{used} of {odd}");
}

#[test]
fn state_caches_in_the_file_may_be_numbers_or_strings_and_bad_ones_are_placed() {
    let site = Site::new();
    let numeric = load(&site.config(&format!("{MINIMAL}state_cache = 33554432\n"))).unwrap();
    assert_eq!(numeric.state_cache.bytes(), 32 << 20);
    let text = load(&site.config(&format!("{MINIMAL}state_cache = \"2 GiB\"\n"))).unwrap();
    assert_eq!(text.state_cache.bytes(), 2 << 30);
    for (bad, why) in [
        ("1048576", "state cache of 1048576 bytes is outside 16 MiB to 64 GiB"),
        ("-5", "state cache of -5 bytes is outside 16 MiB to 64 GiB"),
        ("\"100 GiB\"", "state cache of 107374182400 bytes is outside 16 MiB to 64 GiB"),
        ("\"plenty\"", "state cache \"plenty\" is not a byte count"),
        ("true", "a number of bytes, or a string with a unit"),
    ] {
        let error = load(&site.config(&format!("{MINIMAL}state_cache = {bad}\n"))).unwrap_err();
        let ConfigError::File { position, message, .. } = &error else { panic!("{bad}: {error:?}") };
        assert_eq!(position.map(|p| p.line), Some(6), "{bad}: {error}");
        assert!(message.contains(why), "{bad}: {message}");
    }
}

#[test]
fn an_empty_path_is_refused() {
    let site = Site::new();
    let error = load(&site.config(&MINIMAL.replace("\"ledger\"", "\"\""))).unwrap_err();
    assert!(matches!(&error, ConfigError::File { message, .. } if message.contains("must not be empty")), "{error}");
}

#[test]
fn peers_parse_from_member_equals_url_and_must_be_distinct() {
    let peer = Peer::parse("reuse-hub=http://10.20.0.7:8080/").unwrap();
    assert_eq!(peer.to_string(), "reuse-hub=http://10.20.0.7:8080");
    assert!(Peer::parse("reuse-hub").unwrap_err().message().contains("MEMBER=URL"));
    assert!(Peer::parse("Reuse Hub=http://h.example").is_err());
    let twice = Overrides {
        peers: Some(vec![
            Peer::parse("reuse-hub=http://a.example").unwrap(),
            Peer::parse("reuse-hub=http://b.example").unwrap(),
        ]),
        ..Overrides::default()
    };
    let site = Site::new();
    let error = NodeConfig::load(Some(&site.config(MINIMAL)), &twice).unwrap_err();
    assert_eq!(
        error.to_string(),
        "peer reuse-hub is listed twice (at http://a.example and http://b.example); list each peer once"
    );
}

// --- The ledger it opens ----------------------------------------------------

#[test]
fn the_ledger_opens_within_the_state_cache() {
    let site = Site::new();
    let overrides = Overrides {
        data_dir: Some(site.path("ledger")),
        state_cache: Some(StateCache::new(StateCache::MIN).unwrap()),
        ..Overrides::default()
    };
    let config = NodeConfig::load(Some(&site.config(MINIMAL)), &overrides).unwrap();
    let genesis = config.read_genesis().unwrap();
    let (ledger, report) = config.open_ledger(&genesis).unwrap();
    assert_eq!(report.size, 1);
    assert_eq!(ledger.ledger_id(), Fixture::new().ledger_id);
    drop(ledger);
    // Reopened, with another cache: the cache bounds memory, not what the ledger holds.
    let config = NodeConfig { state_cache: StateCache::DEFAULT, ..config };
    let (_, report) = config.open_ledger(&genesis).unwrap();
    assert_eq!(report.size, 1);
}

#[test]
fn a_data_directory_of_another_ledger_is_refused_naming_both_files() {
    let site = Site::new();
    let other = Fixture::named("Another Consortium");
    let other_dir = site.path("other-ledger");
    drop(salvage_ledger::Ledger::create(&other_dir, other.genesis.clone()).unwrap());
    let config = NodeConfig::load(
        Some(&site.config(MINIMAL)),
        &Overrides { data_dir: Some(other_dir.clone()), ..Overrides::default() },
    )
    .unwrap();
    let genesis = config.read_genesis().unwrap();
    let error = config.open_ledger(&genesis).map(|_| ()).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "data directory {} holds ledger {}, but genesis file {} founds ledger {}; point the data directory at \
             that ledger's directory or the genesis at its genesis file",
            other_dir.display(),
            other.ledger_id,
            site.path("genesis.json").display(),
            Fixture::new().ledger_id
        )
    );
}
