use std::path::PathBuf;

use rcgen::{CertificateParams, DnType, KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ED25519, SerialNumber};
use tempfile::TempDir;

use super::*;

/// A self-signed certificate for `localhost` and 127.0.0.1, and its key, in PEM.
fn certificate(common_name: &str, algorithm: &'static rcgen::SignatureAlgorithm) -> (String, String) {
    let key = KeyPair::generate_for(algorithm).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, common_name);
    params.serial_number = Some(SerialNumber::from(7u64));
    params.not_after = rcgen::date_time_ymd(2031, 1, 2);
    let certificate = params.self_signed(&key).unwrap();
    (certificate.pem(), key.serialize_pem())
}

/// A directory with `cert.pem` and `key.pem`.
fn files(certificate: &str, key: &str) -> (TempDir, TlsFiles) {
    let dir = tempfile::tempdir().unwrap();
    let files = TlsFiles { certificate: dir.path().join("cert.pem"), key: dir.path().join("key.pem") };
    std::fs::write(&files.certificate, certificate).unwrap();
    std::fs::write(&files.key, key).unwrap();
    (dir, files)
}

fn refusal(files: &TlsFiles) -> (TlsError, String) {
    let error = files.load().unwrap_err();
    let message = error.to_string();
    (error, message)
}

fn shown(path: &std::path::Path) -> String {
    path.display().to_string()
}

#[test]
fn a_p256_certificate_with_its_key_loads() {
    let (certificate, key) = certificate("salvage test", &PKCS_ECDSA_P256_SHA256);
    let (_dir, files) = files(&certificate, &key);
    let loaded = files.load().unwrap();
    assert_eq!(loaded.certified_key().cert.len(), 1);
    assert_eq!(loaded.certified_key().key.algorithm(), SignatureAlgorithm::ECDSA);
    assert!(!loaded.browsers_refuse());
    assert_eq!(loaded.valid_until().as_deref(), Some("2031-01-02 00:00:00 UTC"));
}

#[test]
fn an_ed25519_certificate_loads_but_is_flagged_as_one_browsers_refuse() {
    let (certificate, key) = certificate("salvage test", &PKCS_ED25519);
    let (_dir, files) = files(&certificate, &key);
    assert!(files.load().unwrap().browsers_refuse());
}

#[test]
fn a_tls_key_of_another_certificate_is_refused_naming_both_files() {
    let (certificate, _) = certificate("salvage test", &PKCS_ECDSA_P256_SHA256);
    let (_, other_key) = certificate_pair_of_another();
    let (_dir, files) = files(&certificate, &other_key);
    let (error, message) = refusal(&files);
    assert!(matches!(error, TlsError::KeyMismatch { .. }), "{message}");
    assert!(message.contains(&shown(&files.key)) && message.contains(&shown(&files.certificate)), "{message}");
}

fn certificate_pair_of_another() -> (String, String) {
    certificate("someone else", &PKCS_ECDSA_P256_SHA256)
}

#[test]
fn garbage_tls_files_are_refused_naming_the_file_and_what_is_wrong() {
    let (certificate, key) = certificate("salvage test", &PKCS_ECDSA_P256_SHA256);

    let (_dir, garbage_certificate) = files("this is not a certificate\n\u{1}\u{2}\u{3}", &key);
    let (error, message) = refusal(&garbage_certificate);
    assert!(matches!(error, TlsError::NoCertificate { .. }), "{message}");
    assert!(message.contains(&shown(&garbage_certificate.certificate)), "{message}");
    assert!(message.contains("holds no certificate"), "{message}");

    let (_dir, garbage_key) = files(&certificate, "garbage");
    let (error, message) = refusal(&garbage_key);
    assert!(matches!(error, TlsError::NoKey { .. }), "{message}");
    assert!(message.contains(&shown(&garbage_key.key)) && message.contains("holds no private key"), "{message}");

    // PEM framing around bytes that are no certificate.
    let broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let (_dir, broken_certificate) = files(broken, &key);
    let (error, message) = refusal(&broken_certificate);
    assert!(matches!(error, TlsError::BadCertificate { .. }), "{message}");
    assert!(message.contains(&shown(&broken_certificate.certificate)), "{message}");

    let broken = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    let (_dir, broken_key) = files(&certificate, broken);
    let (error, message) = refusal(&broken_key);
    assert!(matches!(error, TlsError::BadKey { .. }), "{message}");
    assert!(message.contains(&shown(&broken_key.key)), "{message}");

    let unterminated = "-----BEGIN CERTIFICATE-----\nAAAA\n";
    let (_dir, unterminated) = files(unterminated, &key);
    let (error, message) = refusal(&unterminated);
    assert!(matches!(error, TlsError::Pem { what: "certificate", .. }), "{message}");
    assert!(message.contains(&shown(&unterminated.certificate)) && message.contains("not valid PEM"), "{message}");
}

#[test]
fn a_missing_tls_file_is_named() {
    let (certificate, key) = certificate("salvage test", &PKCS_ECDSA_P256_SHA256);
    let (dir, mut files) = files(&certificate, &key);
    files.certificate = dir.path().join("missing-cert.pem");
    let (error, message) = refusal(&files);
    assert!(matches!(error, TlsError::Read { what: "certificate", .. }), "{message}");
    assert!(message.contains(&shown(&files.certificate)), "{message}");

    let (_dir, mut files) = self::files(&certificate, &key);
    files.key = PathBuf::from("/nonexistent/salvage/key.pem");
    let (error, message) = refusal(&files);
    assert!(matches!(error, TlsError::Read { what: "key", .. }), "{message}");
    assert!(message.starts_with("cannot read TLS key file /nonexistent/salvage/key.pem"), "{message}");
}

#[test]
fn not_after_reads_both_time_forms_and_refuses_truncated_der() {
    let (certificate, _) = certificate("salvage test", &PKCS_ECDSA_P256_SHA256);
    let der = CertificateDer::from_pem_slice(certificate.as_bytes()).unwrap();
    assert_eq!(not_after(&der).map(|n| n.to_string()).as_deref(), Some("2031-01-02 00:00:00 UTC"));
    for cut in [0, 1, 10, der.len() / 2] {
        assert_eq!(not_after(&der[..cut]), None);
    }
    // From 2050 on, certificates write GeneralizedTime.
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_after = rcgen::date_time_ymd(2060, 12, 31);
    let late = params.self_signed(&key).unwrap();
    assert_eq!(not_after(late.der()).map(|n| n.to_string()).as_deref(), Some("2060-12-31 00:00:00 UTC"));
}
