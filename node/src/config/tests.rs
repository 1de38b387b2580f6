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
        client_timeout: Some(ClientTimeout::parse("3").unwrap()),
        max_connections: Some(MaxConnections::parse("64").unwrap()),
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
    assert_eq!(config.client_timeout.duration(), std::time::Duration::from_secs(3));
    assert_eq!(config.max_connections.count(), 64);
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
            ("client_timeout", "--client-timeout", "SALVAGE_CLIENT_TIMEOUT"),
            ("max_connections", "--max-connections", "SALVAGE_MAX_CONNECTIONS"),
            ("peers", "--peer", "SALVAGE_PEERS"),
            ("join", "--join", "SALVAGE_JOIN"),
        ]
    );
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
