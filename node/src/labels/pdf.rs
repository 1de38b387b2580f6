//! Label sheets as one PDF document, a page per sheet.
//!
//! QR codes are vector rectangles (one per horizontal run of dark modules),
//! text uses the standard Helvetica fonts with WinAnsi encoding, so nothing is
//! embedded and every PDF reader prints the sheet exactly. Content streams are
//! Flate-compressed: a page of 24 codes is a few thousand rectangles.

use pdf_writer::{Content, Filter, Finish as _, Name, Pdf, Rect, Ref, Str, TextStr};

use super::layout::{LabelArt, SheetLayout};
use super::text::{Weight, win_ansi_bytes};

/// Points (1/72 inch) per millimetre.
const PT_PER_MM: f64 = 72.0 / 25.4;

/// Resource name of Helvetica on every page.
const REGULAR: Name<'static> = Name(b"F1");

/// Resource name of Helvetica-Bold on every page.
const BOLD: Name<'static> = Name(b"F2");

/// Writes `pages` of arranged labels as a PDF document.
pub(crate) fn document(pages: &[Vec<LabelArt>], layout: &SheetLayout) -> Vec<u8> {
    let g = layout.geometry();
    let (page_w, page_h) = (g.page_width_mm * PT_PER_MM, g.page_height_mm * PT_PER_MM);
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let regular_id = Ref::new(3);
    let bold_id = Ref::new(4);
    let info_id = Ref::new(5);
    // Each page takes two ids: the page object and its content stream.
    let page_ids: Vec<(Ref, Ref)> = (0..pages.len())
        .map(|i| {
            // Saturation is unreachable: a PDF cannot hold a billion pages anyway.
            let base = i32::try_from(i).unwrap_or(i32::MAX).saturating_mul(2).saturating_add(6);
            (Ref::new(base), Ref::new(base.saturating_add(1)))
        })
        .collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|&(page, _)| page))
        .count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));
    pdf.document_info(info_id).title(TextStr("Item labels")).producer(TextStr("salvage-node"));
    pdf.type1_font(regular_id).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold_id).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));

    for (labels, &(page_id, content_id)) in pages.iter().zip(&page_ids) {
        let mut page = pdf.page(page_id);
        page.parent(tree_id).media_box(Rect::new(0.0, 0.0, page_w as f32, page_h as f32)).contents(content_id);
        let mut resources = page.resources();
        resources.fonts().pair(REGULAR, regular_id).pair(BOLD, bold_id);
        resources.finish();
        page.finish();

        let mut content = Content::new();
        for (slot, art) in labels.iter().enumerate() {
            let (x, y) = layout.label_origin_mm(slot);
            draw(&mut content, art, x, y, page_h);
        }
        let raw = content.finish();
        let packed = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6);
        pdf.stream(content_id, &packed).filter(Filter::FlateDecode);
    }
    pdf.finish()
}

/// Draws one label whose top-left corner is at (`left`, `top`) mm on a page `page_h` points high.
fn draw(content: &mut Content, art: &LabelArt, left: f64, top: f64, page_h: f64) {
    // Page coordinates in points, y up, of a point given in label millimetres, y down.
    let at = |x: f64, y: f64| ((left + x) * PT_PER_MM, page_h - (top + y) * PT_PER_MM);

    let module_pt = art.qr_side * PT_PER_MM / art.qr.side_with_quiet_zone() as f64;
    let (qx, qy) = at(art.qr_x, art.qr_y);
    content.save_state();
    // Module units from the code's top-left corner, rows counting downwards,
    // so each run is an integer rectangle and the stream stays small.
    content.transform([module_pt as f32, 0.0, 0.0, -(module_pt as f32), qx as f32, qy as f32]);
    content.set_fill_gray(0.0);
    for run in art.qr.dark_runs() {
        content.rect(run.x as f32, run.y as f32, run.len as f32, 1.0);
    }
    content.fill_nonzero();
    content.restore_state();

    if art.lines.is_empty() {
        return;
    }
    content.begin_text();
    content.set_fill_gray(0.0);
    for line in &art.lines {
        let font = match line.weight {
            Weight::Regular => REGULAR,
            Weight::Bold => BOLD,
        };
        let (x, y) = at(line.x, line.baseline);
        content.set_font(font, (line.size * PT_PER_MM) as f32);
        content.set_text_matrix([1.0, 0.0, 0.0, 1.0, x as f32, y as f32]);
        content.show(Str(&win_ansi_bytes(&line.text)));
    }
    content.end_text();
}
