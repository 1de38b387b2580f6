//! End-to-end tests of the identifier commands: the real `salvage` binary,
//! its exact output, exit statuses and one-line errors.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

fn salvage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_salvage")).args(args).env_remove("SALVAGE_RESOLVER").output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Invalid input: status 1, one line on stderr saying what is wrong, never a panic.
fn refused(args: &[&str]) -> String {
    let output = salvage(args);
    assert_eq!(output.status.code(), Some(1), "{args:?} should fail with status 1");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line expected, got: {stderr}");
    assert!(stderr.starts_with("salvage: "), "{stderr}");
    stderr
}

#[test]
fn epc_decode_and_encode_the_public_gs1_examples() {
    let giai = stdout(&salvage(&["epc", "decode", "3474257BF40000000000162E"]));
    assert_eq!(giai.lines().next(), Some("urn:epc:tag:giai-96:3.0614141.5678"));
    assert_eq!(
        stdout(&salvage(&["epc", "encode", "urn:epc:tag:sgtin-96:3.0614141.812345.6789"])).trim(),
        "3074257BF7194E4000001A85"
    );
    assert_eq!(
        stdout(&salvage(&["epc", "encode", "urn:epc:tag:grai-96:3.0614141.12345.5678"])).trim(),
        "3374257BF40C0E400000162E"
    );

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&salvage(&["epc", "decode", "3074257BF7194E4000001A85", "--json"]))).unwrap();
    assert_eq!(json["hex"], "3074257BF7194E4000001A85");
    assert_eq!(json["tag_uri"], "urn:epc:tag:sgtin-96:3.0614141.812345.6789");
    assert_eq!(json["pure_uri"], "urn:epc:id:sgtin:0614141.812345.6789");
    assert_eq!(json["element_string"], "(01)80614141123458(21)6789");
    assert_eq!(json["digital_link"], "https://id.gs1.org/01/80614141123458/21/6789");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&salvage(&["epc", "encode", "urn:epc:tag:giai-96:3.0614141.5678", "--json"])))
            .unwrap();
    assert_eq!(json["element_string"], "(8004)06141415678");
}

#[test]
fn epc_refusals_are_one_line_with_status_1() {
    assert!(refused(&["epc", "decode", "3474257BF40000000000162"]).contains("hex"));
    refused(&["epc", "decode", "FF74257BF40000000000162E"]);
    refused(&["epc", "encode", "urn:epc:tag:sgtin-96:3.0614141.812345.274877906944"]);
    refused(&["epc", "encode", "urn:epc:tag:giai-96:3.0614141.0123"]);
    refused(&["epc", "encode", "not a uri"]);
    refused(&["epc", "frobnicate"]);
}

#[test]
fn digital_link_parse_and_build() {
    let element = "(01)09520123456788(10)ABC1(21)12345(17)180426";
    let uri = "https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426";
    assert_eq!(stdout(&salvage(&["dl", "parse", uri])).trim(), element);
    // GS1's canonical form only when asked for: no resolver is assumed.
    assert_eq!(stdout(&salvage(&["dl", "build", element, "--domain", "id.gs1.org"])).trim(), uri);
    assert!(refused(&["dl", "build", element]).contains("--node URL"));
    assert_eq!(
        stdout(&salvage(&["dl", "build", "(8004)4750001BEAM-0001", "--domain", "resolver.example.lv"])).trim(),
        "https://resolver.example.lv/8004/4750001BEAM-0001"
    );
    refused(&["dl", "parse", "https://id.gs1.org/01/09520123456788/"]);
    refused(&["dl", "parse", "https://id.gs1.org/01/09520123456789"]);
    refused(&["dl", "parse", "https://id.gs1.org/01/09520123456788/21/1/10/A"]);
    refused(&["dl", "build", "(01)0952012345678", "--domain", "id.gs1.org"]);
}

#[test]
fn a_qr_png_decodes_to_the_items_digital_link() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("beam.png");
    let printed = stdout(&salvage(&[
        "qr",
        "4750001BEAM-0001",
        "--out",
        png.to_str().unwrap(),
        "--resolver",
        "id.salvage.example",
    ]));
    assert_eq!(printed.trim(), "https://id.salvage.example/8004/4750001BEAM-0001");
    let image = image::open(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, "https://id.salvage.example/8004/4750001BEAM-0001");

    let svg = dir.path().join("beam.svg");
    stdout(&salvage(&["qr", "https://id.gs1.org/8004/06141415678", "--out", svg.to_str().unwrap()]));
    assert!(
        std::fs::read_to_string(&svg).unwrap().starts_with("<svg")
            || std::fs::read_to_string(&svg).unwrap().starts_with("<?xml")
    );
    refused(&["qr", "not-a-giai", "--out", png.to_str().unwrap()]);
    let no_resolver = refused(&["qr", "4750001BEAM-0001", "--out", png.to_str().unwrap()]);
    assert!(no_resolver.contains("--node URL") && no_resolver.contains("--resolver URL"), "{no_resolver}");
    refused(&["qr", "4750001BEAM-0001", "--out", dir.path().join("beam.gif").to_str().unwrap()]);
}

#[test]
fn a_label_sheet_for_thirty_items() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("inventory.csv");
    let mut text = String::from("giai,name\n");
    for n in 1..=30 {
        text.push_str(&format!("4750001BRICK-{n:03},\"Clay bricks, pallet {n}\"\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let pdf = dir.path().join("labels.pdf");
    let printed = stdout(&salvage(&[
        "labels",
        "--out",
        pdf.to_str().unwrap(),
        "--items",
        csv.to_str().unwrap(),
        "--consortium",
        "Zemgale Reuse",
        "--resolver",
        "id.salvage.example",
    ]));
    assert_eq!(printed.trim(), "30 label(s) on 2 page(s)");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));

    let svg = dir.path().join("sheet.svg");
    stdout(&salvage(&[
        "labels",
        "--out",
        svg.to_str().unwrap(),
        "--items",
        csv.to_str().unwrap(),
        "--consortium",
        "Zemgale Reuse",
        "--resolver",
        "id.salvage.example",
    ]));
    assert!(svg.exists() && dir.path().join("sheet-2.svg").exists() && !dir.path().join("sheet-3.svg").exists());

    std::fs::write(&csv, "giai,name\n4750001OK,Door\nBAD GIAI,Window\n").unwrap();
    let error =
        refused(&["labels", "--out", pdf.to_str().unwrap(), "--items", csv.to_str().unwrap(), "--consortium", "Z"]);
    assert!(error.contains("row 3"), "{error}");
    refused(&["labels", "--out", pdf.to_str().unwrap(), "--consortium", "Z", "--resolver", "id.salvage.example"]);
    // Without --node or --resolver, no resolver is assumed.
    std::fs::write(&csv, "giai,name\n4750001OK,Door\n").unwrap();
    let error =
        refused(&["labels", "--out", pdf.to_str().unwrap(), "--items", csv.to_str().unwrap(), "--consortium", "Z"]);
    assert!(error.contains("--node URL") && error.contains("--resolver URL"), "{error}");
}

#[test]
fn labels_show_the_epc_where_the_company_prefix_ends_and_say_once_when_they_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("tagged.svg");
    let out = svg.to_str().unwrap();
    let common = ["labels", "--out", out, "--consortium", "Z", "--resolver", "id.salvage.example"];
    let items = ["--item", "47500011=Door", "--item", "4750001BEAM-0001=Beam"];
    let with_length = salvage(&[&common[..], &items[..], &["--prefix-length", "7"]].concat());
    assert_eq!(stdout(&with_length).trim(), "2 label(s) on 1 page(s)");
    assert!(with_length.stderr.is_empty(), "{}", String::from_utf8_lossy(&with_length.stderr));
    let page = std::fs::read_to_string(&svg).unwrap();
    // GIAI-96 of company prefix 4750001 (7 digits: partition 5), asset reference 1.
    assert!(page.contains(r#"class="epc-tag-uri""#) && page.contains(">urn:epc:tag:giai-96:0.4750001.1<"), "{page}");
    assert!(page.contains(">urn:epc:tag:giai-202:0.4750001.BEAM-0001<"), "{page}");

    let without = salvage(&[&common[..], &items[..]].concat());
    stdout(&without);
    let stderr = String::from_utf8(without.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no EPC") && stderr.contains("--prefix-length"), "{stderr}");
    assert!(!std::fs::read_to_string(&svg).unwrap().contains("epc-"));

    let short = refused(&[&common[..], &["--item", "4750001=Door", "--prefix-length", "7"]].concat());
    assert!(short.contains("too short"), "{short}");
    refused(&[&common[..], &items[..], &["--prefix-length", "13"]].concat());
}
