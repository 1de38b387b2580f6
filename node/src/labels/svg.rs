//! Labels and label sheets as SVG documents in millimetres.

use std::fmt::Write as _;

use super::layout::{LabelArt, SheetLayout};
use super::text::{Weight, escape_xml, number, width_mm};

/// Fonts named in the SVG: Helvetica, or a font with the same widths (Arial,
/// Liberation Sans, Nimbus Sans), else any sans-serif.
const FONT_FAMILY: &str = "Helvetica, Arial, &apos;Liberation Sans&apos;, &apos;Nimbus Sans&apos;, sans-serif";

/// One page of a sheet: every label of the page at its grid position.
pub(crate) fn page(labels: &[LabelArt], layout: &SheetLayout) -> String {
    let g = layout.geometry();
    let mut svg = String::new();
    open(&mut svg, g.page_width_mm, g.page_height_mm);
    for (slot, art) in labels.iter().enumerate() {
        let (x, y) = layout.label_origin_mm(slot);
        let _ = write!(svg, r#"<g class="label" transform="translate({} {})">"#, number(x), number(y));
        draw(&mut svg, art);
        svg.push_str("</g>\n");
    }
    svg.push_str("</svg>\n");
    svg
}

/// A single label the size of the layout's labels.
pub(crate) fn single(art: &LabelArt, layout: &SheetLayout) -> String {
    let g = layout.geometry();
    let mut svg = String::new();
    open(&mut svg, g.label_width_mm, g.label_height_mm);
    svg.push_str(r#"<g class="label">"#);
    draw(&mut svg, art);
    svg.push_str("</g>\n</svg>\n");
    svg
}

/// Starts a document `width` × `height` millimetres, white, with one user unit per millimetre.
fn open(svg: &mut String, width: f64, height: f64) {
    let (w, h) = (number(width), number(height));
    let _ = write!(
        svg,
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            "\n",
            r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}" "#,
            r#"font-family="{font}">"#,
            "\n",
            r##"<rect width="{w}" height="{h}" fill="#ffffff"/>"##,
            "\n"
        ),
        w = w,
        h = h,
        font = FONT_FAMILY
    );
}

/// Draws one label's QR code and text, relative to the label's corner.
fn draw(svg: &mut String, art: &LabelArt) {
    let side = art.qr.side_with_quiet_zone();
    // A nested viewport in module units keeps the path exact and short.
    let _ = write!(
        svg,
        r##"<svg x="{}" y="{}" width="{s}" height="{s}" viewBox="0 0 {m} {m}" shape-rendering="crispEdges"><path fill="#000000" d="{}"/></svg>"##,
        number(art.qr_x),
        number(art.qr_y),
        art.qr.svg_path_data(),
        s = number(art.qr_side),
        m = side
    );
    // Each line is stretched or squeezed to the width it has in Helvetica, so
    // that a viewer which substitutes a wider font still keeps the text inside
    // the label; with Helvetica or a metric clone nothing changes.
    for line in &art.lines {
        let weight = match line.weight {
            Weight::Regular => "",
            Weight::Bold => r#" font-weight="bold""#,
        };
        let _ = write!(
            svg,
            r#"<text class="{}" x="{}" y="{}" font-size="{}"{weight} textLength="{}" lengthAdjust="spacingAndGlyphs">{}</text>"#,
            line.kind.class(),
            number(line.x),
            number(line.baseline),
            number(line.size),
            number(width_mm(&line.text, line.weight, line.size)),
            escape_xml(&line.text)
        );
    }
}
