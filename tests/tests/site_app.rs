//! The site app (`/app/`) as members use it: real phones (Debian's headless Chromium through
//! WebDriver, `salvage_tests::browser`) at 360 px, with a fake camera filming a QR code, against
//! a real `salvage node`, with the CLI approving phones. Every screen is photographed in English
//! and Latvian into `target/tmp/app-screens/`, checked with axe-core (WCAG 2.2 AA) and at 200 %
//! zoom.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them) and the `salvage`
//! binary (`cargo test --workspace` builds it).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::Locator;
use salvage_tests::browser::{Phone, PhoneOptions, qr_y4m};
use salvage_tests::free_port;
use salvage_tests::node::{PUBLIC_URL, Running, Site};
use serde_json::{Value, json};

/// How long the app may take to show what a step waits for.
const PATIENCE: Duration = Duration::from_secs(30);

/// A phone with the app open on a node.
struct App {
    phone: Phone,
}

impl App {
    async fn open(node: &Running, options: PhoneOptions) -> App {
        let phone = Phone::start(options).await;
        phone.goto(&format!("http://{}/app/", node.address)).await;
        App { phone }
    }

    /// Runs `script` until it returns something other than null/false/"" or PATIENCE passes.
    async fn wait(&self, script: &str, what: &str) -> Value {
        let started = Instant::now();
        loop {
            let value = self.phone.client().execute(script, vec![]).await.unwrap_or(Value::Null);
            if !matches!(&value, Value::Null | Value::Bool(false)) && value != "" {
                return value;
            }
            if started.elapsed() > PATIENCE {
                let text = self.main_text().await;
                let console = self.phone.console().await;
                panic!("waited {PATIENCE:?} for {what}; the screen says:\n{text}\nthe console:\n{console:#?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn main_text(&self) -> String {
        let text = self.phone.client().execute("return document.body.innerText", vec![]).await;
        text.ok().and_then(|text| text.as_str().map(str::to_owned)).unwrap_or_default()
    }

    /// Waits until the screen's text contains `needle`.
    async fn wait_text(&self, needle: &str) {
        let script = format!("return document.body.innerText.includes({})", json!(needle));
        self.wait(&script, &format!("the text {needle:?}")).await;
    }

    /// Clicks the (enabled) button or link whose text is `text`, as a finger would.
    async fn press(&self, text: &str) {
        self.press_in("body", text).await;
    }

    /// [`App::press`] within the element `scope` (a CSS selector).
    async fn press_in(&self, scope: &str, text: &str) {
        let script = format!(
            "const found = [...document.querySelectorAll({} + ' :is(button, a)')].find(e => e.textContent.trim() === {} \
             && !e.disabled && e.offsetParent !== null); if (!found) return null; \
             found.dataset.press = String(Date.now()) + Math.random(); return found.dataset.press;",
            json!(scope),
            json!(text)
        );
        let mark = self.wait(&script, &format!("a button {text:?}")).await;
        let element = self.find(&format!("[data-press=\"{}\"]", mark.as_str().unwrap())).await;
        element.click().await.unwrap_or_else(|error| panic!("clicking {text:?}: {error}"));
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.phone.client().find(Locator::Css(css)).await.unwrap_or_else(|error| panic!("finding {css}: {error}"))
    }

    /// The id of the visible control labelled `label`.
    async fn control(&self, label: &str) -> String {
        let script = format!(
            "const found = [...document.querySelectorAll('label')].find(l => \
             l.textContent.replace(/\\s*\\*$/, '').trim() === {} && l.offsetParent !== null); \
             return found ? found.htmlFor : null;",
            json!(label)
        );
        self.wait(&script, &format!("a field labelled {label:?}")).await.as_str().unwrap().to_owned()
    }

    /// Types `value` into the field labelled `label`.
    async fn fill(&self, label: &str, value: &str) {
        let id = self.control(label).await;
        let element = self.find(&format!("#{id}")).await;
        element.clear().await.unwrap();
        element.send_keys(value).await.unwrap_or_else(|error| panic!("typing into {label:?}: {error}"));
    }

    /// Picks `value` in the select labelled `label`.
    async fn choose(&self, label: &str, value: &str) {
        let id = self.control(label).await;
        let element = self.find(&format!("#{id}")).await;
        element.select_by_value(value).await.unwrap_or_else(|error| panic!("choosing {value} for {label:?}: {error}"));
    }

    /// Opens the screen at `hash` (the same one again if it is already shown) and waits for it.
    async fn go(&self, hash: &str) {
        let script = format!(
            "const title = document.getElementById('screen-title'); if (title) title.dataset.stale = '1'; \
             if (location.hash === {0}) dispatchEvent(new HashChangeEvent('hashchange')); else location.hash = {0}; \
             return true",
            json!(hash)
        );
        self.phone.execute(&script, vec![]).await;
        let fresh =
            "const title = document.getElementById('screen-title'); return title !== null && !title.dataset.stale";
        self.wait(fresh, &format!("the screen {hash}")).await;
    }

    /// This phone's key, as its screen shows it.
    async fn public_key(&self) -> String {
        let key = self.wait("return document.getElementById('public-key')?.textContent", "the phone's key").await;
        key.as_str().unwrap().to_owned()
    }

    /// Makes the phone's key, has `member` add it with the CLI, and continues into the app.
    async fn enrol(&self, site: &Site, node: &Running, member: &str) -> String {
        self.press("Create this phone's key").await;
        let key = self.public_key().await;
        let output =
            site.salvage_as(node, member).args(["member", "update", member, "--add-key", &key]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        self.press("I have been added: continue").await;
        self.wait("return location.hash === '#/scan'", "the scan screen").await;
        key
    }

    /// Waits for the outcome of what was just signed and returns it (`accepted`, `refused`).
    async fn outcome(&self) -> (String, String) {
        let found = self
            .wait(
                "const o = [...document.querySelectorAll('.outcome')].find(o => !o.classList.contains('queued')); \
                 return o ? [o.classList.contains('accepted') ? 'accepted' : 'refused', o.textContent] : null;",
                "an outcome",
            )
            .await;
        (found[0].as_str().unwrap().to_owned(), found[1].as_str().unwrap().to_owned())
    }

    async fn close(self) {
        self.phone.close().await;
    }
}

/// `salvage node` for `site` on `port` (fixed, so a phone's origin survives a restart).
fn node_on(site: &Site, port: u16) -> Running {
    let mut command = Command::new(salvage_tests::salvage_binary());
    command
        .arg("node")
        .arg("--genesis")
        .arg(site.path("genesis.json"))
        .arg("--data")
        .arg(site.path("data"))
        .arg("--key")
        .arg(site.path("city-of-jelgava.pem"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--public-url", PUBLIC_URL])
        .env_remove("SALVAGE_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Running::start(command)
}

/// A JPEG as a phone's camera writes it: with an Exif segment pointing at GPS data.
fn photo_with_location(path: &Path) {
    let image = image::RgbImage::from_fn(320, 240, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 85).encode_image(&image).unwrap();
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&[0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let length = u16::try_from(app1.len() + 2).unwrap().to_be_bytes();
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE1, length[0], length[1]];
    bytes.extend_from_slice(&app1);
    bytes.extend_from_slice(&plain[2..]);
    std::fs::write(path, bytes).unwrap();
}

/// Decodes the QR code in a screenshot with a real decoder.
fn qr_in(screenshot: &Path) -> Vec<String> {
    let image = image::open(screenshot).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    prepared.detect_grids().into_iter().filter_map(|grid| grid.decode().ok().map(|(_, text)| text)).collect()
}

#[path = "site_app/benchmark.rs"]
mod benchmark;
#[path = "site_app/custody.rs"]
mod custody;
#[path = "site_app/enrol_and_register.rs"]
mod enrol_and_register;
#[path = "site_app/lifecycle.rs"]
mod lifecycle;
#[path = "site_app/offline.rs"]
mod offline;
#[path = "site_app/secure_context.rs"]
mod secure_context;
#[path = "site_app/signing.rs"]
mod signing;
