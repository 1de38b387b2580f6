//! Sheet geometry and the placement of everything on one label.
//!
//! All lengths here are millimetres, measured from the top-left corner (of
//! the page or of the label), y growing downwards as in SVG; the PDF writer
//! flips the y axis itself.

use super::text::{self, Breaks, TextStyle, Weight};
use super::{Label, LabelError, MIN_MODULE_MM};
use crate::qr::{QUIET_ZONE_MODULES, QrCode};

/// A description of label stock, in millimetres, to be checked by [`SheetLayout::new`].
///
/// Label vendors publish these numbers for each product: page size, label
/// size, the margins to the first label and the pitch (the distance from one
/// label's edge to the same edge of its neighbour, label plus gap).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SheetGeometry {
    /// Width of the page.
    pub page_width_mm: f64,
    /// Height of the page.
    pub page_height_mm: f64,
    /// Labels across the page.
    pub columns: u32,
    /// Labels down the page.
    pub rows: u32,
    /// Width of one label.
    pub label_width_mm: f64,
    /// Height of one label.
    pub label_height_mm: f64,
    /// Distance from the page's left edge to the first column's left edge.
    pub left_margin_mm: f64,
    /// Distance from the page's top edge to the first row's top edge.
    pub top_margin_mm: f64,
    /// Distance between the left edges of neighbouring columns.
    pub column_pitch_mm: f64,
    /// Distance between the top edges of neighbouring rows.
    pub row_pitch_mm: f64,
    /// Blank border kept inside every label, which also absorbs a printer's
    /// small misalignment with the die-cut labels.
    pub padding_mm: f64,
}

/// Checked label stock geometry: a grid of equal labels on equal pages.
///
/// On each label the QR code, quiet zone included, is a square as high as the
/// label less its padding, at the left; the text takes the rest of the width.
// INVARIANT: every length is finite, sizes and pitches are positive, margins
// and padding are not negative, labels do not overlap, the grid lies within
// the page, and the QR square and the text column are each at least
// `MIN_AREA_MM` wide.
#[derive(Clone, Debug, PartialEq)]
pub struct SheetLayout {
    geometry: SheetGeometry,
}

impl SheetLayout {
    /// A4 (210 × 297 mm) with 3 columns × 8 rows of 70 × 37 mm labels, edge to
    /// edge across and 0.5 mm from the top: Avery Zweckform 3474 and the many
    /// compatible "70 × 37, 24 per sheet" products. Labels keep 2.5 mm padding.
    pub fn a4_3x8_70x37() -> Self {
        Self {
            geometry: SheetGeometry {
                page_width_mm: 210.0,
                page_height_mm: 297.0,
                columns: 3,
                rows: 8,
                label_width_mm: 70.0,
                label_height_mm: 37.0,
                left_margin_mm: 0.0,
                top_margin_mm: 0.5,
                column_pitch_mm: 70.0,
                row_pitch_mm: 37.0,
                padding_mm: 2.5,
            },
        }
    }

    /// Checks `geometry` and keeps it.
    pub fn new(geometry: SheetGeometry) -> Result<Self, LabelError> {
        check(&geometry).map_err(|problem| LabelError::Layout { problem })?;
        Ok(Self { geometry })
    }

    /// The checked geometry.
    pub fn geometry(&self) -> &SheetGeometry {
        &self.geometry
    }

    /// How many labels one page holds.
    pub fn labels_per_page(&self) -> usize {
        self.geometry.columns as usize * self.geometry.rows as usize
    }

    /// How many pages `labels` labels need (0 for none).
    pub fn page_count(&self, labels: usize) -> usize {
        labels.div_ceil(self.labels_per_page())
    }

    /// Top-left corner `(x, y)` of the label in grid position `slot` on its
    /// page, counting from 0 left to right, then top to bottom; slots past
    /// the last one continue on the next page at the same places.
    pub fn label_origin_mm(&self, slot: usize) -> (f64, f64) {
        let g = &self.geometry;
        let slot = slot % self.labels_per_page();
        let columns = g.columns as usize;
        let (row, column) = (slot / columns, slot % columns);
        (g.left_margin_mm + column as f64 * g.column_pitch_mm, g.top_margin_mm + row as f64 * g.row_pitch_mm)
    }

    /// Side of the QR square on each label, quiet zone included.
    fn qr_side_mm(&self) -> f64 {
        self.geometry.label_height_mm - 2.0 * self.geometry.padding_mm
    }
}

impl Default for SheetLayout {
    /// The A4 3 × 8 stock of [`SheetLayout::a4_3x8_70x37`].
    fn default() -> Self {
        Self::a4_3x8_70x37()
    }
}

/// Which characters the text may keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Charset {
    /// Any Unicode (SVG).
    Unicode,
    /// Windows-1252 only, the rest transliterated (PDF standard fonts).
    WinAnsi,
}

/// Everything drawn on one label, relative to the label's top-left corner.
#[derive(Clone, Debug)]
pub(crate) struct LabelArt {
    /// The code to draw.
    pub(crate) qr: QrCode,
    /// Left edge of the QR square, quiet zone included.
    pub(crate) qr_x: f64,
    /// Top edge of the QR square, quiet zone included.
    pub(crate) qr_y: f64,
    /// Side of the QR square, quiet zone included.
    pub(crate) qr_side: f64,
    /// Lines of text, top to bottom.
    pub(crate) lines: Vec<TextLine>,
}

/// What a line of text on a label is, which the SVG names in its `class`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LineKind {
    /// The item's name.
    Name,
    /// The GIAI in GS1's human-readable form, `(8004) <giai>`.
    Giai,
    /// The consortium's name.
    Consortium,
    /// The EPC in hexadecimal, after `EPC `.
    EpcHex,
    /// The EPC tag URI.
    EpcTagUri,
    /// The Digital Link URI.
    Uri,
}

impl LineKind {
    /// The class of the SVG `<text>` elements of this kind, for programs that read labels back.
    pub(crate) fn class(self) -> &'static str {
        match self {
            LineKind::Name => "name",
            LineKind::Giai => "giai",
            LineKind::Consortium => "consortium",
            LineKind::EpcHex => "epc-hex",
            LineKind::EpcTagUri => "epc-tag-uri",
            LineKind::Uri => "uri",
        }
    }

    /// The weight the lines of this kind are set in: the name stands out.
    fn weight(self) -> Weight {
        match self {
            LineKind::Name => Weight::Bold,
            _ => Weight::Regular,
        }
    }
}

/// One line of text, placed on its baseline.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TextLine {
    /// Left end of the baseline.
    pub(crate) x: f64,
    /// Height of the baseline.
    pub(crate) baseline: f64,
    /// Font size (em height).
    pub(crate) size: f64,
    /// Font weight.
    pub(crate) weight: Weight,
    /// What the line is part of.
    pub(crate) kind: LineKind,
    /// The text, cleaned and (for WinAnsi) transliterated; not escaped.
    pub(crate) text: String,
}

/// Smallest side of the QR square and smallest width of the text column.
const MIN_AREA_MM: f64 = 10.0;

/// The QR square for which the text sizes below were chosen; text scales with it.
const REFERENCE_QR_MM: f64 = 32.0;

/// Distance between baselines, as a multiple of the font size.
const LINE_HEIGHT: f64 = 1.18;

/// Height of capitals above the baseline, as a multiple of the font size (Helvetica: 0.718).
const CAP_HEIGHT: f64 = 0.72;

/// Depth of descenders below the baseline, as a multiple of the font size (Helvetica: 0.207).
const DESCENT: f64 = 0.21;

/// Places the QR code and the text of `label` (at `index` in the caller's list).
pub(crate) fn arrange(
    label: &Label,
    index: usize,
    layout: &SheetLayout,
    charset: Charset,
) -> Result<LabelArt, LabelError> {
    let g = &layout.geometry;
    let qr = QrCode::encode(&label.uri).map_err(|source| LabelError::Qr { index, giai: label.giai.clone(), source })?;
    let qr_side = layout.qr_side_mm();
    let modules = qr.side_with_quiet_zone();
    let module_mm = qr_side / modules as f64;
    if module_mm < MIN_MODULE_MM {
        return Err(LabelError::QrTooDense { index, giai: label.giai.clone(), modules, module_mm });
    }

    let scale = qr_side / REFERENCE_QR_MM;
    let x = g.padding_mm + qr_side;
    let width = g.label_width_mm - x - g.padding_mm;
    // Align the text with the dark symbol rather than with its quiet zone,
    // as far as that leaves room for the longest text.
    let inset = (module_mm * QUIET_ZONE_MODULES as f64).min(3.0 * scale);
    let top = g.padding_mm + inset;
    let bottom = g.padding_mm + qr_side - inset;
    let prepare = |s: &str| match charset {
        Charset::Unicode => text::clean(s),
        Charset::WinAnsi => text::to_win_ansi_text(&text::clean(s)),
    };
    let style = |size: f64, min_size: f64, weight, breaks, max_lines| TextStyle {
        size: size * scale,
        min_size: min_size * scale,
        weight,
        breaks,
        max_lines,
    };

    let gap = 0.6 * scale;

    // The small print sits at the bottom: the URI in the last lines, the EPC
    // above it. It is placed first, so that the name knows how far down it may go.
    let mut small_print = Vec::new();
    let uri = text::fit(&prepare(&label.uri), style(1.6, 1.3, Weight::Regular, Breaks::Anywhere, 2), width);
    let mut ceiling = place_up(&mut small_print, &uri, LineKind::Uri, x, bottom);
    if let Some(epc) = &label.epc {
        let epc_style = style(1.4, 1.15, Weight::Regular, Breaks::Anywhere, 3);
        // A cut identifier is worse than none: it would name another tag.
        let tag_uri = text::fit(&prepare(&epc.tag_uri), epc_style, width);
        let hex = text::fit(&format!("EPC {}", prepare(&epc.hex)), epc_style, width);
        if tag_uri.truncated || hex.truncated {
            return Err(LabelError::EpcDoesNotFit { index, giai: label.giai.clone() });
        }
        ceiling = place_up(&mut small_print, &tag_uri, LineKind::EpcTagUri, x, ceiling - gap);
        ceiling = place_up(&mut small_print, &hex, LineKind::EpcHex, x, ceiling - gap);
    }

    // The name may take three lines, fewer when the small print needs the room;
    // the GIAI is never cut short: it is the identifier people type in.
    let mut lines = Vec::new();
    for name_lines in (1..=3).rev() {
        lines.clear();
        let name = text::fit(&prepare(&label.name), style(3.0, 2.4, Weight::Bold, Breaks::Words, name_lines), width);
        let mut cursor = place_down(&mut lines, &name, LineKind::Name, x, top, gap);
        let giai = prepare(&label.giai);
        if !giai.is_empty() {
            // GS1's human-readable form: the application identifier in parentheses.
            let hri = format!("(8004) {giai}");
            let one_line = text::fit(&hri, style(2.6, 2.1, Weight::Regular, Breaks::Anywhere, 1), width);
            let fitted = if one_line.truncated {
                text::fit(&hri, style(2.6, 2.1, Weight::Regular, Breaks::Anywhere, 2), width)
            } else {
                one_line
            };
            cursor = place_down(&mut lines, &fitted, LineKind::Giai, x, cursor, gap);
        }
        let consortium =
            text::fit(&prepare(&label.consortium), style(2.2, 1.9, Weight::Regular, Breaks::Words, 1), width);
        place_down(&mut lines, &consortium, LineKind::Consortium, x, cursor, gap);
        let ink_bottom = lines.last().map_or(top, |line| line.baseline + DESCENT * line.size);
        // Without an EPC the layout is the one labels always had, whatever its length.
        if label.epc.is_none() || ink_bottom + gap <= ceiling {
            lines.append(&mut small_print);
            return Ok(LabelArt { qr, qr_x: g.padding_mm, qr_y: g.padding_mm, qr_side, lines });
        }
    }
    Err(LabelError::EpcDoesNotFit { index, giai: label.giai.clone() })
}

/// Places a fitted block below `cursor` and returns where the next block starts.
fn place_down(
    lines: &mut Vec<TextLine>,
    block: &text::FittedText,
    kind: LineKind,
    x: f64,
    cursor: f64,
    gap: f64,
) -> f64 {
    if block.lines.is_empty() {
        return cursor;
    }
    for (i, line) in block.lines.iter().enumerate() {
        lines.push(TextLine {
            x,
            baseline: cursor + CAP_HEIGHT * block.size + i as f64 * LINE_HEIGHT * block.size,
            size: block.size,
            weight: kind.weight(),
            kind,
            text: line.clone(),
        });
    }
    cursor + block.lines.len() as f64 * LINE_HEIGHT * block.size + gap
}

/// Places a fitted block so that its last line's descenders end at `floor`,
/// in front of the lines placed so far (which lie below it), and returns the
/// top of its first line's capitals.
fn place_up(lines: &mut Vec<TextLine>, block: &text::FittedText, kind: LineKind, x: f64, floor: f64) -> f64 {
    let count = block.lines.len();
    let placed = block.lines.iter().enumerate().map(|(i, line)| {
        let from_bottom = (count - 1 - i) as f64;
        TextLine {
            x,
            baseline: floor - DESCENT * block.size - from_bottom * LINE_HEIGHT * block.size,
            size: block.size,
            weight: kind.weight(),
            kind,
            text: line.clone(),
        }
    });
    let placed: Vec<TextLine> = placed.collect();
    let top = placed.first().map_or(floor, |first| first.baseline - CAP_HEIGHT * block.size);
    lines.splice(0..0, placed);
    top
}

/// Says what is wrong with `g`, if anything.
fn check(g: &SheetGeometry) -> Result<(), String> {
    let lengths = [
        ("page width", g.page_width_mm),
        ("page height", g.page_height_mm),
        ("label width", g.label_width_mm),
        ("label height", g.label_height_mm),
        ("column pitch", g.column_pitch_mm),
        ("row pitch", g.row_pitch_mm),
    ];
    for (what, value) in lengths {
        if !value.is_finite() || value <= 0.0 {
            return Err(format!("the {what} is {value} mm; it must be a positive number"));
        }
    }
    let offsets = [("left margin", g.left_margin_mm), ("top margin", g.top_margin_mm), ("padding", g.padding_mm)];
    for (what, value) in offsets {
        if !value.is_finite() || value < 0.0 {
            return Err(format!("the {what} is {value} mm; it must be zero or positive"));
        }
    }
    if g.columns == 0 || g.rows == 0 || u64::from(g.columns) * u64::from(g.rows) > 10_000 {
        return Err(format!(
            "{} columns × {} rows is not a usable grid (1 to 10,000 labels per page)",
            g.columns, g.rows
        ));
    }
    if g.column_pitch_mm < g.label_width_mm || g.row_pitch_mm < g.label_height_mm {
        return Err("the pitch is smaller than the label, so neighbouring labels would overlap".to_owned());
    }
    // A hundredth of a millimetre of slack absorbs rounding in vendors' figures.
    let right = g.left_margin_mm + f64::from(g.columns - 1) * g.column_pitch_mm + g.label_width_mm;
    let bottom = g.top_margin_mm + f64::from(g.rows - 1) * g.row_pitch_mm + g.label_height_mm;
    if right > g.page_width_mm + 0.01 || bottom > g.page_height_mm + 0.01 {
        return Err(format!(
            "the grid reaches {right} mm across and {bottom} mm down, beyond the {} × {} mm page",
            g.page_width_mm, g.page_height_mm
        ));
    }
    let qr_side = g.label_height_mm - 2.0 * g.padding_mm;
    let text_width = g.label_width_mm - 2.0 * g.padding_mm - qr_side;
    if qr_side < MIN_AREA_MM || text_width < MIN_AREA_MM {
        return Err(format!(
            "a {} × {} mm label with {} mm padding leaves a {qr_side:.1} mm QR square and a \
             {text_width:.1} mm text column; each needs at least {MIN_AREA_MM} mm",
            g.label_width_mm, g.label_height_mm, g.padding_mm
        ));
    }
    Ok(())
}
