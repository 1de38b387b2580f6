//! Photos' metadata, removed before upload.
//!
//! An attachment is public once a passport names it, and a phone's photo says more than what it
//! shows: where it was taken (Exif GPS, XMP), the camera's and lens's serial numbers, the owner's
//! name, editing history, and sometimes whole other pictures (the Exif thumbnail, from before a
//! crop; the MPF images phones append after the photo). `salvage attach` removes all of it
//! without re-encoding a pixel: the container is rewritten, keeping only what is needed to show
//! the picture as taken: its pixels, its colour profile (ICC) and which way up it goes (Exif
//! Orientation, written back as a minimal Exif of that one tag).
//!
//! What is kept is listed, not what is removed, so that a kind of metadata this file does not
//! know of is removed too:
//!
//! - **JPEG**: every segment but application segments and comments, plus APP0 JFIF (without the
//!   thumbnail it may hold), APP2 ICC_PROFILE and APP14 Adobe (it says how the colours are
//!   coded). The file ends with the first image's EOI: whatever follows (MPF images, with their
//!   own Exif) is dropped.
//! - **PNG**: the critical chunks and those that say how the pixels look (`tRNS`, `gAMA`, `cHRM`,
//!   `sRGB`, `iCCP`, `cICP`, `mDCV`, `cLLI`, `sBIT`, `bKGD`, `pHYs`) or move (APNG's `acTL`,
//!   `fcTL`, `fdAT`); `eXIf`, `tEXt`, `zTXt`, `iTXt`, `tIME` and any other chunk go.
//! - **WebP**: `VP8X`, `ICCP`, `ANIM`, `ANMF`, `ALPH`, `VP8 `, `VP8L`; `EXIF`, `XMP ` and any
//!   other chunk go, and VP8X's Exif and XMP flags are cleared.
//!
//! The minimal Exif is a big-endian TIFF header and an IFD0 of one entry (tag 0x0112, SHORT).
//! A JPEG's APP1 starts it with `Exif\0\0`, as the JPEG Exif specification has it; a PNG's
//! `eXIf` chunk and a WebP's `EXIF` chunk hold the TIFF header itself, as theirs do (and as
//! readers of them, the `image` crate among them, expect).

use img_parts::jpeg::{Jpeg, JpegSegment, markers};
use img_parts::png::{Png, PngChunk};
use img_parts::riff::RiffContent;
use img_parts::webp::WebP;
use img_parts::{Bytes, ImageEXIF};
use salvage_ledger::attachment::MediaType;

/// Why an image's metadata could not be removed: its container is malformed (truncated, a bad
/// chunk checksum, a segment running past the end). It is not uploaded as it is, since what it
/// carries cannot be known.
#[derive(Debug, thiserror::Error)]
#[error("the {media_type} file is malformed, so its metadata cannot be removed: {reason}")]
pub struct StripError {
    /// The media type the file was taken for.
    pub media_type: MediaType,
    /// What is wrong with it.
    pub reason: String,
}

/// The image with its metadata removed before upload: Exif (GPS, camera serials), XMP, IPTC,
/// comments and appended images; its ICC profile is kept (see the module's documentation for
/// the full lists). Keeps only the Exif Orientation tag (as a minimal Exif of one entry) so the
/// photo stays upright. PDFs and anything not an image are returned unchanged.
pub fn strip_metadata(bytes: &[u8], media_type: MediaType) -> Result<Vec<u8>, StripError> {
    let stripped = match media_type {
        MediaType::Jpeg => strip_jpeg(Bytes::copy_from_slice(bytes)),
        MediaType::Png => strip_png(Bytes::copy_from_slice(bytes)),
        MediaType::Webp => strip_webp(Bytes::copy_from_slice(bytes)),
        MediaType::Pdf => return Ok(bytes.to_vec()),
    };
    stripped.map_err(|reason| StripError { media_type, reason })
}

/// The prefix of Exif data in a JPEG APP1 segment (and, against their specifications, in some
/// PNG and WebP files).
const EXIF_PREFIX: &[u8] = b"Exif\0\0";

/// Exif Orientation's tag (TIFF/EP, Exif 2.3 §4.6.4).
const ORIENTATION: u16 = 0x0112;

/// The TIFF data of a minimal Exif: IFD0 holds only `orientation`.
fn orientation_tiff(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // big-endian, IFD0 at offset 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&ORIENTATION.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // one value, in the value field's first 2 bytes
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    tiff
}

/// The Exif Orientation in `exif` (TIFF data, with or without the `Exif\0\0` prefix) when it
/// turns or flips the picture (2 to 8); None when it is 1, absent or unreadable.
///
/// Reads IFD0 only, where the tag lives, and at most its entries that fit in `exif`.
fn read_orientation(exif: &[u8]) -> Option<u16> {
    let tiff = exif.strip_prefix(EXIF_PREFIX).unwrap_or(exif);
    let big_endian = match tiff.get(..4)? {
        b"MM\0\x2a" => true,
        b"II\x2a\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| {
        let bytes: [u8; 2] = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if big_endian { u16::from_be_bytes(bytes) } else { u16::from_le_bytes(bytes) })
    };
    let u32_at = |at: usize| {
        let bytes: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big_endian { u32::from_be_bytes(bytes) } else { u32::from_le_bytes(bytes) })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let entries = u16_at(ifd)?;
    (0..usize::from(entries)).find_map(|index| {
        let entry = ifd.checked_add(2 + 12 * index)?;
        // Tag, type (SHORT = 3), count, then the value in the value field's first 2 bytes.
        if u16_at(entry)? != ORIENTATION || u16_at(entry + 2)? != 3 || u32_at(entry + 4)? == 0 {
            return None;
        }
        u16_at(entry + 8).filter(|value| (2..=8).contains(value))
    })
}

/// A JPEG without its metadata segments and without what follows its first image.
fn strip_jpeg(bytes: Bytes) -> Result<Vec<u8>, String> {
    let mut jpeg = Jpeg::from_bytes(bytes.clone()).map_err(|error| error.to_string())?;
    let orientation = jpeg.exif().and_then(|exif| read_orientation(&exif));
    let mut kept = Vec::with_capacity(jpeg.segments().len() + 1);
    for segment in jpeg.segments_mut().drain(..) {
        if !keeps_jpeg_segment(segment.marker(), segment.contents()) {
            continue;
        }
        if segment.marker() == markers::APP0 && segment.contents().len() > JFIF_HEADER {
            // JFIF's header, saying the thumbnail that followed it is 0×0.
            let contents = [&segment.contents()[..JFIF_HEADER - 2], &[0, 0]].concat();
            kept.push(JpegSegment::new_with_contents(markers::APP0, contents.into()));
        } else if segment.has_entropy() {
            // The first scan's header, followed by the rest of the file (its "entropy"): the
            // coded data, any further scans, EOI and whatever was appended.
            let rest = bytes.len().saturating_sub(segment.len_with_entropy() - segment.len());
            let rest = first_image_rest(&bytes[rest..])?;
            kept.push(JpegSegment::new_with_entropy(segment.marker(), segment.contents().clone(), rest.into()));
        } else {
            kept.push(segment);
        }
    }
    if let Some(orientation) = orientation {
        // Right after SOI and APP0 (JFIF), where Exif readers look for it.
        let at = kept.iter().take_while(|segment| segment.marker() == markers::APP0).count();
        let contents = [EXIF_PREFIX, &orientation_tiff(orientation)].concat();
        kept.insert(at, JpegSegment::new_with_contents(markers::APP1, contents.into()));
    }
    *jpeg.segments_mut() = kept;
    Ok(jpeg.encoder().bytes().to_vec())
}

/// The length of APP0 JFIF's contents without a thumbnail: identifier, version, units, densities
/// and the thumbnail's width and height (JFIF 1.02, ITU-T T.871 §10.1).
const JFIF_HEADER: usize = 14;

/// Whether a JPEG segment is kept: it is not metadata, or it is needed to show the picture.
fn keeps_jpeg_segment(marker: u8, contents: &[u8]) -> bool {
    match marker {
        markers::APP0 => contents.starts_with(b"JFIF\0") && contents.len() >= JFIF_HEADER,
        markers::APP2 => contents.starts_with(b"ICC_PROFILE\0"),
        markers::APP14 => contents.starts_with(b"Adobe"),
        markers::APP1..=markers::APP15 | markers::COM => false,
        _ => true,
    }
}

/// The rest of a JPEG after its first scan's header, cut after the first image's EOI, without
/// metadata segments between scans (progressive JPEGs have several scans).
///
/// Walks the coded data the way a decoder does (T.81 §B.1.1): `FF 00` is a coded `FF`, RSTn,
/// TEM and fill bytes have no length, any other marker starts a segment with one. Without an
/// EOI (a truncated file) all of the rest is kept: nothing was appended to it.
fn first_image_rest(rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut kept = Vec::with_capacity(rest.len());
    let (mut at, mut from) = (0, 0);
    while let Some(found) = rest[at..].iter().position(|&byte| byte == 0xFF) {
        let marker_at = at + found;
        let Some(&marker) = rest.get(marker_at + 1) else { break };
        match marker {
            markers::EOI => {
                kept.extend_from_slice(&rest[from..marker_at + 2]);
                return Ok(kept);
            }
            0x00 | 0x01 | markers::RST0..=markers::RST7 | markers::SOI => at = marker_at + 2,
            0xFF => at = marker_at + 1,
            _ => {
                let length =
                    rest.get(marker_at + 2..marker_at + 4).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])));
                let end = length.filter(|&length| length >= 2).map(|length| marker_at + 2 + length);
                let Some(end) = end.filter(|&end| end <= rest.len()) else {
                    return Err(format!("a segment (marker FF {marker:02X}) runs past the end of the file"));
                };
                if !keeps_jpeg_segment(marker, &rest[marker_at + 4..end]) {
                    kept.extend_from_slice(&rest[from..marker_at]);
                    from = end;
                }
                at = end;
            }
        }
    }
    kept.extend_from_slice(&rest[from..]);
    Ok(kept)
}

/// The ancillary PNG chunks kept: how the pixels look, or move (APNG).
const PNG_KEPT: [&[u8; 4]; 14] = [
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"cICP", b"mDCV", b"cLLI", b"sBIT", b"bKGD", b"pHYs", b"acTL",
    b"fcTL", b"fdAT",
];

/// A PNG with only its critical chunks and those of [`PNG_KEPT`], and nothing after IEND.
fn strip_png(bytes: Bytes) -> Result<Vec<u8>, String> {
    let mut png = Png::from_bytes(bytes).map_err(|error| error.to_string())?;
    let orientation = png.chunk_by_type(*b"eXIf").and_then(|chunk| read_orientation(chunk.contents()));
    png.chunks_mut().retain(|chunk| {
        let kind = chunk.kind();
        matches!(&kind, b"IHDR" | b"PLTE" | b"IDAT" | b"IEND") || PNG_KEPT.contains(&&kind)
    });
    if let Some(orientation) = orientation {
        // eXIf must come before the first IDAT (PNG 3rd edition §11.3.6.1); right after IHDR.
        let at = png.chunks().len().min(1);
        png.chunks_mut().insert(at, PngChunk::new(*b"eXIf", orientation_tiff(orientation).into()));
    }
    Ok(png.encoder().bytes().to_vec())
}

/// VP8X's flags (its first byte) for Exif and XMP metadata (RFC 9649 §2.7).
const VP8X_EXIF: u8 = 0x08;
const VP8X_XMP: u8 = 0x04;

/// A WebP with only the chunks that make its picture, its VP8X flags saying so.
fn strip_webp(bytes: Bytes) -> Result<Vec<u8>, String> {
    let mut webp = WebP::from_bytes(bytes).map_err(|error| error.to_string())?;
    let orientation = webp.exif().and_then(|exif| read_orientation(&exif));
    webp.chunks_mut()
        .retain(|chunk| matches!(&chunk.id(), b"VP8X" | b"ICCP" | b"ANIM" | b"ANMF" | b"ALPH" | b"VP8 " | b"VP8L"));
    for chunk in webp.chunks_mut().iter_mut().filter(|chunk| chunk.id() == *b"VP8X") {
        if let RiffContent::Data(data) = chunk.content_mut()
            && let Some((&flags, others)) = data.split_first()
        {
            *data = [&[flags & !(VP8X_EXIF | VP8X_XMP)], others].concat().into();
        }
    }
    if let Some(orientation) = orientation {
        // Appended after the image data, where RFC 9649 §2.7 places metadata; sets VP8X's Exif
        // flag, and adds the VP8X chunk itself to a simple WebP that had metadata without one.
        webp.set_exif(Some(orientation_tiff(orientation).into()));
    }
    Ok(webp.encoder().bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, ImageDecoder, ImageFormat, Rgba, RgbaImage, metadata::Orientation};
    use std::io::Cursor;

    fn picture() -> RgbaImage {
        RgbaImage::from_fn(64, 48, |x, y| Rgba([(x * 4) as u8, (y * 5) as u8, 128, if x < 8 { 0 } else { 255 }]))
    }

    fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        count(haystack, needle) > 0
    }

    fn count(haystack: &[u8], needle: &[u8]) -> usize {
        haystack.windows(needle.len()).filter(|window| window.eq_ignore_ascii_case(needle)).count()
    }

    fn segment(marker: u8, contents: &[u8]) -> Vec<u8> {
        [&[0xFF, marker][..], &(contents.len() as u16 + 2).to_be_bytes(), contents].concat()
    }

    /// Little-endian TIFF: IFD0 with a description, the make, `orientation` and a GPS IFD pointer
    /// (0x8825) to a GPS IFD with GPSLatitudeRef.
    fn camera_exif(orientation: u16) -> Vec<u8> {
        let description = b"GPS 52.37N 4.89E, body SN 0451\0";
        let entry = |tag: u16, kind: u16, count: u32, value: u32| {
            [&tag.to_le_bytes()[..], &kind.to_le_bytes(), &count.to_le_bytes(), &value.to_le_bytes()].concat()
        };
        let mut tiff = b"II\x2a\0\x08\0\0\0\x04\0".to_vec();
        tiff.extend(entry(0x010E, 2, description.len() as u32, 80));
        tiff.extend(entry(0x010F, 2, 6, 80 + description.len() as u32));
        tiff.extend(entry(ORIENTATION, 3, 1, u32::from(orientation)));
        tiff.extend(entry(0x8825, 4, 1, 62));
        tiff.extend_from_slice(&[0; 4]);
        tiff.extend_from_slice(&[1, 0]);
        tiff.extend(entry(0x0001, 2, 2, u32::from(b'N')));
        tiff.extend_from_slice(&[0; 4]);
        tiff.extend_from_slice(description);
        tiff.extend_from_slice(b"Canon\0");
        tiff
    }

    const XMP: &[u8] = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:Description \
        exif:GPSLatitude='52,22.2N'/></x:xmpmeta>";

    /// A phone's JPEG: every kind of metadata segment, then a second image appended after EOI.
    fn phone_jpeg(orientation: u16) -> Vec<u8> {
        let plain = encoded(DynamicImage::ImageRgba8(picture()).to_rgb8().into(), ImageFormat::Jpeg);
        let app0_end = 4 + usize::from(u16::from_be_bytes([plain[4], plain[5]]));
        let appended = [&plain[..2], &segment(0xE1, &[EXIF_PREFIX, &camera_exif(1)].concat()), &plain[2..]].concat();
        // A JFIF header with a 1×1 thumbnail whose pixel spells GPS.
        let jfif = [&plain[6..18], &[1, 1], b"GPS"].concat();
        [
            &plain[..2],
            &segment(0xE0, &jfif),
            &segment(0xE1, &[EXIF_PREFIX, &camera_exif(orientation)].concat()),
            &segment(0xE1, XMP),
            &segment(0xE2, b"MPF\0II\x2a\0 secondary images"),
            &segment(0xE2, b"ICC_PROFILE\0\x01\x01a colour profile"),
            &segment(0xED, b"Photoshop 3.0\08BIM\x04\x04 IPTC city"),
            &segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01"),
            &segment(0xFE, b"taken at 12 Home Street"),
            &plain[app0_end..],
            &appended,
        ]
        .concat()
    }

    fn assert_no_metadata(stripped: &[u8]) {
        for needle in [&b"GPS"[..], b"xmp", b"xap", b"Canon", b"SN 0451", b"Home Street", b"Photoshop", b"MPF"] {
            assert!(!contains(stripped, needle), "{:?} left in", String::from_utf8_lossy(needle));
        }
    }

    fn decoded(bytes: &[u8], format: ImageFormat) -> (DynamicImage, Orientation) {
        let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format).into_decoder().unwrap();
        let orientation = reader.orientation().unwrap();
        (DynamicImage::from_decoder(reader).unwrap(), orientation)
    }

    #[test]
    fn a_phone_jpeg_keeps_its_pixels_profile_and_orientation_only() {
        let original = phone_jpeg(6);
        let stripped = strip_metadata(&original, MediaType::Jpeg).unwrap();
        assert_no_metadata(&stripped);
        assert_eq!(count(&stripped, b"Exif"), 1);
        let minimal = segment(0xE1, &[EXIF_PREFIX, &orientation_tiff(6)].concat());
        let app0_end = 4 + usize::from(u16::from_be_bytes([stripped[4], stripped[5]]));
        assert_eq!(&stripped[..6], [0xFF, 0xD8, 0xFF, 0xE0, 0, 16], "JFIF without its thumbnail");
        assert_eq!(&stripped[app0_end..app0_end + minimal.len()], minimal);
        assert!(contains(&stripped, b"ICC_PROFILE\0") && contains(&stripped, b"Adobe"));
        // One image: a single SOI, and the file ends with its EOI.
        assert_eq!(stripped.windows(2).filter(|w| w == &[0xFF, 0xD8]).count(), 1);
        assert!(stripped.ends_with(&[0xFF, 0xD9]));

        let (before, _) = decoded(&original, ImageFormat::Jpeg);
        let (after, orientation) = decoded(&stripped, ImageFormat::Jpeg);
        assert_eq!(orientation, Orientation::Rotate90);
        assert_eq!((after.width(), after.height()), (64, 48));
        assert_eq!(after.as_bytes(), before.as_bytes());
    }

    #[test]
    fn an_upright_photo_keeps_no_exif_at_all() {
        let stripped = strip_metadata(&phone_jpeg(1), MediaType::Jpeg).unwrap();
        assert_no_metadata(&stripped);
        assert!(!contains(&stripped, b"Exif"));
        assert_eq!(decoded(&stripped, ImageFormat::Jpeg).1, Orientation::NoTransforms);
    }

    #[test]
    fn metadata_between_scans_and_after_eoi_is_cut() {
        let scan = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56];
        let tables = segment(0xC4, &[0x10, 0xFF, 0xD9, 0xAB]);
        let next_scan = segment(0xDA, &[1, 1, 0]);
        let rest =
            [&scan[..], &tables, &segment(0xFE, b"GPS"), &next_scan, &[0x78, 0xFF, 0xD9], b"\xFF\xD8 GPS"].concat();
        let expected = [&scan[..], &tables, &next_scan, &[0x78, 0xFF, 0xD9]].concat();
        assert_eq!(first_image_rest(&rest).unwrap(), expected);
        assert_eq!(first_image_rest(&scan).unwrap(), scan, "no EOI: a truncated file is kept whole");
        assert!(first_image_rest(&[0x12, 0xFF, 0xE1, 0x00, 0x40, b'E']).is_err());
    }

    /// A PNG chunk, length, type, data and CRC.
    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        PngChunk::new(*kind, Bytes::copy_from_slice(data)).encoder().bytes().to_vec()
    }

    #[test]
    fn a_png_keeps_its_pixels_and_orientation_only() {
        let plain = encoded(DynamicImage::ImageRgba8(picture()), ImageFormat::Png);
        let ihdr_end = 8 + 25;
        let original = [
            &plain[..ihdr_end],
            &chunk(b"eXIf", &camera_exif(6)),
            &chunk(b"gAMA", &45455u32.to_be_bytes()),
            &chunk(b"tEXt", b"Comment\0GPS 52.37N"),
            &chunk(b"zTXt", b"Author\0\0x\x9c compressed owner name"),
            &chunk(b"iTXt", &[b"XML:com.adobe.xmp\0\0\0\0\0", &XMP[29..]].concat()),
            &chunk(b"tIME", &[7, 233, 5, 17, 12, 0, 0]),
            &plain[ihdr_end..],
            b"GPS appended after IEND",
        ]
        .concat();
        let stripped = strip_metadata(&original, MediaType::Png).unwrap();
        assert_no_metadata(&stripped);
        for gone in [b"tEXt", b"zTXt", b"iTXt", b"tIME"] {
            assert!(!contains(&stripped, gone));
        }
        assert!(contains(&stripped, b"gAMA"));
        assert_eq!(&stripped[ihdr_end..ihdr_end + 38], chunk(b"eXIf", &orientation_tiff(6)));
        let (after, orientation) = decoded(&stripped, ImageFormat::Png);
        assert_eq!(orientation, Orientation::Rotate90);
        assert_eq!(after.into_rgba8(), picture());
    }

    /// A RIFF chunk, id, little-endian length, data and padding.
    fn riff(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let pad: &[u8] = if data.len() % 2 == 1 { &[0] } else { &[] };
        [&id[..], &(data.len() as u32).to_le_bytes(), data, pad].concat()
    }

    fn extended_webp(exif: &[u8]) -> Vec<u8> {
        let plain = encoded(DynamicImage::ImageRgba8(picture()), ImageFormat::WebP);
        assert_eq!(&plain[12..16], b"VP8L");
        let vp8x = [&[0x08 | 0x04 | 0x10, 0, 0, 0][..], &[63, 0, 0, 47, 0, 0]].concat();
        let chunks =
            [riff(b"VP8X", &vp8x), plain[12..].to_vec(), riff(b"EXIF", exif), riff(b"XMP ", &XMP[29..])].concat();
        [&b"RIFF"[..], &(chunks.len() as u32 + 4).to_le_bytes(), b"WEBP", &chunks].concat()
    }

    #[test]
    fn a_webp_keeps_its_pixels_and_orientation_only() {
        for (exif, expected) in [(camera_exif(6), Orientation::Rotate90), (camera_exif(1), Orientation::NoTransforms)] {
            let original = extended_webp(&[EXIF_PREFIX, &exif].concat());
            let stripped = strip_metadata(&original, MediaType::Webp).unwrap();
            assert_no_metadata(&stripped);
            assert_eq!(u32::from_le_bytes(stripped[4..8].try_into().unwrap()) as usize, stripped.len() - 8);
            assert_eq!(&stripped[12..16], b"VP8X");
            let rotated = expected == Orientation::Rotate90;
            assert_eq!(stripped[20], if rotated { 0x08 | 0x10 } else { 0x10 }, "VP8X flags");
            assert_eq!(stripped.ends_with(&riff(b"EXIF", &orientation_tiff(6))), rotated);
            let (after, orientation) = decoded(&stripped, ImageFormat::WebP);
            assert_eq!(orientation, expected);
            assert_eq!(after.into_rgba8(), picture());
        }
    }

    #[test]
    fn pdfs_are_unchanged_and_malformed_images_refused() {
        let pdf = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj << /Author (GPS) >> endobj\n";
        assert_eq!(strip_metadata(pdf, MediaType::Pdf).unwrap(), pdf);
        let png = encoded(DynamicImage::ImageRgba8(picture()), ImageFormat::Png);
        let mut bad_crc = png.clone();
        bad_crc[30] ^= 1;
        let webp = extended_webp(&camera_exif(6));
        for (bytes, media_type) in [
            (&png[..40], MediaType::Png),
            (&bad_crc[..], MediaType::Png),
            (&webp[..webp.len() - 3], MediaType::Webp),
            (b"\xFF\xD8\xFF\xE1\x00\x40Exif", MediaType::Jpeg),
            (b"not an image", MediaType::Jpeg),
        ] {
            let refused = strip_metadata(bytes, media_type).unwrap_err();
            assert_eq!(refused.media_type, media_type);
        }
    }

    #[test]
    fn orientation_is_read_from_either_byte_order_and_never_past_the_end() {
        assert_eq!(read_orientation(&camera_exif(6)), Some(6));
        assert_eq!(read_orientation(&[EXIF_PREFIX, &orientation_tiff(8)].concat()), Some(8));
        assert_eq!(read_orientation(&orientation_tiff(1)), None);
        assert_eq!(read_orientation(&orientation_tiff(9)), None);
        let exif = camera_exif(3);
        for cut in 0..exif.len() {
            assert!(read_orientation(&exif[..cut]).is_none_or(|found| found == 3));
        }
        // An IFD claiming 65535 entries, or placed past the end.
        assert_eq!(read_orientation(b"MM\0\x2a\0\0\0\x08\xFF\xFF\x01\x12"), None);
        assert_eq!(read_orientation(b"II\x2a\0\xFF\xFF\xFF\xFF"), None);
    }
}
