//! QR codes that carry an item's GS1 Digital Link URI.
//!
//! Every item label carries a QR code whose content is the item's Digital Link
//! URI (`https://<resolver>/8004/<giai>`), so that a buyer's phone opens the
//! item's provenance page without an app. The codes are made to be printed on
//! labels that live on building sites, so they always use error correction
//! level M (about 15 % of the symbol may be damaged and the code still reads,
//! the level GS1 recommends for Digital Link) and always keep the 4-module
//! light margin ("quiet zone") that ISO/IEC 18004 requires around the symbol:
//! scanners fail on codes printed hard against other ink.
//!
//! [`QrCode`] holds the module matrix; [`QrCode::to_svg`] and
//! [`QrCode::to_png`] render it, and [`qr_svg`] / [`qr_png`] do both steps at
//! once. The label sheets in [`crate::labels`] draw the same matrix into their
//! own SVG and PDF pages.

use std::fmt::Write as _;

use image::ImageEncoder as _;
use image::codecs::png::PngEncoder;
use qrcode::EcLevel;

/// Width of the light margin around every symbol, in modules (ISO/IEC 18004).
pub const QUIET_ZONE_MODULES: usize = 4;

/// Largest module size [`QrCode::to_png`] and [`QrCode::to_svg`] accept, in pixels.
///
/// A version 40 symbol at this size is 7,400 pixels square; anything larger
/// is a mistake that would only allocate memory.
pub const MAX_MODULE_PX: u32 = 40;

/// Longest URI, in bytes, that always fits a QR code at error correction level M.
///
/// This is the byte-mode capacity of a version 40 symbol at level M. URIs made
/// mostly of digits or upper-case letters can be somewhat longer, because the
/// encoder then switches to denser modes.
pub const MAX_URI_BYTES: usize = 2331;

/// Why a QR code could not be made or rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The URI is empty: a code that carries nothing would send a buyer nowhere.
    #[error("cannot make a QR code for an empty URI")]
    EmptyUri,
    /// The URI does not fit into the largest QR code at error correction level M.
    #[error(
        "the URI is {bytes} bytes long, too long for a QR code at error correction level M \
         (at most {MAX_URI_BYTES} bytes fit)"
    )]
    TooLong {
        /// Length of the refused URI in bytes.
        bytes: usize,
    },
    /// The encoder refused the URI for a reason other than its length.
    #[error("the QR encoder refused the URI: {0}")]
    Encoder(#[source] qrcode::types::QrError),
    /// A module size of zero or above [`MAX_MODULE_PX`] pixels was asked for.
    #[error("a module size of {module_px} px was asked for; it must be 1 to {MAX_MODULE_PX} px")]
    ModuleSize {
        /// The refused module size in pixels.
        module_px: u32,
    },
    /// The PNG encoder failed.
    #[error("encoding the QR code as PNG failed: {0}")]
    Png(#[source] image::ImageError),
}

/// The module matrix of one QR code at error correction level M.
///
/// Coordinates used by [`QrCode::is_dark`] count modules from the top-left
/// corner of the *rendered* square, quiet zone included, so that every
/// renderer places modules the same way.
// INVARIANT: `dark.len() == width * width`, and `width` is the side of a
// regular QR symbol (21 to 177 modules) made at error correction level M.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrCode {
    width: usize,
    dark: Vec<bool>,
}

impl QrCode {
    /// Encodes `uri` as the smallest QR code that holds it at error correction level M.
    ///
    /// The encoder picks numeric, alphanumeric and byte segments to keep the
    /// symbol small; every QR decoder reads the mixed segments back as the
    /// same text.
    pub fn encode(uri: &str) -> Result<Self, QrError> {
        if uri.is_empty() {
            return Err(QrError::EmptyUri);
        }
        let code = qrcode::QrCode::with_error_correction_level(uri, EcLevel::M).map_err(|e| match e {
            qrcode::types::QrError::DataTooLong => QrError::TooLong { bytes: uri.len() },
            other => QrError::Encoder(other),
        })?;
        // The automatic constructor makes only regular symbols (versions 1 to
        // 40); checking the side anyway keeps the type's invariant local.
        let width = code.width();
        if !(21..=177).contains(&width) || (width - 17) % 4 != 0 {
            return Err(QrError::Encoder(qrcode::types::QrError::InvalidVersion));
        }
        let dark: Vec<bool> = code.into_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
        Ok(Self { width, dark })
    }

    /// Side of the symbol in modules, without the quiet zone (21 to 177).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Side of the rendered square in modules: the symbol plus a quiet zone on each side.
    pub fn side_with_quiet_zone(&self) -> usize {
        self.width + 2 * QUIET_ZONE_MODULES
    }

    /// QR version of the symbol (1 to 40); it grows with the length of the URI.
    pub fn version(&self) -> u8 {
        // A version-v symbol is 17 + 4v modules wide; the invariant keeps v in 1..=40.
        ((self.width - 17) / 4) as u8
    }

    /// Whether the module at column `x`, row `y` of the rendered square is dark.
    ///
    /// Coordinates include the quiet zone, so everything within
    /// [`QUIET_ZONE_MODULES`] of the edge, and everything outside the square,
    /// is light.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        let (Some(sx), Some(sy)) = (x.checked_sub(QUIET_ZONE_MODULES), y.checked_sub(QUIET_ZONE_MODULES)) else {
            return false;
        };
        if sx >= self.width || sy >= self.width {
            return false;
        }
        self.dark.get(sy * self.width + sx).copied().unwrap_or(false)
    }

    /// Renders the code as a standalone SVG document.
    ///
    /// The `viewBox` counts modules (quiet zone included) so the drawing stays
    /// exact at any size; `width` and `height` make it `module_px` pixels per
    /// module by default. All dark modules form one `<path>` drawn with
    /// `shape-rendering="crispEdges"`, over a white square so that the quiet
    /// zone stays light on any background.
    pub fn to_svg(&self, module_px: u32) -> Result<String, QrError> {
        check_module_px(module_px)?;
        let side = self.side_with_quiet_zone();
        let px = side * module_px as usize;
        let mut svg = String::with_capacity(64 * side + 400);
        let _ = write!(
            svg,
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?>"#,
                "\n",
                r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{px}" height="{px}" "#,
                r#"viewBox="0 0 {side} {side}" shape-rendering="crispEdges">"#,
                r##"<rect width="{side}" height="{side}" fill="#ffffff"/>"##,
                r##"<path fill="#000000" d="{path}"/></svg>"##,
                "\n"
            ),
            px = px,
            side = side,
            path = self.svg_path_data()
        );
        Ok(svg)
    }

    /// Renders the code as an 8-bit grayscale PNG, black modules on white.
    ///
    /// Each module is `module_px` × `module_px` pixels, so the image is
    /// `side_with_quiet_zone() * module_px` pixels square.
    pub fn to_png(&self, module_px: u32) -> Result<Vec<u8>, QrError> {
        check_module_px(module_px)?;
        let scale = module_px as usize;
        let side_px = self.side_with_quiet_zone() * scale;
        let mut pixels = Vec::with_capacity(side_px * side_px);
        let mut row = Vec::with_capacity(side_px);
        for y in 0..self.side_with_quiet_zone() {
            row.clear();
            for x in 0..self.side_with_quiet_zone() {
                let shade = if self.is_dark(x, y) { 0u8 } else { 255u8 };
                row.extend(std::iter::repeat_n(shade, scale));
            }
            for _ in 0..scale {
                pixels.extend_from_slice(&row);
            }
        }
        // `side_px` is at most 185 modules × MAX_MODULE_PX, far below u32::MAX.
        let side = u32::try_from(side_px).map_err(|_| QrError::ModuleSize { module_px })?;
        let mut png = Vec::new();
        PngEncoder::new(&mut png)
            .write_image(&pixels, side, side, image::ExtendedColorType::L8)
            .map_err(QrError::Png)?;
        Ok(png)
    }

    /// Path data (`d` attribute) that covers every dark module, in module units
    /// of the rendered square (quiet zone included).
    ///
    /// Each horizontal run of dark modules becomes one closed rectangle
    /// `M x,y h len v1 h -len z`, which keeps the path short and lets
    /// renderers fill it without seams between modules.
    pub(crate) fn svg_path_data(&self) -> String {
        let mut d = String::with_capacity(16 * self.width * self.width / 4);
        for run in self.dark_runs() {
            let _ = write!(d, "M{},{}h{}v1h-{}z", run.x, run.y, run.len, run.len);
        }
        d
    }

    /// Horizontal runs of dark modules, row by row, in coordinates of the
    /// rendered square (quiet zone included).
    pub(crate) fn dark_runs(&self) -> Vec<ModuleRun> {
        let mut runs = Vec::new();
        for (sy, row) in self.dark.chunks(self.width).enumerate() {
            let mut start = None;
            for (sx, &dark) in row.iter().chain(std::iter::once(&false)).enumerate() {
                match (dark, start) {
                    (true, None) => start = Some(sx),
                    (false, Some(first)) => {
                        runs.push(ModuleRun {
                            x: first + QUIET_ZONE_MODULES,
                            y: sy + QUIET_ZONE_MODULES,
                            len: sx - first,
                        });
                        start = None;
                    }
                    _ => {}
                }
            }
        }
        runs
    }
}

/// Encodes `uri` at error correction level M and renders it as SVG with
/// `module_px` pixels per module; see [`QrCode::to_svg`].
pub fn qr_svg(uri: &str, module_px: u32) -> Result<String, QrError> {
    QrCode::encode(uri)?.to_svg(module_px)
}

/// Encodes `uri` at error correction level M and renders it as an 8-bit
/// grayscale PNG with `module_px` pixels per module; see [`QrCode::to_png`].
pub fn qr_png(uri: &str, module_px: u32) -> Result<Vec<u8>, QrError> {
    QrCode::encode(uri)?.to_png(module_px)
}

/// A horizontal run of dark modules: `len` modules starting at column `x` of row `y`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ModuleRun {
    /// Column of the first dark module, quiet zone included.
    pub(crate) x: usize,
    /// Row of the run, quiet zone included.
    pub(crate) y: usize,
    /// Number of adjacent dark modules.
    pub(crate) len: usize,
}

/// Refuses module sizes that would draw nothing or allocate absurd images.
fn check_module_px(module_px: u32) -> Result<(), QrError> {
    if module_px == 0 || module_px > MAX_MODULE_PX {
        return Err(QrError::ModuleSize { module_px });
    }
    Ok(())
}

#[cfg(test)]
// Unwrapping is how a test states "this must succeed": a panic fails the test at that line.
#[allow(clippy::unwrap_used)]
mod tests;
