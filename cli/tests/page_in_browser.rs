//! The provenance page as a buyer sees it: a real headless Chromium at a phone's
//! viewport against a real `salvage node`; the page carries no script at all. The screenshot is
//! kept in `target/tmp/provenance-phone-*.png` for people to look at.
//!
//! Needs Debian's `chromium` (`.ci/run` installs it).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use salvage_ledger::entry::SignedEntry;
use salvage_ledger::testkit::Fixture;

const SALVAGE: &str = env!("CARGO_BIN_EXE_salvage");
const CHROMIUM: &str = "/usr/bin/chromium";
const PHONE: (u32, u32) = (390, 844);

struct NodeProcess {
    child: Child,
    address: String,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_node(dir: &Path, fixture: &Fixture) -> NodeProcess {
    std::fs::write(dir.join("genesis.json"), serde_json::to_vec(&fixture.genesis.to_value()).unwrap()).unwrap();
    let key = dir.join("operator.pem");
    std::fs::write(&key, Fixture::key("city-of-jelgava").to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes()).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut child = Command::new(SALVAGE)
        .arg("node")
        .args(["--genesis", dir.join("genesis.json").to_str().unwrap()])
        .args(["--data", dir.join("data").to_str().unwrap()])
        .args(["--key", key.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--public-url", "https://passports.jelgava.example"])
        .env_remove("SALVAGE_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let address = line.trim().strip_prefix("salvage node listening on http://").unwrap().to_owned();
    NodeProcess { child, address }
}

fn submit(address: &str, entries: &[SignedEntry]) {
    let body = serde_json::to_vec(&serde_json::Value::Array(entries.iter().map(SignedEntry::to_value).collect())).unwrap();
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST /v1/entries HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(&body).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
}

/// Runs headless Chromium at a phone's viewport.
fn chromium(profile: &Path, action: &str, url: &str) -> std::process::Output {
    assert!(Path::new(CHROMIUM).exists(), "this test needs Debian's chromium: apt-get install -y chromium (.ci/run does)");
    Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={},{}", PHONE.0, PHONE.1))
        .arg(action)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_buyer_on_a_phone_sees_what_the_item_is_who_held_it_and_that_it_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::new();
    let node = start_node(dir.path(), &fixture);
    let giai = "4750001BEAM-0042";
    submit(
        &node.address,
        &[
            fixture.register("baltic-demolition", giai, "HEA 160 steel beam", 182.5),
            fixture.transfer("baltic-demolition", giai, "reuse-hub"),
            fixture.receive("reuse-hub", giai),
        ],
    );

    for (lang, expected) in [("en", ["HEA 160 steel beam", "Jelgava Reuse Hub", "Baltic Demolition SIA"]), ("lv", ["HEA 160 steel beam", "Jelgava Reuse Hub", "Baltic Demolition SIA"])] {
        let url = format!("http://{}/8004/{giai}?lang={lang}", node.address);
        let profile = dir.path().join(format!("chromium-{lang}"));
        let dom = chromium(&profile, "--dump-dom", &url);
        assert!(dom.status.success(), "chromium failed: {}", String::from_utf8_lossy(&dom.stderr));
        let dom = String::from_utf8(dom.stdout).unwrap();
        assert!(dom.contains(&format!("<html lang=\"{lang}\"")), "the page names its language:\n{dom}");
        for text in expected {
            assert!(dom.contains(text), "{lang}: the page shows {text:?}");
        }
        assert!(dom.contains(giai));
        assert!(dom.contains("<ol"), "the custody timeline is an ordered list");
        assert!(!dom.contains("<script"), "the page works without JavaScript because it has none");

        let screenshot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("provenance-phone-{lang}.png"));
        let _ = std::fs::remove_file(&screenshot);
        let shot = chromium(&profile, &format!("--screenshot={}", screenshot.display()), &url);
        assert!(shot.status.success(), "chromium failed: {}", String::from_utf8_lossy(&shot.stderr));
        let image = image::open(&screenshot).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), PHONE, "the screenshot is the phone's viewport");
        // Something was drawn: a page of one colour would mean a blank or failed render.
        let first = *image.get_pixel(0, 0);
        assert!(image.pixels().filter(|pixel| **pixel != first).count() > 5_000, "the page rendered content");
    }
}
