//! Reading what a node and the offline commands start from: the genesis file,
//! a member's key file, and the check that a key may run a node.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use salvage_ledger::Ledger;
use salvage_ledger::entry::{Kind, PublicKey};
use salvage_ledger::genesis::{Genesis, GenesisError};
use salvage_ledger::key::{KeyFile, KeyFileError};
use salvage_ledger::operator::{Operator, Why};
use salvage_ledger::testkit::Fixture;
use serde_json::json;
use tempfile::TempDir;

/// A directory holding the demo consortium's genesis and keys.
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
    assert!(matches!(error, GenesisError::Read { .. }), "{error:?}");
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
        let GenesisError::Invalid { path: named, .. } = &error else { panic!("{error:?}") };
        assert_eq!(named, &path);
        assert!(error.to_string().contains("is not a valid signed genesis: "), "{error}");
    }
}

#[test]
fn an_operator_key_is_identified() {
    let site = Site::new();
    let genesis = Genesis::read(&site.path("genesis.json")).unwrap();
    let path = site.key("keys/city.pem", &Fixture::key("city-of-jelgava"));
    let key = KeyFile::read(&path).unwrap();
    assert_eq!(key.public_key(), PublicKey::of(&Fixture::key("city-of-jelgava")));
    let operator = Operator::identify_file(key, &genesis, genesis.founders()).unwrap();
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
    let error = Operator::identify_file(KeyFile::read(&path).unwrap(), &genesis, genesis.founders()).unwrap_err();
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
    let error = Operator::identify_file(KeyFile::read(&path).unwrap(), &genesis, genesis.founders()).unwrap_err();
    assert!(matches!(error.why, Why::NoMember { .. }), "{error:?}");
    assert!(error.to_string().contains("belongs to no member of consortium \"Zemgale Materials Reuse Consortium\""));
}

#[test]
fn a_rotated_key_is_judged_by_the_ledger_s_current_members() {
    let site = Site::new();
    let fixture = Fixture::new();
    let genesis = Genesis::read(&site.path("genesis.json")).unwrap();
    let ledger = Ledger::create(&site.path("ledger"), genesis.entry().clone()).unwrap();
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
    let error = Operator::identify_file(KeyFile::read(&old_path).unwrap(), &genesis, &members).unwrap_err();
    assert!(matches!(&error.why, Why::Revoked { member } if member.as_str() == "reuse-hub"), "{error:?}");

    let new_path = site.key("keys/new.pem", &new);
    let operator = Operator::identify_file(KeyFile::read(&new_path).unwrap(), &genesis, &members).unwrap();
    assert_eq!(operator.member().as_str(), "reuse-hub");
}

#[test]
fn a_missing_key_file_is_named() {
    let site = Site::new();
    let error = KeyFile::read(&site.path("keys/none.pem")).unwrap_err();
    assert!(matches!(&error, KeyFileError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound));
    assert!(error.to_string().contains("keys/none.pem"), "{error}");
}

#[cfg(unix)]
#[test]
fn a_key_file_other_users_can_read_is_refused() {
    let site = Site::new();
    let path = site.key("keys/city.pem", &Fixture::key("city-of-jelgava"));
    for mode in [0o644, 0o604, 0o620, 0o606] {
        set_mode(&path, mode);
        let error = KeyFile::read(&path).unwrap_err();
        assert!(matches!(error, KeyFileError::Exposed { mode: m, .. } if m == mode), "{mode:o}: {error:?}");
        assert!(error.to_string().contains(&format!("mode {mode:04o}")), "{error}");
    }
    for mode in [0o600, 0o400, 0o640] {
        set_mode(&path, mode);
        assert!(KeyFile::read(&path).is_ok(), "{mode:o} refused");
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
        let error = KeyFile::read(&path).unwrap_err();
        assert!(matches!(error, KeyFileError::Format { .. }), "{name}: {error:?}");
        assert!(error.to_string().contains(why), "{name}: {error}");
    }
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
