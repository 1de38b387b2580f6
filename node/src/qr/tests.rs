//! Acceptance tests: every code is read back by a real QR decoder (rqrr), and
//! the SVG is rasterised by a real SVG renderer (resvg) before decoding.

use super::*;

/// rqrr reports the two format-information bits as they are stored: M is 0, L is 1, H is 2, Q is 3.
const RQRR_LEVEL_M: u16 = 0;
const RQRR_LEVEL_L: u16 = 1;

/// Digital Link URIs of the shapes items carry, from short to long.
fn sample_uris() -> Vec<String> {
    vec![
        "https://id.salvage.example/8004/4750001BEAM-0001".to_owned(),
        "https://id.salvage.example/8004/47500010000000000001".to_owned(),
        // Percent-escapes for characters GS1 allows in a GIAI but URIs reserve.
        "https://id.salvage.example/8004/4750001%2FDOOR%23A%25B".to_owned(),
        "https://id.salvage.example/8004/4750001WIN-12?linkType=gs1:certificationInfo&context=buyer".to_owned(),
        "HTTPS://ID.SALVAGE.EXAMPLE/8004/4750001BEAM0001".to_owned(),
        format!("https://resolver.example.lv/8004/4750001LONG-{}?note={}", "X".repeat(20), "a%20b".repeat(60)),
    ]
}

/// Decodes the only QR code in a grayscale image.
fn decode(image: image::GrayImage) -> (rqrr::MetaData, String) {
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "expected exactly one QR code in the image");
    grids[0].decode().expect("the QR code decodes")
}

fn decode_png(png: &[u8]) -> (rqrr::MetaData, String) {
    let image = image::load_from_memory_with_format(png, image::ImageFormat::Png).expect("valid PNG");
    assert_eq!(image.color(), image::ColorType::L8, "the PNG is 8-bit grayscale");
    decode(image.to_luma8())
}

/// Rasterises an SVG document with resvg, `width_px` pixels wide, onto white.
fn rasterise(svg: &str, width_px: u32) -> image::GrayImage {
    let tree = resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default()).expect("resvg parses the SVG");
    let scale = width_px as f32 / tree.size().width();
    let height_px = (tree.size().height() * scale).round() as u32;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(width_px, height_px).expect("pixmap");
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(&tree, resvg::tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    image::GrayImage::from_fn(width_px, height_px, |x, y| {
        let p = pixmap.pixel(x, y).expect("pixel inside").demultiply();
        image::Luma([((u16::from(p.red()) + u16::from(p.green()) + u16::from(p.blue())) / 3) as u8])
    })
}

#[test]
fn png_decodes_to_the_exact_uri_at_level_m() {
    for uri in sample_uris() {
        let (meta, content) = decode_png(&qr_png(&uri, 4).unwrap());
        assert_eq!(content, uri);
        assert_eq!(meta.ecc_level, RQRR_LEVEL_M, "level of {uri}");
        assert_eq!(meta.version.0, usize::from(QrCode::encode(&uri).unwrap().version()));
    }
}

#[test]
fn decoder_tells_levels_apart() {
    // Guards the meaning of RQRR_LEVEL_M: a level-L code must read differently.
    let code = qrcode::QrCode::with_error_correction_level("https://id.salvage.example/8004/1", EcLevel::L).unwrap();
    let side = code.width() + 8;
    let colors = code.to_colors();
    let image = image::GrayImage::from_fn(side as u32 * 4, side as u32 * 4, |x, y| {
        let (mx, my) = ((x / 4) as usize, (y / 4) as usize);
        let dark = mx >= 4
            && my >= 4
            && mx < side - 4
            && my < side - 4
            && colors[(my - 4) * code.width() + mx - 4] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    assert_eq!(decode(image).0.ecc_level, RQRR_LEVEL_L);
}

#[test]
fn png_is_eight_bit_gray_black_on_white_with_four_module_quiet_zone() {
    let uri = &sample_uris()[0];
    let code = QrCode::encode(uri).unwrap();
    let px = 5;
    let png = code.to_png(px).unwrap();
    // IHDR: bit depth 8, colour type 0 (grayscale).
    assert_eq!(&png[12..16], b"IHDR");
    assert_eq!((png[24], png[25]), (8, 0));
    let image = image::load_from_memory(&png).unwrap().to_luma8();
    let side = (code.side_with_quiet_zone() as u32) * px;
    assert_eq!(image.dimensions(), (side, side));
    assert!(image.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255), "only black and white");
    // ISO/IEC 18004 asks for 4 light modules; written out so that the constant itself is checked.
    let zone = 4 * px;
    for (x, y, p) in image.enumerate_pixels() {
        let in_zone = x < zone || y < zone || x >= side - zone || y >= side - zone;
        if in_zone {
            assert_eq!(p.0[0], 255, "quiet zone pixel ({x}, {y}) is dark");
        }
    }
    // The finder patterns start right at the zone's inner edge: the zone is 4 modules, not more.
    for (x, y) in [(zone, zone), (side - zone - 1, zone), (zone, side - zone - 1)] {
        assert_eq!(image.get_pixel(x, y).0[0], 0, "finder corner at ({x}, {y})");
    }
}

#[test]
fn matrix_has_light_quiet_zone_and_symbol_of_its_version() {
    let code = QrCode::encode(&sample_uris()[0]).unwrap();
    assert_eq!(code.width(), 17 + 4 * usize::from(code.version()));
    let side = code.side_with_quiet_zone();
    assert_eq!(side, code.width() + 8);
    for i in 0..side {
        for j in 0..QUIET_ZONE_MODULES {
            assert!(!code.is_dark(i, j) && !code.is_dark(j, i));
            assert!(!code.is_dark(i, side - 1 - j) && !code.is_dark(side - 1 - j, i));
        }
    }
    assert!(!code.is_dark(side + 3, 5), "outside the square is light");
}

#[test]
fn svg_is_one_crisp_path_with_module_viewbox() {
    let uri = &sample_uris()[2];
    let code = QrCode::encode(uri).unwrap();
    let svg = code.to_svg(3).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let root = doc.root_element();
    let side = code.side_with_quiet_zone();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("width"), Some((side * 3).to_string().as_str()));
    assert_eq!(root.attribute("height"), Some((side * 3).to_string().as_str()));
    assert_eq!(root.attribute("viewBox"), Some(format!("0 0 {side} {side}").as_str()));
    assert_eq!(root.attribute("shape-rendering"), Some("crispEdges"));
    let paths: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("path")).collect();
    assert_eq!(paths.len(), 1, "all dark modules in one path");
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("rect")).count(), 1, "only the background rect");
}

#[test]
fn svg_rasterised_by_resvg_decodes_to_the_exact_uri() {
    for uri in sample_uris() {
        let code = QrCode::encode(&uri).unwrap();
        let side_px = code.side_with_quiet_zone() as u32 * 4;
        let (meta, content) = decode(rasterise(&code.to_svg(1).unwrap(), side_px));
        assert_eq!(content, uri);
        assert_eq!(meta.ecc_level, RQRR_LEVEL_M);
    }
}

#[test]
fn svg_and_png_draw_the_same_modules() {
    let code = QrCode::encode(&sample_uris()[3]).unwrap();
    let png = image::load_from_memory(&code.to_png(2).unwrap()).unwrap().to_luma8();
    let svg = rasterise(&code.to_svg(2).unwrap(), png.width());
    assert_eq!(svg.dimensions(), png.dimensions());
    let differing = svg.pixels().zip(png.pixels()).filter(|(a, b)| a.0[0].abs_diff(b.0[0]) > 64).count();
    assert_eq!(differing, 0, "pixels where the SVG and the PNG disagree");
}

#[test]
fn too_long_uri_is_an_error_not_a_panic() {
    let longest = format!("https://x.example/{}", "y".repeat(MAX_URI_BYTES - 18));
    assert_eq!(longest.len(), MAX_URI_BYTES);
    assert_eq!(QrCode::encode(&longest).unwrap().version(), 40);
    let too_long = format!("{longest}y");
    match QrCode::encode(&too_long) {
        Err(QrError::TooLong { bytes }) => assert_eq!(bytes, MAX_URI_BYTES + 1),
        other => panic!("expected TooLong, got {other:?}"),
    }
    assert!(matches!(qr_png(&"z".repeat(10_000), 4), Err(QrError::TooLong { bytes: 10_000 })));
    assert!(matches!(qr_svg(&"z".repeat(10_000), 4), Err(QrError::TooLong { .. })));
}

#[test]
fn empty_uri_and_bad_module_sizes_are_refused() {
    assert!(matches!(QrCode::encode(""), Err(QrError::EmptyUri)));
    let code = QrCode::encode(&sample_uris()[0]).unwrap();
    for bad in [0, MAX_MODULE_PX + 1] {
        assert!(matches!(code.to_png(bad), Err(QrError::ModuleSize { module_px }) if module_px == bad));
        assert!(matches!(code.to_svg(bad), Err(QrError::ModuleSize { .. })));
    }
    assert!(code.to_png(MAX_MODULE_PX).is_ok());
}

#[test]
fn error_messages_say_what_is_wrong() {
    let message = QrCode::encode(&"q".repeat(3000)).unwrap_err().to_string();
    assert!(message.contains("3000 bytes") && message.contains("level M"), "{message}");
}
