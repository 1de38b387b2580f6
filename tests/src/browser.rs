//! A phone in a test: Debian's Chromium, headless, driven through WebDriver, for the tests of
//! the pages and the web app a node serves.
//!
//! [`Phone::start`] runs `/usr/bin/chromedriver` on a free port (in a process group of its
//! own) and opens a session with [`fantoccini`] in which Chromium emulates a phone: a 360 CSS px
//! wide touch screen at 3 device pixels per CSS pixel, a fresh profile (or one kept across
//! restarts), the browser console recorded, and, when asked, a fake camera that shows a
//! picture from a file ([`qr_y4m`] writes one of a QR code). A page served by a node on
//! `http://127.0.0.1:PORT` is a secure context, so the camera, WebCrypto and service workers
//! work there without TLS.
//!
//! Beyond what WebDriver gives ([`Phone::client`]), a phone can go offline as a phone in a
//! tunnel does ([`Phone::offline`]; requests from the page then fail, those a service worker
//! makes itself still go out), show what the page wrote to its console ([`Phone::console`]),
//! check the page against WCAG 2.2 AA with the vendored axe-core
//! ([`Phone::accessibility_violations`], `tests/data/axe-core/`), zoom the page as a reader who
//! needs larger text does ([`Phone::zoom`]), take screenshots for people to look at
//! ([`Phone::screenshot`], in `target/tmp/app-screens/`) and send any DevTools command
//! ([`Phone::cdp`]).
//!
//! Every method panics on failure, with what went wrong: in a test, that is the failure. End
//! a phone with [`Phone::close`]; a phone dropped without it (a test that failed midway) kills
//! chromedriver's process group, the browser included, so that no process outlives the test.
//!
//! Needs `chromium` and `chromium-driver` (`.ci/run` installs them), of the same version.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use hyper::Method;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// The browser the phone runs.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The WebDriver server that runs it, of the same version.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The vendored accessibility checker.
const AXE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/axe-core/axe.min.js");
/// The rules [`Phone::accessibility_violations`] checks: WCAG 2.0, 2.1 and 2.2, levels A and AA.
const WCAG_TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
/// What chromedriver prints on stdout once it listens, before its port.
const LISTENING: &str = "ChromeDriver was started successfully on port ";
/// How long chromedriver may take to start listening and be ready.
const STARTUP: Duration = Duration::from_secs(30);

/// How the phone is set up.
#[derive(Debug, Clone)]
pub struct PhoneOptions {
    /// A `.y4m` file the camera shows (looped; [`qr_y4m`] writes one), or no camera.
    pub camera: Option<PathBuf>,
    /// The viewport's width in CSS pixels.
    pub width: u32,
    /// The viewport's height in CSS pixels.
    pub height: u32,
    /// Whether the browser accepts TLS certificates it cannot verify (a test's self-signed one).
    pub accept_insecure_certs: bool,
    /// A profile directory to keep (storage, service workers, IndexedDB) across phones started
    /// one after the other, or a fresh profile that goes with the phone.
    pub profile: Option<PathBuf>,
    /// Host names the phone resolves to an address of the test's choosing (`("yard.example",
    /// "127.0.0.1")`), so a page can be opened under a name that is not `localhost`.
    pub hosts: Vec<(String, String)>,
}

impl Default for PhoneOptions {
    /// The narrowest phones in use, 360 × 740 CSS pixels, without a camera.
    fn default() -> PhoneOptions {
        PhoneOptions {
            camera: None,
            width: 360,
            height: 740,
            accept_insecure_certs: false,
            profile: None,
            hosts: Vec::new(),
        }
    }
}

/// A line the page wrote to the browser console (or that the browser logged for it, such as
/// a failed request), as chromedriver reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleEntry {
    /// `SEVERE` (`console.error`, failed loads), `WARNING`, `INFO` or `DEBUG`.
    pub level: String,
    /// Where it came from and what it said, e.g. `http://… 12:7 "text"`.
    pub message: String,
    /// `console-api`, `network`, `javascript`, `security`…
    pub source: String,
}

/// An accessibility rule a page breaks, as axe-core reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The rule, e.g. `color-contrast` (https://dequeuniversity.com/rules/axe/4.14/<id>).
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: String,
    /// What the rule asks for, in a sentence.
    pub help: String,
    /// CSS selectors of the elements that break it.
    pub targets: Vec<String>,
}

/// Headless Chromium emulating a phone, driven through chromedriver.
pub struct Phone {
    client: Client,
    driver: Driver,
    /// The viewport of [`PhoneOptions`], which [`Phone::zoom`] scales.
    viewport: (u32, u32),
    /// Holds chromedriver's log and, unless the options name one, the profile.
    dir: tempfile::TempDir,
}

impl Phone {
    /// Starts chromedriver and a new browser session with `options`.
    ///
    /// # Panics
    ///
    /// When Chromium or chromedriver is not installed, or the session cannot start (the
    /// message then holds chromedriver's log).
    pub async fn start(options: PhoneOptions) -> Phone {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(program).exists(),
                "{program} is missing: the browser tests need Debian's Chromium and its WebDriver, \
                 apt-get install chromium chromium-driver (.ci/run does)"
            );
        }
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("cannot create a temporary directory: {error}"));
        let log = dir.path().join("chromedriver.log");
        let profile = options.profile.clone().unwrap_or_else(|| dir.path().join("profile"));
        let driver = tokio::task::spawn_blocking({
            let log = log.clone();
            move || Driver::start(&log)
        })
        .await
        .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));

        let capabilities = match capabilities(&options, &profile) {
            Value::Object(map) => map,
            _ => unreachable!("the capabilities are an object"),
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .unwrap_or_else(|error| {
                panic!("chromedriver could not start Chromium: {error}\nits log:\n{}", read_log(&log))
            });
        Phone { client, driver, viewport: (options.width, options.height), dir }
    }

    /// The WebDriver session, for everything else (finding elements, clicking, typing, scripts).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|error| panic!("opening {url}: {error}"));
    }

    /// Runs `script` in the page (a function body: `arguments` are `args`, `return` gives the
    /// value, a returned promise is awaited) and returns its value.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|error| {
            let start: String = script.chars().take(200).collect();
            panic!("running the script {start:?}…: {error}")
        })
    }

    /// Cuts the network off (`true`) or gives it back (`false`). Offline, `navigator.onLine` is
    /// false and the page's own requests fail; a service worker's requests still go out.
    pub async fn offline(&self, offline: bool) {
        let command = if offline {
            let conditions = json!({"offline": true, "latency": 0, "download_throughput": -1, "upload_throughput": -1});
            Chromium::post("chromium/network_conditions", json!({"network_conditions": conditions}))
        } else {
            Chromium { method: Method::DELETE, path: "chromium/network_conditions", body: None }
        };
        self.issue(command).await;
    }

    /// What the browser console received since the last call (each call empties it).
    pub async fn console(&self) -> Vec<ConsoleEntry> {
        let entries = self.issue(Chromium::post("se/log", json!({"type": "browser"}))).await;
        let text = |entry: &Value, name: &str| entry[name].as_str().unwrap_or_default().to_owned();
        array(&entries, "the console log")
            .iter()
            .map(|entry| ConsoleEntry {
                level: text(entry, "level"),
                message: text(entry, "message"),
                source: text(entry, "source"),
            })
            .collect()
    }

    /// The WCAG 2.0/2.1/2.2 level A and AA rules the page as it is now breaks, by axe-core.
    pub async fn accessibility_violations(&self) -> Vec<Violation> {
        if self.execute("return typeof axe", vec![]).await != "object" {
            let axe = std::fs::read_to_string(AXE).unwrap_or_else(|error| panic!("reading {AXE}: {error}"));
            self.execute(&format!("{axe}\nreturn axe.version;"), vec![]).await;
        }
        let script = "return axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, \
                      resultTypes: ['violations']}).then(result => result.violations.map(rule => ({\
                      id: rule.id, impact: rule.impact, help: rule.help, \
                      targets: rule.nodes.map(node => node.target.flat(Infinity).join(' '))})))";
        let violations = self.execute(script, vec![json!(WCAG_TAGS)]).await;
        let text = |rule: &Value, name: &str| rule[name].as_str().unwrap_or_default().to_owned();
        array(&violations, "axe's violations")
            .iter()
            .map(|rule| Violation {
                id: text(rule, "id"),
                impact: text(rule, "impact"),
                help: text(rule, "help"),
                targets: array(&rule["targets"], "targets")
                    .iter()
                    .map(|target| target.as_str().unwrap_or_default().to_owned())
                    .collect(),
            })
            .collect()
    }

    /// Saves what the viewport shows as `target/tmp/app-screens/<name>.png` and returns the path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap_or_else(|error| panic!("screenshot {name}: {error}"));
        let dir = target_dir().join("tmp").join("app-screens");
        std::fs::create_dir_all(&dir).unwrap_or_else(|error| panic!("creating {}: {error}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
        path
    }

    /// Zooms the page to `percent` % as the browser's zoom does: the layout viewport
    /// (`document.documentElement.clientWidth`) is `100/percent` as many CSS pixels wide and
    /// high (180 × 370 for a 360 × 740 phone at 200 %), each drawn with `percent/100` times as
    /// many device pixels. 100 gives the phone's own metrics back. A page wider than that makes
    /// the phone zoom out to show it whole, as phones do (`innerWidth` then grows):
    /// [`Phone::overflowing`] names what sticks out.
    pub async fn zoom(&self, percent: u32) {
        assert!(percent > 0, "a zoom of 0 %");
        let (width, height) = self.viewport;
        let params = json!({
            "width": width * 100 / percent,
            "height": height * 100 / percent,
            "deviceScaleFactor": 3.0 * f64::from(percent) / 100.0,
            "mobile": true,
        });
        self.cdp("Emulation.setDeviceMetricsOverride", params).await;
    }

    /// The elements that stick out of the layout viewport on the right, so that a reader would
    /// have to scroll sideways to see them (as `tag.class left–right`, in CSS px): none on a
    /// page that reflows to the viewport's width, zoomed or not. Elements inside a box that
    /// scrolls or clips them sideways (a wide table's wrapper) do not count.
    pub async fn overflowing(&self) -> Vec<String> {
        let script = "const width = document.documentElement.clientWidth; \
                      const clipped = element => { \
                          for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) \
                              if (getComputedStyle(box).overflowX !== 'visible') return true; \
                          return false; }; \
                      return [...document.body.querySelectorAll('*')].flatMap(element => { \
                          const box = element.getBoundingClientRect(); \
                          return box.width > 0 && box.right > width + 0.5 && !clipped(element) \
                              ? [`${element.localName}.${element.classList.value} ${box.left}–${box.right}`] : []; })";
        let found = self.execute(script, vec![]).await;
        array(&found, "the overflowing elements")
            .iter()
            .map(|found| found.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Sends the Chrome DevTools Protocol command `cmd` with `params` to the page and returns
    /// its result.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.issue(Chromium::post("goog/cdp/execute", json!({"cmd": cmd, "params": params}))).await
    }

    /// Ends the session (Chromium quits, saving the profile) and stops chromedriver.
    ///
    /// # Panics
    ///
    /// When chromedriver did not end the session; the processes are stopped all the same.
    pub async fn close(self) {
        let Phone { client, mut driver, dir, .. } = self;
        let closed = client.close().await;
        driver.end();
        if let Err(error) = closed {
            panic!(
                "ending the browser session: {error}\nchromedriver's log:\n{}",
                read_log(&dir.path().join("chromedriver.log"))
            );
        }
    }

    /// Sends one of chromedriver's own commands.
    async fn issue(&self, command: Chromium) -> Value {
        let what = format!("{command:?}");
        self.client.issue_cmd(command).await.unwrap_or_else(|error| panic!("{what}: {error}"))
    }
}

/// The session's capabilities: the browser, its flags, the phone it emulates.
fn capabilities(options: &PhoneOptions, profile: &Path) -> Value {
    let mut args: Vec<String> = [
        "--headless=new",
        // CI runs as root, where Chromium's sandbox cannot start.
        "--no-sandbox",
        "--disable-gpu",
        // Containers give /dev/shm 64 MiB, too little for a renderer.
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .map(String::from)
    .into();
    args.push(format!("--user-data-dir={}", profile.display()));
    if let Some(camera) = &options.camera {
        // Chromium chooses the file's parser by its suffix, and crashes on a file it cannot parse.
        assert!(camera.extension().is_some_and(|suffix| suffix == "y4m"), "the camera is a .y4m file: {camera:?}");
        let camera = camera.canonicalize().unwrap_or_else(|error| panic!("the camera {}: {error}", camera.display()));
        args.push("--use-fake-device-for-media-stream".into());
        // Grants the camera without asking.
        args.push("--use-fake-ui-for-media-stream".into());
        args.push(format!("--use-file-for-fake-video-capture={}", camera.display()));
    }
    if !options.hosts.is_empty() {
        let rules: Vec<String> = options.hosts.iter().map(|(name, address)| format!("MAP {name} {address}")).collect();
        args.push(format!("--host-resolver-rules={}", rules.join(", ")));
    }
    json!({
        "browserName": "chrome",
        "acceptInsecureCerts": options.accept_insecure_certs,
        "goog:loggingPrefs": {"browser": "ALL"},
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": args,
            "mobileEmulation": {
                "deviceMetrics": {"width": options.width, "height": options.height, "pixelRatio": 3.0, "touch": true},
            },
        },
    })
}

/// A chromedriver process, leader of a process group holding the browser it starts.
struct Driver {
    child: Child,
    port: u16,
    ended: bool,
}

impl Driver {
    /// Starts chromedriver on a free port, logging to `log`, and waits until it is ready.
    fn start(log: &Path) -> Driver {
        let mut child = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .arg(format!("--log-path={}", log.display()))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {CHROMEDRIVER}: {error}"));
        let stdout = child.stdout.take();
        let mut driver = Driver { child, port: 0, ended: false };
        let mut stdout = BufReader::new(stdout.unwrap_or_else(|| unreachable!("stdout is piped")));
        let mut line = String::new();
        while stdout.read_line(&mut line).is_ok_and(|read| read > 0) && !line.starts_with(LISTENING) {
            line.clear();
        }
        let port = line.trim().strip_prefix(LISTENING).and_then(|port| port.trim_end_matches('.').parse().ok());
        let Some(port) = port else {
            driver.end();
            panic!("chromedriver did not say where it listens: {line:?}\nits log:\n{}", read_log(log));
        };
        driver.port = port;
        // Nothing more is expected there, but a full pipe would stop chromedriver.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));

        let started = Instant::now();
        loop {
            let status = crate::http::try_request(&format!("127.0.0.1:{port}"), "GET", "/status", &[], b"");
            if status.is_ok_and(|status| status.status == 200 && status.json()["value"]["ready"] == true) {
                return driver;
            }
            if started.elapsed() > STARTUP {
                driver.end();
                panic!("chromedriver was not ready after {STARTUP:?}\nits log:\n{}", read_log(log));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills chromedriver and every process of its group (the browser and its helpers).
    fn end(&mut self) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        let _ = rustix::process::kill_process_group(
            rustix::process::Pid::from_child(&self.child),
            rustix::process::Signal::KILL,
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.end();
    }
}

/// A command of chromedriver's own, on a path under `/session/{id}/`.
#[derive(Debug)]
struct Chromium {
    method: Method,
    path: &'static str,
    body: Option<Value>,
}

impl Chromium {
    fn post(path: &'static str, body: Value) -> Chromium {
        Chromium { method: Method::POST, path, body: Some(body) }
    }
}

impl WebDriverCompatibleCommand for Chromium {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/{}", session.unwrap_or_default(), self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (self.method.clone(), self.body.as_ref().map(Value::to_string))
    }
}

/// Writes a one-frame 640 × 480 Y4M video of a QR code of `text` to `path` (whose name must end
/// in `.y4m`), for [`PhoneOptions::camera`]: dark modules black, light ones and a quiet zone of
/// four modules white, as large as fits. Chromium shows the one frame again and again.
///
/// # Panics
///
/// When `text` is too long for a QR code or the file cannot be written.
pub fn qr_y4m(text: &str, path: &Path) {
    const WIDTH: usize = 640;
    const HEIGHT: usize = 480;
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap_or_else(|error| panic!("a QR code of {text:?}: {error}"));
    let modules = code.width() + 2 * 4;
    let scale = HEIGHT.min(WIDTH) / modules;
    assert!(scale > 0, "{text:?} makes a QR code too large for {WIDTH} × {HEIGHT}");
    let (left, top) = ((WIDTH - modules * scale) / 2, (HEIGHT - modules * scale) / 2);
    // Video levels: luma 16 is black, 235 white; chroma 128 is grey.
    let mut luma = vec![235_u8; WIDTH * HEIGHT];
    for y in 0..code.width() {
        for x in 0..code.width() {
            if code[(x, y)] == qrcode::Color::Dark {
                let (px, py) = (left + (x + 4) * scale, top + (y + 4) * scale);
                for row in py..py + scale {
                    luma[row * WIDTH + px..row * WIDTH + px + scale].fill(16);
                }
            }
        }
    }
    let mut video = format!("YUV4MPEG2 W{WIDTH} H{HEIGHT} F30:1 Ip A1:1 C420\nFRAME\n").into_bytes();
    video.extend_from_slice(&luma);
    video.resize(video.len() + 2 * (WIDTH / 2) * (HEIGHT / 2), 128);
    std::fs::write(path, video).unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
}

/// The items of a JSON array.
fn array<'v>(value: &'v Value, what: &str) -> &'v [Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_else(|| panic!("{what} is not an array: {value}"))
}

/// What chromedriver logged, for a failure's message.
fn read_log(path: &Path) -> String {
    let mut log = String::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        let _ = file.read_to_string(&mut log);
    }
    log
}

/// Cargo's target directory: the nearest directory above the running executable that holds
/// Cargo's `CACHEDIR.TAG` (`target/`, or `$CARGO_TARGET_DIR`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|error| panic!("cannot find the running executable: {error}"));
    exe.ancestors()
        .skip(1)
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| panic!("no Cargo target directory above {}", exe.display()))
}
