//! Acceptance tests for labels and sheets: pages are parsed as XML, the QR
//! codes on them are rasterised (SVG, with resvg) or rebuilt from the PDF's
//! drawing operators and read back with a real QR decoder (rqrr).

use std::collections::BTreeSet;

use super::layout::{Charset, arrange};
use super::text::{ELLIPSIS, width_mm};
use super::*;
use pdf_reading::{decode_pdf_page, pdf_contents, shown_text};

mod epc_and_zpl;
mod pdf_reading;

#[test]
fn thirty_labels_fill_two_a4_pages_on_the_3x8_grid() {
    let labels = items(30);
    let pages = sheet_svg(&labels, &SheetLayout::default()).unwrap();
    assert_eq!(pages.len(), 2);
    let mut expected = Vec::new();
    for row in 0..8 {
        for column in 0..3 {
            expected.push((70.0 * column as f64, 0.5 + 37.0 * row as f64));
        }
    }
    assert_eq!(label_origins(&pages[0]), expected);
    assert_eq!(label_origins(&pages[1]), expected[..6].to_vec());
    for page in &pages {
        let doc = roxmltree::Document::parse(page).unwrap();
        let root = doc.root_element();
        assert_eq!(root.attribute("width"), Some("210mm"));
        assert_eq!(root.attribute("height"), Some("297mm"));
        assert_eq!(root.attribute("viewBox"), Some("0 0 210 297"));
    }
    let texts = svg_texts(&pages[1]);
    assert!(texts.contains(&"(8004) 4750001BEAM-0025".to_owned()), "{texts:?}");
    assert!(texts.contains(&"Riga Circular Construction".to_owned()));
}

#[test]
fn every_qr_code_on_an_svg_page_decodes_to_its_uri_inside_its_own_label() {
    let labels = items(30);
    let layout = SheetLayout::default();
    let pages = sheet_svg(&labels, &layout).unwrap();
    let px_per_mm = 8.0;
    for (page, chunk) in pages.iter().zip(labels.chunks(24)) {
        let image = rasterise_mm(page, px_per_mm);
        for (slot, label) in chunk.iter().enumerate() {
            // Cut out exactly the label's cell: its code must be there and nowhere else.
            let (x, y) = layout.label_origin_mm(slot);
            let cell = image::imageops::crop_imm(
                &image,
                (x * f64::from(px_per_mm)) as u32,
                (y * f64::from(px_per_mm)) as u32,
                (70.0 * px_per_mm) as u32,
                (37.0 * px_per_mm) as u32,
            )
            .to_image();
            assert_eq!(decode_all(cell), BTreeSet::from([label.uri.clone()]), "slot {slot}");
        }
    }
}

#[test]
fn pdf_has_two_a4_pages_with_decodable_vector_codes_and_text() {
    let labels = items(30);
    let pdf = sheet_pdf(&labels, &SheetLayout::default()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&pdf);
    assert_eq!(text.matches("/Type /Page\n").count(), 2, "two page objects");
    assert!(text.contains("/Count 2"));
    for media_box in text.split("/MediaBox [").skip(1) {
        let numbers: Vec<f64> = media_box.split(']').next().unwrap().split(' ').map(|v| v.parse().unwrap()).collect();
        assert_eq!(numbers.len(), 4);
        assert_eq!((numbers[0], numbers[1]), (0.0, 0.0));
        assert!((numbers[2] - 595.28).abs() < 0.01 && (numbers[3] - 841.89).abs() < 0.01, "{numbers:?}");
    }
    assert_eq!(text.matches("/MediaBox").count(), 2);
    assert!(text.contains("/BaseFont /Helvetica-Bold") && text.contains("/Encoding /WinAnsiEncoding"));

    let contents = pdf_contents(&pdf);
    assert_eq!(contents.len(), 2);
    for (content, chunk) in contents.iter().zip(labels.chunks(24)) {
        let expected: BTreeSet<String> = chunk.iter().map(|l| l.uri.clone()).collect();
        assert_eq!(decode_pdf_page(content), expected);
        let shown = String::from_utf8(shown_text(content)).unwrap();
        for label in chunk {
            assert!(shown.contains(&label.name), "name of {} in {shown}", label.giai);
            assert!(shown.contains(&format!("(8004) {}", label.giai)), "GIAI of {}", label.giai);
            assert!(shown.contains(&label.consortium));
        }
    }
}

#[test]
fn xml_special_characters_are_escaped_and_read_back_intact() {
    let mut label = item(1);
    label.name = r#"A&B <oak> "x" 'y'"#.to_owned();
    label.consortium = "Reuse & Co <LV>".to_owned();
    label.uri = "https://id.salvage.example/8004/4750001DOOR-1?linkType=gs1:pip&lang=lv".to_owned();
    for svg in [
        label_svg(&label, &SheetLayout::default()).unwrap(),
        sheet_svg(&[label.clone()], &SheetLayout::default()).unwrap().remove(0),
    ] {
        assert!(svg.contains("A&amp;B &lt;oak&gt; &quot;x&quot; &apos;y&apos;"), "{svg}");
        let texts = svg_texts(&svg);
        assert!(texts.contains(&label.name), "{texts:?}");
        assert!(texts.contains(&label.consortium));
        assert!(texts.concat().contains("linkType=gs1:pip&lang=lv"));
    }
}

#[test]
fn control_characters_are_dropped_and_whitespace_collapsed() {
    let mut label = item(1);
    label.name = "Window\u{0}\u{7}  frame\n\t2\u{FFFF}".to_owned();
    let svg = label_svg(&label, &SheetLayout::default()).unwrap();
    assert!(svg_texts(&svg).contains(&"Window frame 2".to_owned()));
}

#[test]
fn long_names_wrap_then_shrink_then_end_in_an_ellipsis_inside_the_label() {
    let layout = SheetLayout::default();
    let mut label = item(1);
    label.name = "Glued laminated timber beam GL24h 140 × 600 × 12000 mm from the sports hall roof ".repeat(5);
    label.consortium = "Consortium for Circular Construction in the Baltic States and Beyond".to_owned();
    label.giai = "4750001ABCDEFGHIJKLMNOPQRSTUVW".to_owned();
    label.uri = format!("https://id.salvage.example/8004/{}", label.giai);
    for charset in [Charset::Unicode, Charset::WinAnsi] {
        let art = arrange(&label, 0, &layout, charset).unwrap();
        let g = layout.geometry();
        let right = g.label_width_mm - g.padding_mm;
        for line in &art.lines {
            let end = line.x + width_mm(&line.text, line.weight, line.size);
            assert!(end <= right + 1e-9, "{:?} ends at {end} mm, past {right} mm", line.text);
            assert!(line.x >= art.qr_x + art.qr_side - 1e-9, "text stays out of the QR square and its quiet zone");
            assert!(
                line.baseline - line.size * 0.72 >= g.padding_mm
                    && line.baseline + line.size * 0.21 <= g.label_height_mm - g.padding_mm
            );
        }
        for pair in art.lines.windows(2) {
            let gap = pair[1].baseline - pair[0].baseline;
            assert!(gap >= pair[1].size * 0.9, "lines {:?} and {:?} overlap", pair[0].text, pair[1].text);
        }
        let name_lines: Vec<_> = art.lines.iter().filter(|l| l.weight == text::Weight::Bold).collect();
        assert_eq!(name_lines.len(), 3);
        assert!(name_lines[2].text.ends_with(ELLIPSIS));
        assert!(name_lines[0].text.starts_with("Glued laminated timber"));
        // The GIAI is never cut short: it is the identifier people type in.
        let all: String = art.lines.iter().map(|l| l.text.as_str()).collect();
        assert!(all.contains("4750001ABCDEFGH") && all.contains("RSTUVW"), "{all}");
    }
}

#[test]
fn huge_names_are_cut_quickly() {
    let mut label = item(1);
    label.name = "Beam ".repeat(200_000);
    let started = std::time::Instant::now();
    let art = arrange(&label, 0, &SheetLayout::default(), Charset::Unicode).unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
    assert!(art.lines.iter().any(|l| l.text.ends_with(ELLIPSIS)));
}

#[test]
fn short_names_keep_their_size_and_whole_words() {
    let art = arrange(&item(7), 0, &SheetLayout::default(), Charset::Unicode).unwrap();
    let name: Vec<_> = art.lines.iter().filter(|l| l.weight == text::Weight::Bold).map(|l| l.text.clone()).collect();
    assert_eq!(name.join(" "), "Steel beam HEA 200 no. 7");
    assert!(name.iter().all(|l| !l.ends_with(ELLIPSIS)));
    let uri: String =
        art.lines.iter().rev().take(2).map(|l| l.text.clone()).collect::<Vec<_>>().into_iter().rev().collect();
    assert_eq!(uri, item(7).uri, "the small-print URI is complete");
}

#[test]
fn pdf_transliterates_what_helvetica_cannot_show_and_svg_keeps_it() {
    let mut label = item(3);
    label.name = "Ķieģeļu mūris & Šķūnis".to_owned();
    label.consortium = "Türen (Köln)".to_owned();
    let pdf = sheet_pdf(&[label.clone()], &SheetLayout::default()).unwrap();
    let shown = shown_text(&pdf_contents(&pdf).remove(0));
    let contains = |needle: &[u8]| shown.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"Kiegelu muris & Skunis"), "{}", String::from_utf8_lossy(&shown));
    // Text made only of WinAnsi characters keeps its accents (ü is 0xFC, ö is 0xF6).
    assert!(contains(b"T\xFCren (K\xF6ln)"));
    let svg = label_svg(&label, &SheetLayout::default()).unwrap();
    assert!(svg_texts(&svg).join(" ").contains("Ķieģeļu mūris & Šķūnis"), "{svg}");
}

#[test]
fn single_label_svg_is_label_sized_and_its_code_decodes() {
    let label = item(42);
    let svg = label_svg(&label, &SheetLayout::default()).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(doc.root_element().attribute("width"), Some("70mm"));
    assert_eq!(doc.root_element().attribute("height"), Some("37mm"));
    assert_eq!(decode_all(rasterise_mm(&svg, 10.0)), BTreeSet::from([label.uri]));
}

#[test]
fn output_is_deterministic() {
    let labels = items(5);
    let layout = SheetLayout::default();
    assert_eq!(sheet_pdf(&labels, &layout).unwrap(), sheet_pdf(&labels, &layout).unwrap());
    assert_eq!(sheet_svg(&labels, &layout).unwrap(), sheet_svg(&labels, &layout).unwrap());
}

#[test]
fn custom_layouts_place_labels_on_their_own_grid() {
    // A4 with 2 × 7 labels of 99.1 × 38.1 mm and gaps (Avery L7163).
    let layout = SheetLayout::new(SheetGeometry {
        page_width_mm: 210.0,
        page_height_mm: 297.0,
        columns: 2,
        rows: 7,
        label_width_mm: 99.1,
        label_height_mm: 38.1,
        left_margin_mm: 4.65,
        top_margin_mm: 15.15,
        column_pitch_mm: 101.6,
        row_pitch_mm: 38.1,
        padding_mm: 3.0,
    })
    .unwrap();
    assert_eq!(layout.labels_per_page(), 14);
    assert_eq!(layout.page_count(30), 3);
    assert_eq!(layout.label_origin_mm(3), (4.65 + 101.6, 15.15 + 38.1));
    let pages = sheet_svg(&items(30), &layout).unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(label_origins(&pages[2]).len(), 2);
    let pdf = sheet_pdf(&items(30), &layout).unwrap();
    assert!(String::from_utf8_lossy(&pdf).contains("/Count 3"));
}

#[test]
fn impossible_layouts_are_refused_with_a_reason() {
    let base = *SheetLayout::default().geometry();
    let cases = [
        (SheetGeometry { columns: 4, ..base }, "beyond"),
        (SheetGeometry { label_width_mm: -1.0, ..base }, "positive"),
        (SheetGeometry { row_pitch_mm: 30.0, ..base }, "overlap"),
        (SheetGeometry { top_margin_mm: f64::NAN, ..base }, "top margin"),
        (SheetGeometry { rows: 0, ..base }, "grid"),
        (SheetGeometry { padding_mm: 14.0, ..base }, "QR square"),
        (SheetGeometry { label_width_mm: 45.0, column_pitch_mm: 45.0, ..base }, "text column"),
    ];
    for (geometry, reason) in cases {
        match SheetLayout::new(geometry) {
            Err(LabelError::Layout { problem }) => assert!(problem.contains(reason), "{problem}"),
            other => panic!("expected a layout error about {reason}, got {other:?}"),
        }
    }
    assert_eq!(SheetLayout::new(base).unwrap(), SheetLayout::default());
}

#[test]
fn bad_labels_are_errors_that_name_the_label() {
    let layout = SheetLayout::default();
    assert!(matches!(sheet_pdf(&[], &layout), Err(LabelError::NoLabels)));
    assert!(matches!(sheet_svg(&[], &layout), Err(LabelError::NoLabels)));

    let mut labels = items(3);
    labels[1].uri.clear();
    match sheet_pdf(&labels, &layout) {
        Err(LabelError::Qr { index: 1, giai, source: QrError::EmptyUri }) => assert_eq!(giai, "4750001BEAM-0002"),
        other => panic!("expected an empty-URI error for label 1, got {other:?}"),
    }
    labels[1].uri = format!("https://id.salvage.example/8004/{}", "X".repeat(5000));
    assert!(matches!(
        sheet_svg(&labels, &layout),
        Err(LabelError::Qr { index: 1, source: QrError::TooLong { .. }, .. })
    ));

    // Encodable, but far too dense for a 32 mm square.
    labels[1].uri = format!("https://id.salvage.example/8004/4750001?x={}", "y".repeat(1400));
    let Err(error) = sheet_pdf(&labels, &layout) else {
        panic!("a 1,450-byte URI must be refused on 70 × 37 mm labels")
    };
    assert!(matches!(error, LabelError::QrTooDense { index: 1, module_mm, .. } if module_mm < MIN_MODULE_MM));
    assert!(error.to_string().contains("4750001BEAM-0002"), "{error}");
}

#[test]
fn text_helpers_escape_transliterate_and_format() {
    assert_eq!(text::escape_xml(r#"a&b<c>"d"'e'"#), "a&amp;b&lt;c&gt;&quot;d&quot;&apos;e&apos;");
    assert_eq!(text::to_win_ansi_text("Türblatt – 5 €"), "Türblatt – 5 €");
    assert_eq!(text::to_win_ansi_text("Ābele, ČŽ"), "Abele, CZ");
    assert_eq!(text::to_win_ansi_text("Дверь"), "Dver'");
    assert_eq!(text::win_ansi_bytes("€Š…é"), vec![0x80, 0x8A, 0x85, 0xE9]);
    assert_eq!(text::number(70.0), "70");
    assert_eq!(text::number(0.5), "0.5");
    assert_eq!(text::number(1.23456), "1.235");
    assert_eq!(text::number(-0.0001), "0");
}

#[test]
fn the_small_print_uri_breaks_after_a_slash() {
    let art = arrange(&item(7), 0, &SheetLayout::default(), Charset::Unicode).unwrap();
    let n = art.lines.len();
    assert_eq!(art.lines[n - 2].text, "https://id.salvage.example/8004/");
    assert_eq!(art.lines[n - 1].text, "4750001BEAM-0007");
}

fn item(i: usize) -> Label {
    Label {
        giai: format!("4750001BEAM-{i:04}"),
        name: format!("Steel beam HEA 200 no. {i}"),
        consortium: "Riga Circular Construction".to_owned(),
        uri: format!("https://id.salvage.example/8004/4750001BEAM-{i:04}"),
        epc: None,
    }
}

fn items(n: usize) -> Vec<Label> {
    (1..=n).map(item).collect()
}

/// Texts of all `<text>` elements, in document order (entities decoded).
fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed XML");
    doc.descendants().filter(|n| n.has_tag_name("text")).map(|n| n.text().unwrap_or("").to_owned()).collect()
}

/// Translations of the `<g class="label">` groups, in document order.
fn label_origins(svg: &str) -> Vec<(f64, f64)> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some("label"))
        .map(|n| {
            let t = n.attribute("transform").expect("transform");
            let inner = t.strip_prefix("translate(").and_then(|t| t.strip_suffix(')')).expect("translate");
            let mut xy = inner.split(' ').map(|v| v.parse::<f64>().expect("number"));
            (xy.next().unwrap(), xy.next().unwrap())
        })
        .collect()
}

/// Every QR code that rqrr finds and reads in `image`. On a full page rqrr
/// also tries grids made of finder patterns from neighbouring codes, which
/// fail error correction and are skipped; callers compare the set of
/// contents with what must be there.
fn decode_all(image: image::GrayImage) -> BTreeSet<String> {
    let mut prepared = rqrr::PreparedImage::prepare(image);
    prepared
        .detect_grids()
        .iter()
        .filter_map(|g| g.decode().ok())
        .map(|(meta, content)| {
            assert_eq!(meta.ecc_level, 0, "level M");
            content
        })
        .collect()
}

/// Rasterises an SVG in millimetres at `px_per_mm` with resvg (text is not drawn: resvg is built without fonts).
fn rasterise_mm(svg: &str, px_per_mm: f32) -> image::GrayImage {
    let tree = resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default()).expect("resvg parses");
    // usvg reads mm at 96 dpi.
    let scale = px_per_mm * 25.4 / 96.0;
    let (w, h) = ((tree.size().width() * scale).round() as u32, (tree.size().height() * scale).round() as u32);
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h).unwrap();
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(&tree, resvg::tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    image::GrayImage::from_fn(w, h, |x, y| image::Luma([pixmap.pixel(x, y).unwrap().demultiply().green()]))
}
