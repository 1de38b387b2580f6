//! Printable item labels: a QR code with the item's identity beside it.
//!
//! A contractor who dismantles a building registers hundreds of items at once
//! and must stick a label on each before it leaves the site. A [`Label`] shows
//! the item's QR code (its Digital Link URI, see [`crate::qr`]) and, for people
//! without a phone, the GIAI in GS1's human-readable form `(8004) <giai>`,
//! the item's name, the consortium's name and the URI in small print. A
//! label for an item with an RFID tag also shows, in small print, the EPC the
//! tag carries (GS1 EPC Tag Data Standard): the binary EPC in hexadecimal, as
//! a reader reports it, and the EPC tag URI, so that someone with a reader can
//! check that the tag and the printed label name the same item.
//!
//! Labels are laid out on sheets of office label stock described by a
//! [`SheetLayout`]; the default is A4 with 3 × 8 labels of 70 × 37 mm
//! (Avery Zweckform 3474 and its equivalents). [`sheet_pdf`] makes one PDF
//! with as many pages as needed, ready to print at 100 % scale; [`sheet_svg`]
//! makes one SVG per page and [`label_svg`] a single label, e.g. for a preview
//! in a browser. [`sheet_zpl`] writes the same labels as ZPL II for a
//! thermal RFID printer-encoder, which writes each label's EPC into its tag
//! as it prints the label.
//!
//! Text is cleaned (control characters dropped, whitespace collapsed),
//! escaped for XML, and fitted to the label: long names wrap onto three
//! lines, then shrink a little, and are finally cut short with `…`. The PDF
//! uses the standard Helvetica font, which has only the Windows-1252
//! ("WinAnsi") characters, so other letters are transliterated to ASCII in the
//! PDF only (`Ķieģeļi` prints as `Kiegeli`); the SVG keeps every character.

mod layout;
mod pdf;
mod svg;
mod text;
mod zpl;

pub use layout::{SheetGeometry, SheetLayout};
pub use zpl::{ZplOptions, sheet_zpl};

use salvage_ledger::ident::TagEncoding;

use crate::qr::QrError;

/// Smallest printed QR module, in millimetres, that a phone camera reads
/// reliably from a typical distance; denser codes are refused.
pub const MIN_MODULE_MM: f64 = 0.25;

/// What one label shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Label {
    /// The item's GIAI (AI 8004), printed as `(8004) <giai>` under its name.
    pub giai: String,
    /// The item's human name from its passport, e.g. `Steel beam HEA 200`.
    pub name: String,
    /// The name of the consortium whose ledger records the item.
    pub consortium: String,
    /// The item's GS1 Digital Link URI: the QR code's content, also printed in small print.
    pub uri: String,
    /// The EPC the item's RFID tag carries, printed in small print above the
    /// URI; `None` prints no EPC (the item's company prefix is not known, so
    /// where its GIAI splits cannot be told).
    pub epc: Option<LabelEpc>,
}

/// The EPC of an item's RFID tag, as a label prints it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelEpc {
    /// The binary EPC in uppercase hexadecimal, as a reader reports it
    /// (24 digits for GIAI-96, 52 for GIAI-202).
    pub hex: String,
    /// The EPC tag URI, e.g. `urn:epc:tag:giai-96:0.4750001.17`.
    pub tag_uri: String,
}

impl LabelEpc {
    /// What a label prints of `tag`.
    pub fn of(tag: &TagEncoding) -> LabelEpc {
        LabelEpc { hex: tag.to_hex(), tag_uri: tag.to_tag_uri() }
    }
}

/// Why labels could not be laid out or drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// No labels were given; an empty print job is almost always a mistake upstream.
    #[error("no labels to print: the list of labels is empty")]
    NoLabels,
    /// The sheet geometry cannot hold labels: something is negative, does not fit the page, or is too small.
    #[error("the sheet layout cannot be used: {problem}")]
    Layout {
        /// What is wrong with the geometry, in words.
        problem: String,
    },
    /// The QR code of one label could not be made, e.g. because its URI is empty or too long.
    #[error("label {index} (GIAI {giai:?}): {source}")]
    Qr {
        /// Position of the label in the list given, from 0.
        index: usize,
        /// The label's GIAI, to find it again.
        giai: String,
        /// Why the encoder refused the URI.
        #[source]
        source: QrError,
    },
    /// The URI needs so many modules that they would print smaller than [`MIN_MODULE_MM`].
    #[error(
        "label {index} (GIAI {giai:?}): its QR code is {modules} modules wide, which prints \
         {module_mm:.2} mm per module on this label; phones need at least {MIN_MODULE_MM} mm, \
         so shorten the URI or use larger labels"
    )]
    QrTooDense {
        /// Position of the label in the list given, from 0.
        index: usize,
        /// The label's GIAI, to find it again.
        giai: String,
        /// Side of the code in modules, quiet zone included.
        modules: usize,
        /// Side of one module as it would print, in millimetres.
        module_mm: f64,
    },
    /// The label's EPC does not fit beside its QR code, even with the name on one line;
    /// an EPC is never cut short, since a part of one would name another tag.
    #[error(
        "label {index} (GIAI {giai:?}): its EPC does not fit beside the QR code on labels of \
         this size; use larger labels"
    )]
    EpcDoesNotFit {
        /// Position of the label in the list given, from 0.
        index: usize,
        /// The label's GIAI, to find it again.
        giai: String,
    },
    /// A ZPL option is out of the range printers accept.
    #[error("the ZPL output cannot be made: {problem}")]
    Zpl {
        /// What is wrong, in words.
        problem: String,
    },
}

/// Draws one label as a standalone SVG document, sized in millimetres to the
/// labels of `layout`.
pub fn label_svg(label: &Label, layout: &SheetLayout) -> Result<String, LabelError> {
    let art = layout::arrange(label, 0, layout, layout::Charset::Unicode)?;
    Ok(svg::single(&art, layout))
}

/// Lays `labels` out on as many sheets as needed, in reading order (left to
/// right, top to bottom), and draws each sheet as an SVG document in
/// millimetres.
pub fn sheet_svg(labels: &[Label], layout: &SheetLayout) -> Result<Vec<String>, LabelError> {
    let pages = arrange_pages(labels, layout, layout::Charset::Unicode)?;
    Ok(pages.iter().map(|page| svg::page(page, layout)).collect())
}

/// Lays `labels` out like [`sheet_svg`] and writes one PDF with a page per
/// sheet, vector QR codes and standard Helvetica text (see the module
/// documentation for how non-WinAnsi letters are transliterated).
pub fn sheet_pdf(labels: &[Label], layout: &SheetLayout) -> Result<Vec<u8>, LabelError> {
    let pages = arrange_pages(labels, layout, layout::Charset::WinAnsi)?;
    Ok(pdf::document(&pages, layout))
}

/// Arranges every label and groups the results by page.
fn arrange_pages(
    labels: &[Label],
    layout: &SheetLayout,
    charset: layout::Charset,
) -> Result<Vec<Vec<layout::LabelArt>>, LabelError> {
    if labels.is_empty() {
        return Err(LabelError::NoLabels);
    }
    let per_page = layout.labels_per_page();
    let mut pages: Vec<Vec<layout::LabelArt>> = Vec::with_capacity(layout.page_count(labels.len()));
    for (index, label) in labels.iter().enumerate() {
        if index % per_page == 0 {
            pages.push(Vec::with_capacity(per_page));
        }
        let art = layout::arrange(label, index, layout, charset)?;
        if let Some(page) = pages.last_mut() {
            page.push(art);
        }
    }
    Ok(pages)
}

#[cfg(test)]
// Unwrapping is how a test states "this must succeed": a panic fails the test at that line.
#[allow(clippy::unwrap_used)]
mod tests;
