//! The EPC in small print on sheets (SVG, PDF) and labels as ZPL II for RFID
//! printer-encoders.

use std::collections::BTreeSet;

use salvage_ledger::ident::{CompanyPrefix, Giai, TagEncoding, item_epc};

use super::super::layout::{Charset, LineKind, arrange};
use super::super::*;
use super::pdf_reading::{decode_pdf_page, pdf_contents, shown_text};
use super::{decode_all, item, rasterise_mm};

/// A label for `giai` issued under `prefix`, with its EPC.
fn tagged(giai: &str, prefix: &str, name: &str) -> Label {
    let tag = epc(giai, prefix);
    Label {
        giai: giai.to_owned(),
        name: name.to_owned(),
        consortium: "Zemgale Materials Reuse Consortium".to_owned(),
        uri: format!("https://passports.jelgava.example/8004/{giai}"),
        epc: Some(LabelEpc::of(&tag)),
    }
}

fn epc(giai: &str, prefix: &str) -> TagEncoding {
    item_epc(&Giai::parse(giai).unwrap(), &CompanyPrefix::parse(prefix).unwrap()).unwrap()
}

/// The texts of the `<text class="…">` elements of one class, in document order.
fn texts_of(svg: &str, class: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("class") == Some(class))
        .map(|n| n.text().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn the_epc_is_printed_as_hex_and_tag_uri_and_the_code_still_decodes() {
    let labels = [
        tagged("47500011", "4750001", "Reserved for Baltic Demolition SIA"),
        tagged("4750001BEAM-0001", "4750001", "HEA 200 steel beam"),
    ];
    assert_eq!(epc("47500011", "4750001").scheme().tag_uri_name(), "giai-96");
    assert_eq!(epc("4750001BEAM-0001", "4750001").scheme().tag_uri_name(), "giai-202");
    let layout = SheetLayout::default();
    for label in &labels {
        let wanted = label.epc.clone().unwrap();
        let svg = label_svg(label, &layout).unwrap();
        assert_eq!(texts_of(&svg, "epc-hex").concat(), format!("EPC {}", wanted.hex), "{svg}");
        assert_eq!(texts_of(&svg, "epc-tag-uri").concat(), wanted.tag_uri);
        assert_eq!(texts_of(&svg, "giai"), vec![format!("(8004) {}", label.giai)]);
        // The QR square is as large as without the EPC, and reads at the same size.
        let plain = Label { epc: None, ..label.clone() };
        let (with, without) = (
            arrange(label, 0, &layout, Charset::Unicode).unwrap(),
            arrange(&plain, 0, &layout, Charset::Unicode).unwrap(),
        );
        assert_eq!((with.qr_side, with.qr_x, with.qr_y), (without.qr_side, without.qr_x, without.qr_y));
        assert_eq!(decode_all(rasterise_mm(&svg, 10.0)), BTreeSet::from([label.uri.clone()]));
    }

    let pdf = sheet_pdf(&labels, &layout).unwrap();
    let content = pdf_contents(&pdf).remove(0);
    assert_eq!(decode_pdf_page(&content), labels.iter().map(|l| l.uri.clone()).collect());
    // Lines broken in the middle of the hex come back joined by one space.
    let shown = String::from_utf8(shown_text(&content)).unwrap().replace(' ', "");
    for label in &labels {
        let wanted = label.epc.clone().unwrap();
        assert!(shown.contains(&format!("EPC{}", wanted.hex)), "{shown}");
        assert!(shown.contains(&wanted.tag_uri), "{shown}");
    }
}

#[test]
fn the_small_print_never_overlaps_the_name_which_gives_way_to_it() {
    let layout = SheetLayout::default();
    let g = *layout.geometry();
    let long = "Glued laminated timber beam GL24h 140 × 600 × 12000 mm from the sports hall roof ".repeat(3);
    for (giai, name) in
        [("47500011", "Door"), ("4750001BEAM-0001", long.as_str()), ("4750001ABCDEFGHIJKLMNOPQRSTUV", long.as_str())]
    {
        let label = tagged(giai, "4750001", name);
        for charset in [Charset::Unicode, Charset::WinAnsi] {
            let art = arrange(&label, 0, &layout, charset).unwrap();
            for pair in art.lines.windows(2) {
                let (above, below) = (&pair[0], &pair[1]);
                assert!(
                    below.baseline - 0.72 * below.size >= above.baseline + 0.21 * above.size - 1e-9,
                    "{giai}: {:?} runs into {:?}",
                    above.text,
                    below.text
                );
            }
            for line in &art.lines {
                assert!(line.x >= art.qr_x + art.qr_side - 1e-9);
                assert!(
                    line.x + text::width_mm(&line.text, line.weight, line.size)
                        <= g.label_width_mm - g.padding_mm + 1e-9
                );
                assert!(line.baseline + 0.21 * line.size <= g.label_height_mm - g.padding_mm + 1e-9);
            }
            let kinds: Vec<LineKind> = art.lines.iter().map(|l| l.kind).collect();
            let last_kinds: Vec<LineKind> = kinds.iter().rev().take(2).copied().collect();
            assert_eq!(last_kinds, [LineKind::Uri, LineKind::Uri], "the URI stays at the bottom");
            let hex: String = art.lines.iter().filter(|l| l.kind == LineKind::EpcHex).map(|l| l.text.clone()).collect();
            assert_eq!(hex, format!("EPC {}", label.epc.as_ref().unwrap().hex), "never cut");
            assert!(kinds.contains(&LineKind::Name) && kinds.contains(&LineKind::Consortium));
        }
    }
}

#[test]
fn an_epc_that_does_not_fit_is_refused_rather_than_cut() {
    // High labels with a narrow text column: the text grows with the QR square,
    // so a GIAI-202's EPC would need more lines than the small print may take.
    let layout = SheetLayout::new(SheetGeometry {
        page_width_mm: 210.0,
        page_height_mm: 297.0,
        columns: 3,
        rows: 6,
        label_width_mm: 60.0,
        label_height_mm: 48.0,
        left_margin_mm: 0.0,
        top_margin_mm: 0.0,
        column_pitch_mm: 60.0,
        row_pitch_mm: 48.0,
        padding_mm: 1.0,
    })
    .unwrap();
    let label = tagged("4750001ABCDEFGHIJKLMNOPQRSTUV", "4750001", "Oak door");
    match sheet_svg(std::slice::from_ref(&label), &layout) {
        Err(error @ LabelError::EpcDoesNotFit { index: 0, .. }) => {
            assert!(error.to_string().contains("4750001ABCDEFGHIJKLMNOPQRSTUV"), "{error}")
        }
        other => panic!("expected the EPC to be refused, got {other:?}"),
    }
}

#[test]
fn zpl_writes_the_epc_to_the_tag_and_prints_code_and_text() {
    let labels = [
        tagged("47500011", "4750001", "Reserved for Baltic Demolition SIA"),
        tagged("4750001BEAM-0001", "4750001", "Beam ^XZ_~ \"cut\""),
        Label { epc: None, ..item(3) },
    ];
    let zpl = sheet_zpl(&labels, &ZplOptions::default()).unwrap();
    let formats: Vec<&str> = zpl.split_inclusive("^XZ\n").collect();
    assert_eq!(formats.len(), 3);
    for (format, label) in formats.iter().zip(&labels) {
        assert!(format.starts_with("^XA\n^CI28\n^PW560\n^LL296\n"), "{format}");
        assert!(format.ends_with("^XZ\n"));
        assert_eq!(format.matches("^XA").count(), 1, "a name cannot end the format: {format}");
        match &label.epc {
            Some(epc) => assert!(format.contains(&format!("\n^RFW,H,,,A^FD{}^FS\n", epc.hex)), "{format}"),
            None => assert!(!format.contains("^RF"), "a label without an EPC is only printed"),
        }
        // 32 mm at 8 dots/mm over the code's modules and quiet zone; the code starts after the quiet zone.
        let code = format.lines().find(|l| l.contains("^BQN")).unwrap();
        let modules = crate::qr::QrCode::encode(&label.uri).unwrap().side_with_quiet_zone();
        let magnification = 256 / modules;
        assert!((1..=10).contains(&magnification));
        let quiet = 20 + 4 * magnification;
        assert_eq!(code, format!("^FO{quiet},{quiet}^BQN,2,{magnification},M^FH^FDMA,{}^FS", label.uri));
        assert!(format.contains(&format!("^FD(8004) {}^FS", label.giai)), "{format}");
    }
    assert!(formats[1].contains("^FDBeam _5EXZ_5F_7E \"cut\"^FS"), "{}", formats[1]);
    let hex_line = formats[0].lines().find(|l| l.contains("^FDEPC ")).unwrap();
    assert!(hex_line.starts_with("^FT") && hex_line.contains("^A0N,"), "{hex_line}");

    assert!(matches!(sheet_zpl(&[], &ZplOptions::default()), Err(LabelError::NoLabels)));
    let odd = ZplOptions { dots_per_mm: 7, ..ZplOptions::default() };
    assert!(matches!(sheet_zpl(&labels, &odd), Err(LabelError::Zpl { .. })));
}
