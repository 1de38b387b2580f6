//! `salvage node` serving HTTPS itself (`--tls-certificate`, `--tls-key`): the
//! real binary with a self-signed ECDSA P-256 certificate, a rustls client
//! that trusts only that certificate, and `SIGHUP` reloads of renewed and of
//! broken files.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{CertificateParams, DnType, KeyPair, PKCS_ECDSA_P256_SHA256, SerialNumber};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use salvage_tests::node::Site;

const ANNOUNCEMENT: &str = "salvage node listening on https://";

/// A self-signed P-256 certificate for `localhost` and 127.0.0.1.
struct Certificate {
    der: CertificateDer<'static>,
    pem: String,
    key_pem: String,
}

impl Certificate {
    fn new(common_name: &str, serial: u64) -> Certificate {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.serial_number = Some(SerialNumber::from(serial));
        let certificate = params.self_signed(&key).unwrap();
        Certificate { der: certificate.der().clone(), pem: certificate.pem(), key_pem: key.serialize_pem() }
    }

    /// Writes the certificate and key where the node reads them.
    fn install(&self, site: &Site) {
        std::fs::write(site.path("tls-cert.pem"), &self.pem).unwrap();
        std::fs::write(site.path("tls-key.pem"), &self.key_pem).unwrap();
    }
}

/// A `salvage node` serving HTTPS, with what it logged so far. Dropping it kills the process.
struct HttpsNode {
    child: Child,
    address: String,
    log: Arc<Mutex<String>>,
}

impl HttpsNode {
    fn start(site: &Site, extra: &[&str]) -> HttpsNode {
        let mut command = tls_node(site);
        command.args(extra);
        let mut child = command.spawn().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let collected = Arc::clone(&log);
        // Drained all along, so that the node never blocks on a full pipe and the test can
        // wait for a line.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = collected.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while stdout.read_line(&mut line).is_ok_and(|read| read > 0) && !line.starts_with(ANNOUNCEMENT) {
            line.clear();
        }
        let Some(address) = line.trim().strip_prefix(ANNOUNCEMENT).map(str::to_owned) else {
            let _ = child.kill();
            let _ = child.wait();
            std::thread::sleep(Duration::from_millis(100));
            panic!(
                "the node did not announce an https address; it printed {line:?} and logged:\n{}",
                log.lock().unwrap()
            );
        };
        HttpsNode { child, address, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill").arg(format!("-{signal}")).arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success(), "kill -{signal}: {status}");
    }

    /// Waits (at most 10 s) until `done` holds, then says whether it did.
    fn wait_for(&self, mut done: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if done() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        done()
    }

    /// SIGTERM, and the node must stop cleanly.
    fn terminate(mut self) -> String {
        self.signal("TERM");
        let exit = self.child.wait().unwrap();
        // The stderr thread ends with the process; give it a moment to collect the last lines.
        std::thread::sleep(Duration::from_millis(100));
        let log = self.log();
        assert!(exit.success(), "{exit}\n{log}");
        log
    }
}

impl Drop for HttpsNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `salvage node` at `site` with the site's TLS files.
fn tls_node(site: &Site) -> Command {
    let mut command = site.node("city-of-jelgava");
    command.arg("--tls-certificate").arg(site.path("tls-cert.pem")).arg("--tls-key").arg(site.path("tls-key.pem"));
    command
}

/// An HTTPS answer and the certificate the server presented.
struct Answer {
    status: u16,
    body: String,
    peer: CertificateDer<'static>,
}

/// One `GET` over a new TLS connection (no session to resume) from a client that trusts only
/// `roots`, verifying the server as `localhost`, offering ALPN `h2` and `http/1.1` as browsers do.
fn https_get(address: &str, roots: &[&Certificate], path: &str) -> Result<Answer, String> {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.der.clone()).map_err(|error| error.to_string())?;
    }
    let mut config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(store)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let connection = ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
        .map_err(|error| error.to_string())?;
    let tcp = TcpStream::connect(address).map_err(|error| error.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = StreamOwned::new(connection, tcp);
    write!(tls, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(|error| format!("handshake or request: {error}"))?;
    let mut response = Vec::new();
    match tls.read_to_end(&mut response) {
        Ok(_) => {}
        // A peer that closes without close_notify still sent the whole answer first.
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {}
        Err(error) => return Err(format!("reading the answer: {error}")),
    }
    assert_eq!(tls.conn.alpn_protocol(), Some(&b"http/1.1"[..]), "the node speaks HTTP/1.1 only");
    let peer = tls.conn.peer_certificates().and_then(|chain| chain.first()).cloned().ok_or("no peer certificate")?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| format!("not an HTTP answer: {text:?}"))?;
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).ok_or_else(|| format!("{head:?}"))?;
    Ok(Answer { status, body: body.to_owned(), peer: peer.into_owned() })
}

#[test]
fn a_node_serves_https_reloads_its_certificate_on_sighup_and_keeps_it_when_the_new_files_are_bad() {
    let site = Site::new(&["city-of-jelgava"]);
    let first = Certificate::new("salvage test one", 1);
    let second = Certificate::new("salvage test two", 2);
    first.install(&site);
    let node = HttpsNode::start(&site, &[]);
    let both = [&first, &second];

    let answer = https_get(&node.address, &both, "/v1/status").unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("\"node\":\"city-of-jelgava\""), "{}", answer.body);
    assert_eq!(answer.peer, first.der);
    // A client that trusts only another certificate is refused.
    assert!(https_get(&node.address, &[&second], "/healthz").is_err());

    // Renewed files and SIGHUP: new connections get the new certificate.
    second.install(&site);
    node.signal("HUP");
    let served_second =
        node.wait_for(|| https_get(&node.address, &both, "/healthz").is_ok_and(|a| a.peer == second.der));
    assert!(served_second, "the second certificate was never served:\n{}", node.log());
    assert!(node.wait_for(|| node.log().contains("reloaded the TLS certificate")), "{}", node.log());

    // A broken key and SIGHUP: the error names the file, the node goes on with what it had.
    std::fs::write(site.path("tls-key.pem"), "not a key at all\n").unwrap();
    node.signal("HUP");
    let logged = node.wait_for(|| node.log().contains("cannot reload the TLS certificate"));
    let log = node.log();
    assert!(logged, "{log}");
    assert!(log.contains(site.path("tls-key.pem").to_str().unwrap()), "{log}");
    let answer = https_get(&node.address, &both, "/v1/status").unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.peer, second.der, "a failed reload keeps the certificate served before");

    let log = node.terminate();
    assert!(log.contains("stopped: requests in flight finished"), "{log}");
}

#[test]
fn plain_http_and_stalled_handshakes_on_the_https_port_are_closed_without_harm() {
    let site = Site::new(&["city-of-jelgava"]);
    let certificate = Certificate::new("salvage test", 1);
    certificate.install(&site);
    let node = HttpsNode::start(&site, &["--client-timeout", "1"]);

    // A client that connects and says nothing holds no more than its own connection.
    let mut stalled = TcpStream::connect(&node.address).unwrap();
    stalled.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let answer = https_get(&node.address, &[&certificate], "/healthz").unwrap();
    assert_eq!(answer.status, 200, "the accept loop does not wait for a handshake");

    // Plain HTTP on the HTTPS port gets no HTTP answer, and the connection is closed.
    let mut plain = TcpStream::connect(&node.address).unwrap();
    plain.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    plain.write_all(b"GET /v1/status HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut received = Vec::new();
    let _ = plain.read_to_end(&mut received);
    assert!(!received.starts_with(b"HTTP/"), "{:?}", String::from_utf8_lossy(&received));

    // The silent one is closed once the client timeout has passed.
    let waited = Instant::now();
    let mut byte = [0u8; 1];
    let read = stalled.read(&mut byte);
    assert!(matches!(read, Ok(0)) || read.is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset));
    assert!(waited.elapsed() < Duration::from_secs(10), "closed after {:?}", waited.elapsed());

    let answer = https_get(&node.address, &[&certificate], "/v1/status").unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    node.terminate();
}

#[test]
fn a_node_refuses_to_start_with_one_tls_setting_or_a_key_of_another_certificate() {
    let site = Site::new(&["city-of-jelgava"]);
    Certificate::new("salvage test", 1).install(&site);

    let output = site.node("city-of-jelgava").arg("--tls-certificate").arg(site.path("tls-cert.pem")).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--tls-key") && stderr.contains("SALVAGE_TLS_KEY"), "{stderr}");

    // The key from the environment, as SALVAGE_TLS_KEY: another certificate's.
    let other = Certificate::new("someone else", 2);
    std::fs::write(site.path("other-key.pem"), &other.key_pem).unwrap();
    let output = site
        .node("city-of-jelgava")
        .arg("--tls-certificate")
        .arg(site.path("tls-cert.pem"))
        .env("SALVAGE_TLS_KEY", site.path("other-key.pem"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(path_text(&site.path("other-key.pem"))), "{stderr}");
    assert!(stderr.contains("is not the key of the certificate"), "{stderr}");
    assert!(!site.path("data").exists(), "nothing was created for a refused start");
}

fn path_text(path: &Path) -> &str {
    path.to_str().unwrap()
}
