//! The app needs a secure context. Over plain HTTP from an address that is not this machine
//! it explains what is missing instead of failing silently; over HTTPS served by the node
//! itself (a self-signed P-256 certificate here) it starts and makes its key.

use std::io::{BufRead, BufReader};

use rcgen::{CertificateParams, KeyPair, PKCS_ECDSA_P256_SHA256};

use super::*;

const NAME: &str = "yard.example";

#[tokio::test]
async fn the_app_explains_plain_http_and_starts_over_the_node_s_own_https() {
    let site = Site::new(&["city-of-jelgava"]);
    let hosts = vec![(NAME.to_owned(), "127.0.0.1".to_owned())];

    // Plain HTTP under a name: not a secure context.
    let node = Running::start(site.node("city-of-jelgava"));
    let port = node.address.rsplit(':').next().unwrap().to_owned();
    let phone = Phone::start(PhoneOptions { hosts: hosts.clone(), ..PhoneOptions::default() }).await;
    phone.goto(&format!("http://{NAME}:{port}/app/")).await;
    let app = App { phone };
    app.wait("return document.getElementById('insecure').hidden === false", "the explanation").await;
    assert_eq!(app.phone.execute("return window.isSecureContext", vec![]).await, false);
    let text = app.main_text().await;
    assert!(text.contains("needs a secure connection") && text.contains("tls_certificate"), "{text}");
    assert_eq!(app.phone.execute("return document.getElementById('tabs').children.length", vec![]).await, 0);
    app.phone.screenshot("app-insecure-en").await;
    assert!(app.phone.accessibility_violations().await.is_empty());
    app.close().await;
    drop(node);

    // The node's own HTTPS: the same name, a certificate for it.
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let certificate = CertificateParams::new(vec![NAME.to_owned()]).unwrap().self_signed(&key).unwrap();
    std::fs::write(site.path("tls-cert.pem"), certificate.pem()).unwrap();
    std::fs::write(site.path("tls-key.pem"), key.serialize_pem()).unwrap();
    let mut command = site.node("city-of-jelgava");
    command.arg("--tls-certificate").arg(site.path("tls-cert.pem")).arg("--tls-key").arg(site.path("tls-key.pem"));
    let mut child = command.stderr(Stdio::null()).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while stdout.read_line(&mut line).is_ok_and(|read| read > 0) && !line.contains("listening on https://") {
        line.clear();
    }
    let address = line.trim().rsplit("https://").next().unwrap().to_owned();
    let port = address.rsplit(':').next().unwrap();
    let phone = Phone::start(PhoneOptions { hosts, accept_insecure_certs: true, ..PhoneOptions::default() }).await;
    phone.goto(&format!("https://{NAME}:{port}/app/")).await;
    let app = App { phone };
    assert_eq!(app.phone.execute("return window.isSecureContext", vec![]).await, true);
    app.press("Create this phone's key").await;
    assert_eq!(app.public_key().await.len(), 64);
    app.wait(
        "return navigator.serviceWorker.controller !== null || navigator.serviceWorker.ready.then(() => true)",
        "the service worker",
    )
    .await;
    app.close().await;
    let _ = child.kill();
    let _ = child.wait();
}
