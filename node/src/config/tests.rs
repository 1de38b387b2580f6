use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use salvage_ledger::custody::MemberId;
use salvage_ledger::entry::{Kind, PublicKey};
use salvage_ledger::testkit::Fixture;
use serde_json::json;
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

    /// Writes a member's key as PKCS#8 PEM, readable by its owner only.
    fn key(&self, relative: &str, key: &SigningKey) -> PathBuf {
        let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        let path = self.write(relative, pem.as_bytes());
        set_mode(&path, 0o600);
        path
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) {}

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
    assert_eq!(BodyLimit::parse("1 GiB").unwrap().bytes(), 1024 * 1024 * 1024);
    assert_eq!(BodyLimit::DEFAULT.to_string(), "4 MiB");
    for bad in ["0", "1000", "2 GiB", "10 MB", "MiB", "-1", "99999999999999999999 GiB"] {
        assert!(BodyLimit::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn body_limits_in_the_file_may_be_numbers_or_strings() {
    let site = Site::new();
    let numeric = load(&site.config(&format!("{MINIMAL}body_limit = 65536\n"))).unwrap();
    assert_eq!(numeric.body_limit.bytes(), 65536);
    let error = load(&site.config(&format!("{MINIMAL}body_limit = 12\n"))).unwrap_err();
    assert!(error.to_string().contains("outside 1 KiB to 1 GiB"), "{error}");
    let error = load(&site.config(&format!("{MINIMAL}body_limit = -5\n"))).unwrap_err();
    assert!(error.to_string().contains("outside 1 KiB to 1 GiB"), "{error}");
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

// --- Genesis, key and operator ------------------------------------------------

#[test]
fn the_genesis_file_is_read_and_checked() {
    let site = Site::new();
    let genesis = Genesis::read(&site.path("genesis.json")).unwrap();
    let fixture = Fixture::new();
    assert_eq!(genesis.ledger_id(), fixture.ledger_id);
    assert_eq!(genesis.consortium(), "Zemgale Materials Reuse Consortium");
    assert_eq!(genesis.founders().count(), 7);
}

#[test]
fn a_missing_genesis_file_is_named() {
    let site = Site::new();
    let error = Genesis::read(&site.path("nowhere.json")).unwrap_err();
    assert!(matches!(error, ConfigError::ReadGenesis { .. }), "{error:?}");
    assert!(error.to_string().contains("nowhere.json"), "{error}");
}

#[test]
fn a_malformed_genesis_file_is_refused_with_the_ledger_reason() {
    let site = Site::new();
    let fixture = Fixture::new();
    let not_json = site.write("broken.json", b"{\"statement\": ");
    let duplicate_keys = site.write("dup.json", br#"{"statement": {}, "statement": {}, "signatures": []}"#);
    let not_genesis = site.write(
        "register.json",
        &serde_json::to_vec(&fixture.register("baltic-demolition", "4750001BEAM-0001", "beam", 10.0)).unwrap(),
    );
    let mut tampered = serde_json::to_value(&fixture.genesis).unwrap();
    tampered["statement"]["body"]["admin_threshold"] = json!(1);
    let tampered = site.write("tampered.json", &serde_json::to_vec(&tampered).unwrap());
    for path in [not_json, duplicate_keys, not_genesis, tampered] {
        let error = Genesis::read(&path).unwrap_err();
        let ConfigError::Genesis { path: named, .. } = &error else { panic!("{error:?}") };
        assert_eq!(named, &path);
        assert!(error.to_string().contains("is not a valid signed genesis: "), "{error}");
    }
}

#[test]
fn an_operator_key_is_identified() {
    let site = Site::new();
    let genesis = Genesis::read(&site.path("genesis.json")).unwrap();
    let path = site.key("keys/city.pem", &Fixture::key("city-of-jelgava"));
    let key = OperatorKey::read(&path).unwrap();
    assert_eq!(key.public_key(), PublicKey::of(&Fixture::key("city-of-jelgava")));
    let operator = key.identify(&genesis, genesis.founders()).unwrap();
    assert_eq!(operator.member().as_str(), "city-of-jelgava");
    assert_eq!(operator.note_signer().name, "city-of-jelgava");
    // Debug output never shows the private half.
    let secret = hex::encode(Fixture::key("city-of-jelgava").to_bytes());
    assert!(!format!("{operator:?}").contains(&secret));
}

#[test]
fn a_key_of_a_member_without_the_operator_role_is_refused_naming_the_operators() {
    let site = Site::new();
    let genesis = Genesis::read(&site.path("genesis.json")).unwrap();
    let path = site.key("keys/demolition.pem", &Fixture::key("baltic-demolition"));
    let error = OperatorKey::read(&path).unwrap().identify(&genesis, genesis.founders()).unwrap_err();
    let public = PublicKey::of(&Fixture::key("baltic-demolition"));
    assert_eq!(
        error.to_string(),
        format!(
            "key {} (ed25519 public key {public}) belongs to member baltic-demolition, which is not an operator of \
             consortium \"Zemgale Materials Reuse Consortium\" (operators: city-of-jelgava, regional-planning, reuse-hub)",
            path.display()
        )
    );
}

#[test]
fn a_key_of_no_member_is_refused() {
    let site = Site::new();
    let genesis = Genesis::read(&site.path("genesis.json")).unwrap();
    let path = site.key("keys/stranger.pem", &Fixture::key("stranger"));
    let error = OperatorKey::read(&path).unwrap().identify(&genesis, genesis.founders()).unwrap_err();
    assert!(matches!(error, ConfigError::KeyNotMember { .. }), "{error:?}");
    assert!(error.to_string().contains("belongs to no member of consortium \"Zemgale Materials Reuse Consortium\""));
}

#[test]
fn a_rotated_key_is_judged_by_the_ledger_s_current_members() {
    let site = Site::new();
    let fixture = Fixture::new();
    let genesis = Genesis::read(&site.path("genesis.json")).unwrap();
    let config = NodeConfig::load(
        Some(&site.config(MINIMAL)),
        &Overrides { data_dir: Some(site.path("ledger")), ..Overrides::default() },
    )
    .unwrap();
    let (ledger, _) = config.open_ledger(&genesis).unwrap();
    let old = Fixture::key("reuse-hub");
    let new = Fixture::key("reuse-hub rotated");
    let rotation = fixture.signed(
        &["reuse-hub"],
        Kind::MemberUpdate,
        json!({"id": "reuse-hub", "add_keys": [PublicKey::of(&new).to_hex()], "revoke_keys": [PublicKey::of(&old).to_hex()]}),
    );
    let outcome = ledger.submit(vec![rotation]).unwrap();
    assert!(outcome[0].is_ok(), "{outcome:?}");
    let members = ledger.members().unwrap();

    let old_path = site.key("keys/old.pem", &old);
    let error = OperatorKey::read(&old_path).unwrap().identify(&genesis, &members).unwrap_err();
    assert!(matches!(&error, ConfigError::KeyRevoked { member, .. } if member.as_str() == "reuse-hub"), "{error:?}");

    let new_path = site.key("keys/new.pem", &new);
    let operator = OperatorKey::read(&new_path).unwrap().identify(&genesis, &members).unwrap();
    assert_eq!(operator.member().as_str(), "reuse-hub");
}

#[test]
fn a_missing_key_file_is_named() {
    let site = Site::new();
    let error = OperatorKey::read(&site.path("keys/none.pem")).unwrap_err();
    assert!(matches!(&error, ConfigError::ReadKey { source, .. } if source.kind() == std::io::ErrorKind::NotFound));
    assert!(error.to_string().contains("keys/none.pem"), "{error}");
}

#[cfg(unix)]
#[test]
fn a_key_file_other_users_can_read_is_refused() {
    let site = Site::new();
    let path = site.key("keys/city.pem", &Fixture::key("city-of-jelgava"));
    for mode in [0o644, 0o604, 0o620, 0o606] {
        set_mode(&path, mode);
        let error = OperatorKey::read(&path).unwrap_err();
        assert!(matches!(error, ConfigError::KeyExposed { mode: m, .. } if m == mode), "{mode:o}: {error:?}");
        assert!(error.to_string().contains(&format!("mode {mode:04o}")), "{error}");
    }
    for mode in [0o600, 0o400, 0o640] {
        set_mode(&path, mode);
        assert!(OperatorKey::read(&path).is_ok(), "{mode:o} refused");
    }
}

#[test]
fn key_files_in_other_formats_are_refused_saying_what_they_hold() {
    let site = Site::new();
    let der = Fixture::key("city-of-jelgava").to_pkcs8_der().unwrap();
    let pem = |label: &str, bytes: &[u8]| {
        use base64_like::encode;
        // PEM wraps its base64 at 64 characters a line (RFC 7468).
        let encoded = encode(bytes);
        let lines: Vec<&str> = encoded.as_bytes().chunks(64).map(|line| std::str::from_utf8(line).unwrap()).collect();
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    };
    // Ed448's OID (1.3.101.113) in place of Ed25519's (1.3.101.112).
    let mut ed448 = der.as_bytes().to_vec();
    let oid_at = ed448.windows(3).position(|w| w == [0x2b, 0x65, 0x70]).unwrap();
    ed448[oid_at + 2] = 0x71;
    let cases = [
        ("raw.pem", b"not a key at all\n".to_vec(), "holds no PEM block"),
        ("binary.pem", vec![0xff, 0xfe, 0x00], "is not a PEM text file"),
        ("public.pem", pem("PUBLIC KEY", b"\x30\x00").into_bytes(), "labelled \"PUBLIC KEY\""),
        ("encrypted.pem", pem("ENCRYPTED PRIVATE KEY", b"\x30\x00").into_bytes(), "encrypted key"),
        ("openssh.pem", pem("OPENSSH PRIVATE KEY", b"openssh-key-v1").into_bytes(), "OpenSSH key"),
        ("garbage.pem", pem("PRIVATE KEY", b"\x30\x03\x02\x01\x00").into_bytes(), "not valid PKCS#8"),
        ("ed448.pem", pem("PRIVATE KEY", &ed448).into_bytes(), "another algorithm (OID 1.3.101.113)"),
    ];
    for (name, contents, why) in cases {
        let path = site.write(&format!("keys/{name}"), &contents);
        set_mode(&path, 0o600);
        let error = OperatorKey::read(&path).unwrap_err();
        assert!(matches!(error, ConfigError::KeyFormat { .. }), "{name}: {error:?}");
        assert!(error.to_string().contains(why), "{name}: {error}");
    }
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

/// Base64 for hand-made PEM blocks, so the tests need no base64 crate.
mod base64_like {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
