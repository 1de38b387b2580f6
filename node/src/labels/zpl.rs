//! Labels as ZPL II, for thermal RFID printer-encoders (Zebra's printer language).
//!
//! A printer-encoder writes each label's EPC into the RFID inlay inside the
//! label while it prints the label, so tag and print always name the same item.
//! Each label is one format, `^XA` … `^XZ`:
//!
//! - `^CI28`: field data is UTF-8; `^PW`/`^LL`: the label's width and length in dots;
//! - `^RFW,H,,,A^FD<hex>^FS`: write (`W`) the EPC given in hexadecimal (`H`) into
//!   the EPC memory bank, adjusting the PC word's length bits to it (`A`), so that
//!   a 208-bit GIAI-202 is read back whole as well as a GIAI-96; with `A` the
//!   printer starts at word 2, after the CRC and the PC (Zebra's ZPL
//!   Programming Guide, `^RF`). A label without an EPC gets no `^RF` and is only printed;
//! - `^BQN,2,<m>,M^FDMA,<uri>^FS`: a model 2 QR code of the Digital Link URI at error
//!   correction level M (`MA,`: level M, automatic input), the level of the sheets,
//!   `m` dots per module, placed so that the 4-module quiet zone stays blank;
//! - the text lines of the sheets' layout (name, GIAI, consortium, EPC, URI), each at
//!   its baseline (`^FT`) in the printer's scalable font 0, which is narrower than
//!   the Helvetica the layout measures with, so every line still fits.
//!
//! Field data goes through `^FH` (hexadecimal escapes with `_`), so that `^`, `~`
//! and `_` in a name cannot end the field or start a command.

use std::fmt::Write as _;

use super::layout::{self, Charset, LabelArt, SheetLayout};
use super::{Label, LabelError};
use crate::qr::QUIET_ZONE_MODULES;

/// The printer's resolution and what it prints on.
#[derive(Clone, Debug, PartialEq)]
pub struct ZplOptions {
    /// Printer dots per millimetre: 8 (203 dpi), 12 (300 dpi) or 24 (600 dpi).
    pub dots_per_mm: u32,
    /// The label stock: only the label's size and padding are used, one label per format.
    pub layout: SheetLayout,
}

impl Default for ZplOptions {
    /// A 203 dpi printer and labels of the sheets' size (70 × 37 mm).
    fn default() -> Self {
        ZplOptions { dots_per_mm: 8, layout: SheetLayout::default() }
    }
}

/// Largest QR magnification `^BQ` accepts, in dots per module.
const MAX_MAGNIFICATION: usize = 10;

/// Writes `labels` as one ZPL II document, a format (`^XA` … `^XZ`) per label.
pub fn sheet_zpl(labels: &[Label], options: &ZplOptions) -> Result<String, LabelError> {
    if labels.is_empty() {
        return Err(LabelError::NoLabels);
    }
    if ![8, 12, 24].contains(&options.dots_per_mm) {
        return Err(LabelError::Zpl {
            problem: format!(
                "{} dots per millimetre is no printer's resolution; use 8 (203 dpi), 12 (300 dpi) or 24 (600 dpi)",
                options.dots_per_mm
            ),
        });
    }
    let mut zpl = String::new();
    for (index, label) in labels.iter().enumerate() {
        let art = layout::arrange(label, index, &options.layout, Charset::WinAnsi)?;
        format(&mut zpl, label, &art, options)?;
    }
    Ok(zpl)
}

/// Appends the format of one label.
fn format(zpl: &mut String, label: &Label, art: &LabelArt, options: &ZplOptions) -> Result<(), LabelError> {
    let dpmm = f64::from(options.dots_per_mm);
    let dots = |mm: f64| (mm * dpmm).round().max(0.0) as u64;
    let g = options.layout.geometry();
    let _ = write!(zpl, "^XA\n^CI28\n^PW{}\n^LL{}\n^LH0,0\n", dots(g.label_width_mm), dots(g.label_height_mm));
    if let Some(epc) = &label.epc {
        // Only hexadecimal digits reach a tag: anything else would be written as garbage.
        if epc.hex.is_empty() || !epc.hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(LabelError::Zpl {
                problem: format!("label GIAI {:?}: EPC {:?} is not hexadecimal", label.giai, epc.hex),
            });
        }
        let _ = writeln!(zpl, "^RFW,H,,,A^FD{}^FS", epc.hex.to_ascii_uppercase());
    }
    // Whole dots per module, as large as the square of the sheets' layout allows.
    let modules = art.qr.side_with_quiet_zone();
    let side_dots = usize::try_from(dots(art.qr_side)).unwrap_or(usize::MAX);
    let magnification = (side_dots / modules).min(MAX_MAGNIFICATION);
    if magnification == 0 {
        return Err(LabelError::Zpl {
            problem: format!(
                "label GIAI {:?}: its QR code is {modules} modules wide, more than the {side_dots} dots of its square",
                label.giai
            ),
        });
    }
    let quiet = (QUIET_ZONE_MODULES * magnification) as u64;
    let _ = writeln!(
        zpl,
        "^FO{},{}^BQN,2,{magnification},M^FH^FDMA,{}^FS",
        dots(art.qr_x) + quiet,
        dots(art.qr_y) + quiet,
        escape(&label.uri)
    );
    for line in &art.lines {
        let height = dots(line.size).max(1);
        let _ = writeln!(
            zpl,
            "^FT{},{}^A0N,{height},{height}^FH^FD{}^FS",
            dots(line.x),
            dots(line.baseline),
            escape(&line.text)
        );
    }
    zpl.push_str("^XZ\n");
    Ok(())
}

/// Field data with `^FH`'s escapes: `_`, `^` and `~` as `_XX`; control characters are dropped
/// (a label has no use for them, and a printer may act on them).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '_' | '^' | '~' => {
                let _ = write!(out, "_{:02X}", u32::from(c));
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}
