//! The app signs exactly what `salvage` signs: its RFC 8785 encoder gives the reference vectors'
//! bytes and the Rust encoder's bytes on random statements, and a signature the CLI made
//! verifies over the message the app builds for the same statement.

use ed25519_dalek::{Signature, VerifyingKey};
use salvage_tests::random::SplitMix;

use super::*;

/// Imports the app's own modules into the page and runs `body` with them as `canonical` and
/// `signing`.
fn with_modules(body: &str) -> String {
    format!(
        "return Promise.all([import('./js/canonical.js'), import('./js/signing.js')])\
         .then(([canonical, signing]) => {{ {body} }})"
    )
}

#[tokio::test]
async fn the_app_signs_the_bytes_the_cli_signs() {
    let site = Site::new(&["city-of-jelgava", "baltic-demolition"]);
    let node = Running::start(site.node("city-of-jelgava"));
    let app = App::open(&node, PhoneOptions::default()).await;
    app.wait_text("Create this phone's key").await;

    // The RFC 8785 reference vectors (ledger/tests/data/jcs, the Rust encoder's too).
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ledger/tests/data/jcs");
    let mut checked = 0;
    for entry in std::fs::read_dir(vectors.join("input")).unwrap() {
        let path = entry.unwrap().path();
        let input: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let expected = std::fs::read_to_string(vectors.join("output").join(path.file_name().unwrap())).unwrap();
        let got = app.phone.execute(&with_modules("return canonical.canonicalize(arguments[0]);"), vec![input]).await;
        assert_eq!(got.as_str().unwrap(), expected, "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 6);

    // Random statements: the app's encoder and the Rust one give the same text.
    let mut random = SplitMix::new(0x5a17_a9e5);
    let statements: Vec<Value> = (0..200).map(|_| random_statement(&mut random)).collect();
    let from_app = app
        .phone
        .execute(
            &with_modules("return arguments[0].map(s => canonical.canonicalize(s, {ledger: true}));"),
            vec![json!(statements)],
        )
        .await;
    for (statement, text) in statements.iter().zip(from_app.as_array().unwrap()) {
        let rust = String::from_utf8(salvage_ledger::canonical::value_to_canonical_bytes(statement)).unwrap();
        assert_eq!(text.as_str().unwrap(), rust, "{statement}");
    }
    // Out of the ledger's range, or not JSON: refused, never written.
    for bad in [
        "return canonical.canonicalize({a: 2 ** 53}, {ledger: true})",
        "return canonical.canonicalize({a: NaN})",
        "return canonical.canonicalize({a: '\\uD800'})",
        "return canonical.canonicalize({a: undefined})",
    ] {
        let outcome = app.phone.client().execute(&with_modules(bad), vec![]).await;
        assert!(outcome.is_err(), "{bad} gave {outcome:?}");
    }

    // The CLI signs a transfer; its signature verifies over the message the app makes of it.
    let answer =
        node.submit(&[site.fixture.register("baltic-demolition", "4750001BEAM-0042", "HEA 160 beam, Jūrmala", 182.5)]);
    assert_eq!(answer.status, 201);
    let output = site
        .salvage_as(&node, "baltic-demolition")
        .args(["transfer", "4750001BEAM-0042", "--to", "reuse-hub", "--note", "Ģērbtuve ☂ \"quoted\" \u{1F9F1}"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let seq = node.get_json("/v1/status")["size"].as_u64().unwrap() - 1;
    let record = node.get_json(&format!("/v1/records/{seq}"));
    let statement = record["entry"]["statement"].clone();
    let signature = &record["entry"]["signatures"][0];
    let message = app
        .phone
        .execute(&with_modules("return Array.from(signing.signedMessage(arguments[0]));"), vec![statement.clone()])
        .await;
    let message: Vec<u8> =
        message.as_array().unwrap().iter().map(|b| u8::try_from(b.as_u64().unwrap()).unwrap()).collect();
    let mut expected = salvage_ledger::SIGNING_CONTEXT_LABEL.as_bytes().to_vec();
    expected.extend(salvage_ledger::canonical::value_to_canonical_bytes(&statement));
    assert_eq!(message, expected);
    let key = VerifyingKey::from_bytes(&hex32(signature["key"].as_str().unwrap())).unwrap();
    let sig = Signature::from_bytes(&hex64(signature["sig"].as_str().unwrap()));
    key.verify_strict(&message, &sig).expect("the CLI's signature verifies over the app's message");

    // And what the app signs with its WebCrypto key, Rust verifies strictly.
    let signed = app
        .phone
        .execute(
            "return import('./js/device.js').then(d => d.createDeviceKey()).then(device => \
             import('./js/signing.js').then(s => s.signStatement(device, arguments[0])))",
            vec![statement.clone()],
        )
        .await;
    let app_key = VerifyingKey::from_bytes(&hex32(signed["signatures"][0]["key"].as_str().unwrap())).unwrap();
    let app_sig = Signature::from_bytes(&hex64(signed["signatures"][0]["sig"].as_str().unwrap()));
    app_key.verify_strict(&expected, &app_sig).expect("the app's signature verifies in Rust");
    app.close().await;
}

fn hex32(text: &str) -> [u8; 32] {
    hex::decode(text).unwrap().try_into().unwrap()
}

fn hex64(text: &str) -> [u8; 64] {
    hex::decode(text).unwrap().try_into().unwrap()
}

/// A statement-shaped value with awkward keys, strings and numbers in the ledger's range.
fn random_statement(random: &mut SplitMix) -> Value {
    json!({
        "ledger": format!("{:064x}", random.next_u64()),
        "kind": "item.register",
        "time": "2026-12-06T08:00:00Z",
        "body": random_value(random, 3),
    })
}

fn random_value(random: &mut SplitMix, depth: u32) -> Value {
    match random.below(if depth == 0 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(random.below(2) == 0),
        2 => random_number(random),
        3 | 4 => Value::String(random_text(random)),
        5 => Value::Array((0..random.below(4)).map(|_| random_value(random, depth - 1)).collect()),
        _ => Value::Object(
            (0..random.below(5)).map(|_| (random_text(random), random_value(random, depth - 1))).collect(),
        ),
    }
}

fn random_number(random: &mut SplitMix) -> Value {
    const LARGEST: u64 = (1 << 53) - 1;
    match random.below(4) {
        0 => json!(random.below(1000)),
        1 => json!(-i64::try_from(random.below(LARGEST)).unwrap()),
        2 => json!(f64::from(u32::try_from(random.below(1 << 30)).unwrap()) / 1024.0),
        _ => {
            // Doubles across many magnitudes, within ±(2^53−1).
            let mantissa = f64::from(u32::try_from(random.below(1 << 31)).unwrap());
            let exponent = i32::try_from(random.below(40)).unwrap() - 30;
            json!(mantissa * 10f64.powi(exponent) / 1e9)
        }
    }
}

fn random_text(random: &mut SplitMix) -> String {
    const PIECES: &[&str] = &[
        "a",
        "Z",
        "é",
        "ā",
        "ž",
        "€",
        "\u{1F9F1}",
        "\u{10FFFF}",
        "\"",
        "\\",
        "/",
        "\n",
        "\t",
        "\u{0}",
        "\u{1f}",
        "\u{7f}",
        "\u{2028}",
        "\u{FEFF}",
        " ",
        "1",
        "_",
        "\u{e9}\u{301}",
    ];
    (0..random.below(6)).map(|_| PIECES[usize::try_from(random.below(PIECES.len() as u64)).unwrap()]).collect()
}
