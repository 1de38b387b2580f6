//! Location metadata in photos: the GPS coordinates a phone writes into every picture it takes.
//!
//! A photo of a salvaged beam, taken on site by a demolition crew, tells anyone who reads its
//! metadata where the crew's phone stood: the building being taken apart, or a yard where
//! valuable items wait. Attachments travel to buyers, so an image that carries coordinates is
//! refused and the member asked to strip them. This module finds them, by hand and without
//! decoding pixels, in every container each accepted image format has for Exif and XMP:
//!
//! - **JPEG**: the marker segments from SOI up to the first SOS, with every APP1 segment that
//!   holds Exif (CIPA DC-008 §4.7.2) or XMP (XMP part 3 §1.1.3, standard and extended), and
//!   Exif or XMP in a Photoshop APP13 segment's image resources; then the whole file once more
//!   for any further APP1 Exif segment, since phones append more pictures after the first
//!   EOI (CIPA DC-007, Multi-Picture Format) and thumbnails embed their own.
//! - **PNG**: every chunk, before or after IDAT (and after IEND): `eXIf` (PNG 3rd edition
//!   §11.3), XMP in `iTXt`/`tEXt`, and ImageMagick's hex-encoded "Raw profile type" text.
//! - **WebP**: every RIFF chunk: `EXIF` and `XMP ` (RFC 9649 §2.7, the extended format).
//!
//! Exif counts as location when IFD0 or IFD1 has a GPSInfo pointer (tag 0x8825) at all, even
//! to an empty or missing GPS IFD: what it points to is not read. XMP counts when its text
//! names a GPS coordinate property (`GPSLatitude`, `GPSLongitude` and their `GPSDest` forms,
//! under any namespace prefix). Where the metadata cannot be checked (compressed, cut short,
//! or more than the work bound allows), the answer is "yes": a false refusal costs the member
//! one re-export, a false acceptance discloses a site for good.
//!
//! Not looked at: PDFs (see [`location_metadata`]), place names in text (IPTC city, XMP
//! `photoshop:City`), JPEG comments, XMP after the first SOS or in embedded images, and XMP
//! written in UTF-16.
//!
//! The work is linear in the file's size: every walk moves forward, nothing recurses, and the
//! TIFF entries read across one file are bounded by a budget proportional to its length.

use std::fmt;

use super::sniff::MediaType;

/// Where a file carries location metadata (GPS coordinates), for a refusal message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationMetadata {
    place: String,
}

impl LocationMetadata {
    /// What was found and where, e.g. "GPS tags in the Exif data of the JPEG's APP1 segment at
    /// byte 2": enough for a member to find it with a metadata tool.
    pub fn place(&self) -> &str {
        &self.place
    }
}

impl fmt::Display for LocationMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "location metadata: {}", self.place)
    }
}

/// Whether an image carries location metadata that a buyer must not learn
/// (where a demolition crew's phone stood). Checks every container the format
/// has for Exif and XMP. None for PDFs and for images without it.
///
/// `media_type` is the type [`sniff`](super::sniff) gave for the same bytes; bytes that are
/// not what it says are checked as that type anyway, and no input causes a panic.
///
/// PDFs are not searched: a report's metadata is its author's, not a phone's. A JPEG placed in
/// a PDF unchanged (a `DCTDecode` stream) keeps its Exif, though; a caller that cares can run
/// the JPEG check, whose whole-file scan finds APP1 Exif anywhere, over the PDF's bytes.
pub fn location_metadata(bytes: &[u8], media_type: MediaType) -> Option<LocationMetadata> {
    let mut budget = Budget::for_file(bytes);
    match media_type {
        MediaType::Jpeg => jpeg(bytes, &mut budget),
        MediaType::Png => png(bytes, &mut budget),
        MediaType::Webp => webp(bytes, &mut budget),
        MediaType::Pdf => None,
    }
}

/// The start of an APP1 segment holding Exif (CIPA DC-008 §4.7.2: "Exif" and two NULs; the
/// second byte is not checked, as some writers put a pad byte other than NUL there).
const EXIF: &[u8] = b"Exif\0";

/// The namespace that starts an APP1 segment holding a standard XMP packet (XMP part 3 §1.1.3).
const XMP: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// The namespace that starts an APP1 segment holding a portion of extended XMP, followed by a
/// 32-byte GUID, the full length and the portion's offset (XMP part 3 §1.1.3).
const XMP_EXTENSION: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";

/// The keyword of a PNG text chunk holding XMP (XMP part 3 §1.1.5).
const XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp";

/// The keyword prefix of ImageMagick's hex-encoded metadata profiles in PNG text chunks.
const RAW_PROFILE: &[u8] = b"Raw profile type";

/// The Exif tag of the GPSInfo IFD pointer (CIPA DC-008 §4.6.3).
const GPS_INFO: u16 = 0x8825;

/// What, inside one container, gives a location away or may.
enum Finding {
    /// A GPSInfo pointer in IFD0 or IFD1.
    GpsTags,
    /// IFD0 runs past the end of its data, where a GPSInfo pointer may have been.
    CutShortExif,
    /// More TIFF entries than the work bound allows; hostile or not, it is not accepted.
    OversizedExif,
    /// A GPS coordinate property named in text of the given kind.
    Coordinates(&'static str),
    /// Metadata of the given kind that is not decoded (compressed or malformed).
    Unchecked(&'static str),
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::GpsTags => f.write_str("GPS tags in the Exif data"),
            Finding::CutShortExif => f.write_str("possible GPS tags in cut-short Exif data"),
            Finding::OversizedExif => f.write_str("possible GPS tags in oversized Exif data"),
            Finding::Coordinates(kind) => write!(f, "GPS coordinates in the {kind}"),
            Finding::Unchecked(kind) => write!(f, "possible GPS tags in {kind}"),
        }
    }
}

fn located(finding: Finding, container: &str, at: usize) -> LocationMetadata {
    LocationMetadata { place: format!("{finding} of {container} at byte {at}") }
}

/// How many TIFF entries one file may have read: a quarter of its length (honest Exif spends
/// 12 bytes an entry, each read once) plus a margin for small files. Exif found by scanning
/// the whole file may overlap, so without a bound a crafted file could be read many times over.
struct Budget(usize);

impl Budget {
    fn for_file(bytes: &[u8]) -> Budget {
        Budget(bytes.len() / 4 + 4096)
    }

    fn spend(&mut self) -> bool {
        let left = self.0 > 0;
        self.0 = self.0.saturating_sub(1);
        left
    }
}

/// Walks the marker segments to the first SOS (ITU-T T.81 §B.1.1), then scans the whole file
/// for APP1 Exif segments the walk did not see.
fn jpeg(bytes: &[u8], budget: &mut Budget) -> Option<LocationMetadata> {
    let mut exif_seen = Vec::new();
    let mut extended = Vec::new();
    let mut at = 2;
    while let Some(segment) = jpeg_segment(bytes, at) {
        match segment.marker {
            0xDA | 0xD9 | 0x00 => break,
            0xE1 if segment.data.starts_with(EXIF) => {
                exif_seen.push(segment.at);
                if let Some(found) = exif(segment.data, budget) {
                    return Some(located(found, "the JPEG's APP1 segment", segment.at));
                }
            }
            0xE1 => {
                if let Some(packet) = segment.data.strip_prefix(XMP)
                    && has_coordinates(packet)
                {
                    return Some(located(Finding::Coordinates("XMP data"), "the JPEG's APP1 segment", segment.at));
                }
                if let Some(portion) = segment.data.strip_prefix(XMP_EXTENSION) {
                    let offset =
                        portion.get(36..).and_then(|rest| rest.first_chunk()).map_or(0, |b| u32::from_be_bytes(*b));
                    extended.push((offset, segment.at, portion.get(40..).unwrap_or_default()));
                }
            }
            0xED => {
                if let Some(resources) = segment.data.strip_prefix(b"Photoshop 3.0\0")
                    && let Some((found, id)) = image_resources(resources, budget)
                {
                    return Some(located(
                        found,
                        &format!("Photoshop resource {id:#06x} in the JPEG's APP13 segment"),
                        segment.at,
                    ));
                }
            }
            _ => {}
        }
        let Some(next) = segment.next else { break };
        at = next;
    }
    // Extended XMP is one packet cut into portions, which a property name may straddle: they
    // are joined in the order of their offsets (portions of different packets side by side
    // can only add matches, never hide one).
    extended.sort_by_key(|&(offset, at, _)| (offset, at));
    let joined: Vec<u8> = extended.iter().flat_map(|&(_, _, portion)| portion.iter().copied()).collect();
    if has_coordinates(&joined)
        && let Some(first) = extended.iter().map(|&(_, at, _)| at).min()
    {
        return Some(located(Finding::Coordinates("extended XMP data"), "the JPEG's APP1 segments", first));
    }
    // Every FF E1 in the file, wherever it is: embedded pictures need not be where an index
    // says, and the first picture's entropy-coded data cannot hold FF E1 (T.81 §B.1.1.5).
    for (at, pair) in bytes.windows(2).enumerate() {
        if pair != [0xFF, 0xE1] || exif_seen.binary_search(&at).is_ok() {
            continue;
        }
        if let Some(segment) = jpeg_segment(bytes, at)
            && segment.data.starts_with(EXIF)
            && let Some(found) = exif(segment.data, budget)
        {
            return Some(located(found, "an APP1 segment of an embedded image", at));
        }
    }
    None
}

/// One marker segment of a JPEG: where its `FF` is, its marker, its data (cut at the end of
/// the file) and where the next one starts, if it does.
struct JpegSegment<'a> {
    at: usize,
    marker: u8,
    data: &'a [u8],
    next: Option<usize>,
}

fn jpeg_segment(bytes: &[u8], at: usize) -> Option<JpegSegment<'_>> {
    if bytes.get(at) != Some(&0xFF) {
        return None;
    }
    // Any number of fill bytes may precede a marker (T.81 §B.1.1.2).
    let mut marker_at = at.checked_add(1)?;
    while bytes.get(marker_at) == Some(&0xFF) {
        marker_at += 1;
    }
    let marker = *bytes.get(marker_at)?;
    let at = marker_at - 1;
    // TEM, RSTn, SOI and EOI stand alone, without a length (T.81 §B.1.1.3).
    if marker == 0x01 || (0xD0..=0xD9).contains(&marker) {
        return Some(JpegSegment { at, marker, data: &[], next: Some(marker_at + 1) });
    }
    let length = usize::from(u16::from_be_bytes(*bytes.get(marker_at + 1..)?.first_chunk()?));
    let end = (marker_at + 1).checked_add(length).filter(|_| length >= 2)?;
    let data = bytes.get(marker_at + 3..end.min(bytes.len()))?;
    Some(JpegSegment { at, marker, data, next: (end <= bytes.len()).then_some(end) })
}

/// Walks the chunks (PNG 3rd edition §5.3) from the signature to the end of the file.
fn png(bytes: &[u8], budget: &mut Budget) -> Option<LocationMetadata> {
    let mut at = 8;
    while let Some(header) = bytes.get(at..).and_then(|rest| rest.first_chunk::<8>()) {
        let length = usize::try_from(u32::from_be_bytes([header[0], header[1], header[2], header[3]])).ok()?;
        let kind = [header[4], header[5], header[6], header[7]];
        let end = (at + 8).checked_add(length)?;
        let data = bytes.get(at + 8..end.min(bytes.len()))?;
        if let Some((found, name)) = png_chunk(kind, data, budget) {
            return Some(located(found, &format!("the PNG's {name} chunk"), at));
        }
        at = end.checked_add(4)?;
    }
    None
}

/// What one PNG chunk gives away, with the chunk's registered name for the message.
fn png_chunk(kind: [u8; 4], data: &[u8], budget: &mut Budget) -> Option<(Finding, &'static str)> {
    // `exIf` and `zxIf` were the names of the Exif chunks proposed before `eXIf` was
    // registered; writers of the time used them, so case is ignored.
    if kind.eq_ignore_ascii_case(b"exif") {
        return exif(data, budget).map(|found| (found, "eXIf"));
    }
    if kind.eq_ignore_ascii_case(b"zxif") {
        return Some((Finding::Unchecked("compressed Exif data"), "zxIf"));
    }
    let (keyword, rest) = split_nul(data);
    let (name, compressed, text) = match &kind {
        b"tEXt" => ("tEXt", false, rest),
        b"zTXt" => ("zTXt", true, rest),
        // Compression flag, compression method, language tag, translated keyword, text.
        b"iTXt" => {
            let compressed = rest.first().is_some_and(|&flag| flag != 0);
            let (_language, rest) = split_nul(rest.get(2..).unwrap_or_default());
            ("iTXt", compressed, split_nul(rest).1)
        }
        _ => return None,
    };
    text_chunk(keyword, compressed, text, budget).map(|found| (found, name))
}

/// What a PNG text chunk gives away. Compressed text is not inflated: a compressed XMP packet
/// or raw profile counts as location unseen. Uncompressed text of any keyword is searched for
/// GPS property names, which catches XMP and also `exif:GPSLatitude`-style keywords.
fn text_chunk(keyword: &[u8], compressed: bool, text: &[u8], budget: &mut Budget) -> Option<Finding> {
    let profile = keyword.strip_prefix(RAW_PROFILE);
    if compressed {
        return if keyword == XMP_KEYWORD {
            Some(Finding::Unchecked("compressed XMP data"))
        } else if profile.is_some() {
            Some(Finding::Unchecked("a compressed raw profile"))
        } else {
            None
        };
    }
    if let Some(profile) = profile {
        return raw_profile(&profile.trim_ascii().to_ascii_lowercase(), text, budget);
    }
    let kind = if keyword == XMP_KEYWORD { "XMP data" } else { "text" };
    (has_coordinates(keyword) || has_coordinates(text)).then_some(Finding::Coordinates(kind))
}

/// An uncompressed ImageMagick raw profile: a name line, a length line and hex digits. Only
/// the kinds that can hold Exif or XMP are decoded; hex that does not decode counts as location.
fn raw_profile(name: &[u8], text: &[u8], budget: &mut Budget) -> Option<Finding> {
    if !matches!(name, b"exif" | b"app1" | b"xmp" | b"8bim") {
        return None;
    }
    let Some(decoded) = decode_raw_profile(text) else {
        return Some(Finding::Unchecked("an undecodable raw profile"));
    };
    match name {
        b"8bim" => image_resources(&decoded, budget).map(|(found, _)| found),
        _ if name == b"xmp" || decoded.starts_with(XMP) => {
            has_coordinates(&decoded).then_some(Finding::Coordinates("XMP data"))
        }
        _ => exif(&decoded, budget),
    }
}

fn decode_raw_profile(text: &[u8]) -> Option<Vec<u8>> {
    let rest = text.trim_ascii_start();
    let rest = rest.get(rest.iter().position(u8::is_ascii_whitespace)?..)?.trim_ascii_start();
    let rest = rest.get(rest.iter().position(|byte| !byte.is_ascii_digit())?..)?;
    let mut decoded = Vec::with_capacity(rest.len() / 2);
    let mut high = None;
    for &byte in rest.iter().filter(|byte| !byte.is_ascii_whitespace()) {
        let nibble = u8::try_from(char::from(byte).to_digit(16)?).ok()?;
        match high.take() {
            None => high = Some(nibble),
            Some(high) => decoded.push(high << 4 | nibble),
        }
    }
    high.is_none().then_some(decoded)
}

/// Walks the RIFF chunks (RFC 9649 §2.3) after the WebP header to the end of the file.
fn webp(bytes: &[u8], budget: &mut Budget) -> Option<LocationMetadata> {
    let mut at = 12;
    while let Some(header) = bytes.get(at..).and_then(|rest| rest.first_chunk::<8>()) {
        let size = usize::try_from(u32::from_le_bytes([header[4], header[5], header[6], header[7]])).ok()?;
        let end = (at + 8).checked_add(size)?;
        let data = bytes.get(at + 8..end.min(bytes.len()))?;
        let found = match &header[..4] {
            b"EXIF" => exif(data, budget).map(|found| (found, "the WebP's EXIF chunk")),
            b"XMP " => has_coordinates(data).then_some((Finding::Coordinates("XMP data"), "the WebP's XMP chunk")),
            _ => None,
        };
        if let Some((found, container)) = found {
            return Some(located(found, container, at));
        }
        // Chunks are padded to an even size (RFC 9649 §2.3).
        at = end.checked_add(size % 2)?;
    }
    None
}

/// Photoshop image resources (APP13 in JPEG, "Raw profile type 8bim" in PNG): `8BIM`, an id,
/// a padded Pascal name, a size and padded data. Resources 0x0422 and 0x0423 hold Exif,
/// 0x0424 XMP. Gives the finding and the resource's id.
fn image_resources(data: &[u8], budget: &mut Budget) -> Option<(Finding, u16)> {
    let mut at = 0_usize;
    while data.get(at..at.checked_add(4)?) == Some(&b"8BIM"[..]) {
        let id = u16::from_be_bytes(*data.get(at + 4..)?.first_chunk()?);
        let name = usize::from(*data.get(at + 6)?);
        let size_at = at + 6 + (name + 2) / 2 * 2;
        let size = usize::try_from(u32::from_be_bytes(*data.get(size_at..)?.first_chunk()?)).ok()?;
        let end = (size_at + 4).checked_add(size)?;
        let resource = data.get(size_at + 4..end.min(data.len()))?;
        let found = match id {
            0x0422 | 0x0423 => exif(resource, budget),
            0x0424 => has_coordinates(resource).then_some(Finding::Coordinates("XMP data")),
            _ => None,
        };
        if let Some(found) = found {
            return Some((found, id));
        }
        at = end.checked_add(size % 2)?;
    }
    None
}

/// Exif data, with or without the `Exif\0\0` that JPEG requires and other containers allow.
fn exif(data: &[u8], budget: &mut Budget) -> Option<Finding> {
    let tiff = if data.starts_with(EXIF) { data.get(6..).unwrap_or_default() } else { data };
    tiff_gps(tiff, budget)
}

/// The TIFF structure of Exif (TIFF 6.0 §2): a byte-order mark, 42, and the offset of IFD0.
/// IFD0 (the picture's) and IFD1 (its thumbnail's) are read for a GPSInfo pointer. IFD0 cut
/// short counts as location; a broken IFD1 is taken as absent, since writers often leave a
/// stray next-IFD offset and GPS pointers in IFD1 are rare. An IFD1 that is IFD0 again is not
/// read twice, and nothing beyond two IFDs is read, so IFD loops end.
fn tiff_gps(tiff: &[u8], budget: &mut Budget) -> Option<Finding> {
    let order = match tiff.get(0..4)? {
        b"II*\0" => Order::Little,
        b"MM\0*" => Order::Big,
        _ => return None,
    };
    let Some(ifd0) = order.u32(tiff, 4) else { return Some(Finding::CutShortExif) };
    match ifd(tiff, ifd0, order, budget) {
        Ifd::Gps => Some(Finding::GpsTags),
        Ifd::CutShort => Some(Finding::CutShortExif),
        Ifd::OverBudget => Some(Finding::OversizedExif),
        Ifd::Clean { next } if next != 0 && next != ifd0 => match ifd(tiff, next, order, budget) {
            Ifd::Gps => Some(Finding::GpsTags),
            Ifd::OverBudget => Some(Finding::OversizedExif),
            Ifd::CutShort | Ifd::Clean { .. } => None,
        },
        Ifd::Clean { .. } => None,
    }
}

#[derive(Clone, Copy)]
enum Order {
    Little,
    Big,
}

impl Order {
    fn u16(self, data: &[u8], at: usize) -> Option<u16> {
        let bytes = *data.get(at..)?.first_chunk()?;
        Some(match self {
            Order::Little => u16::from_le_bytes(bytes),
            Order::Big => u16::from_be_bytes(bytes),
        })
    }

    fn u32(self, data: &[u8], at: usize) -> Option<u32> {
        let bytes = *data.get(at..)?.first_chunk()?;
        Some(match self {
            Order::Little => u32::from_le_bytes(bytes),
            Order::Big => u32::from_be_bytes(bytes),
        })
    }
}

enum Ifd {
    Gps,
    CutShort,
    OverBudget,
    Clean { next: u32 },
}

/// One IFD: a count, 12-byte entries whose first two bytes are the tag, the next IFD's offset.
fn ifd(tiff: &[u8], offset: u32, order: Order, budget: &mut Budget) -> Ifd {
    let Some(at) = usize::try_from(offset).ok() else { return Ifd::CutShort };
    let Some(count) = order.u16(tiff, at) else { return Ifd::CutShort };
    let mut entry = at + 2;
    for _ in 0..count {
        if !budget.spend() {
            return Ifd::OverBudget;
        }
        match order.u16(tiff, entry) {
            Some(GPS_INFO) => return Ifd::Gps,
            Some(_) if entry + 12 <= tiff.len() => entry += 12,
            _ => return Ifd::CutShort,
        }
    }
    Ifd::Clean { next: order.u32(tiff, entry).unwrap_or(0) }
}

/// Whether text names a GPS coordinate property, under any namespace prefix and in element
/// or attribute form: `exif:GPSLatitude`, `exifEX:GPSLongitude`, `<ns1:GPSDestLatitude>`.
fn has_coordinates(text: &[u8]) -> bool {
    const NAMES: [&[u8]; 4] = [b"Latitude", b"Longitude", b"DestLatitude", b"DestLongitude"];
    text.windows(3).enumerate().any(|(at, window)| {
        window == b"GPS" && text.get(at + 3..).is_some_and(|rest| NAMES.iter().any(|name| rest.starts_with(name)))
    })
}

/// The bytes up to the first NUL and those after it (all and none when there is no NUL).
fn split_nul(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&byte| byte == 0) {
        Some(nul) => (data.get(..nul).unwrap_or_default(), data.get(nul + 1..).unwrap_or_default()),
        None => (data, &[]),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    const ORIENTATION: u16 = 0x0112;
    const GPS_XMP: &str = r#"<x:xmpmeta><rdf:RDF><rdf:Description exif:GPSLatitude="59,26.1N"/></rdf:RDF></x:xmpmeta>"#;

    /// A TIFF structure with the given tags (LONG values) in IFD0 and, unless empty, IFD1.
    fn tiff(big_endian: bool, ifd0: &[(u16, u32)], ifd1: &[(u16, u32)]) -> Vec<u8> {
        let u16b = |value: u16| if big_endian { value.to_be_bytes() } else { value.to_le_bytes() };
        let u32b = |value: u32| if big_endian { value.to_be_bytes() } else { value.to_le_bytes() };
        let mut out = [if big_endian { b"MM\0*" } else { b"II*\0" }.as_slice(), &u32b(8)].concat();
        let ifd1_at = if ifd1.is_empty() { 0 } else { 8 + 2 + 12 * ifd0.len() as u32 + 4 };
        for (tags, next) in [(ifd0, ifd1_at), (ifd1, 0)].into_iter().take(if ifd1.is_empty() { 1 } else { 2 }) {
            out.extend_from_slice(&u16b(tags.len() as u16));
            for &(tag, value) in tags {
                out.extend([u16b(tag), u16b(4)].concat().into_iter().chain(u32b(1)).chain(u32b(value)));
            }
            out.extend_from_slice(&u32b(next));
        }
        out
    }

    /// Orientation and a GPSInfo pointer to an empty GPS IFD right after IFD0.
    fn gps_tiff() -> Vec<u8> {
        [tiff(false, &[(ORIENTATION, 1), (GPS_INFO, 8 + 2 + 24 + 4)], &[]), vec![0; 6]].concat()
    }

    fn clean_tiff() -> Vec<u8> {
        tiff(false, &[(ORIENTATION, 1)], &[])
    }

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        [&[0xFF, marker], &(payload.len() as u16 + 2).to_be_bytes(), payload].concat()
    }

    fn app1_exif(tiff: &[u8]) -> Vec<u8> {
        segment(0xE1, &[b"Exif\0\0", tiff].concat())
    }

    fn app1_xmp(xmp: &str) -> Vec<u8> {
        segment(0xE1, &[XMP, xmp.as_bytes()].concat())
    }

    /// SOI, the segments, a quantisation table, a scan with stuffed bytes and a restart, EOI.
    fn jpeg(segments: &[Vec<u8>]) -> Vec<u8> {
        let tail = [segment(0xDB, &[0; 65]), segment(0xDA, &[1, 1, 0, 0, 63, 0])].concat();
        [&[0xFF, 0xD8], &segments.concat()[..], &tail, &[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xD9]].concat()
    }

    /// IHDR, the chunks before, IDAT, the chunks after, IEND; CRCs are not checked.
    fn png(before: &[(&[u8; 4], Vec<u8>)], after: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
        let (ihdr, idat) = ((b"IHDR", vec![0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]), (b"IDAT", vec![0x78, 0x9C, 3, 0]));
        let chunks = [&[ihdr][..], before, &[idat], after, &[(b"IEND", vec![])]].concat();
        let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        for (kind, data) in chunks {
            out.extend([&(data.len() as u32).to_be_bytes()[..], kind, &data, &[0xDE, 0xAD, 0xBE, 0xEF]].concat());
        }
        out
    }

    /// VP8X, a VP8 frame and the metadata chunks, padded to even sizes.
    fn webp(metadata: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
        let mut body = b"WEBP".to_vec();
        for (fourcc, data) in
            [&[(b"VP8X", vec![0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0]), (b"VP8 ", vec![0; 11])][..], metadata].concat()
        {
            body.extend([&fourcc[..], &(data.len() as u32).to_le_bytes(), &data, &vec![0; data.len() % 2]].concat());
        }
        [b"RIFF".as_slice(), &(body.len() as u32).to_le_bytes(), &body].concat()
    }

    fn place(bytes: &[u8], media_type: MediaType) -> Option<String> {
        location_metadata(bytes, media_type).map(|found| found.place().to_owned())
    }

    fn jpeg_place(segments: &[Vec<u8>]) -> Option<String> {
        place(&jpeg(segments), MediaType::Jpeg)
    }

    #[test]
    fn exif_with_a_gps_pointer_is_found_in_either_byte_order() {
        for big_endian in [false, true] {
            let tiff = tiff(big_endian, &[(ORIENTATION, 1), (GPS_INFO, 26)], &[]);
            let expected = "GPS tags in the Exif data of the JPEG's APP1 segment at byte 2";
            assert_eq!(jpeg_place(&[app1_exif(&tiff)]).as_deref(), Some(expected));
        }
        let bytes = jpeg(&[segment(0xE0, b"JFIF\0\x01\x02\0\0\x01\0\x01\0\0"), app1_exif(&gps_tiff())]);
        let message = location_metadata(&bytes, MediaType::Jpeg).unwrap().to_string();
        assert_eq!(message, "location metadata: GPS tags in the Exif data of the JPEG's APP1 segment at byte 20");
    }

    #[test]
    fn exif_with_only_orientation_and_a_thumbnail_passes() {
        assert_eq!(jpeg_place(&[app1_exif(&clean_tiff())]), None);
        let tiff = tiff(true, &[(ORIENTATION, 6), (0x8769, 26)], &[(0x0201, 0), (0x0202, 0)]);
        assert_eq!(jpeg_place(&[app1_exif(&tiff)]), None);
        assert_eq!(jpeg_place(&[]), None);
    }

    #[test]
    fn a_gps_pointer_counts_in_the_thumbnail_ifd_and_pointing_outside_the_data() {
        let in_ifd1 = tiff(false, &[(ORIENTATION, 1)], &[(0x0201, 0), (GPS_INFO, 0)]);
        let outside = tiff(true, &[(GPS_INFO, 0xFFFF_FF00)], &[]);
        for tiff in [in_ifd1, outside] {
            assert!(jpeg_place(&[app1_exif(&tiff)]).unwrap().starts_with("GPS tags in the Exif data"));
        }
    }

    #[test]
    fn every_app1_segment_is_checked() {
        let (clean, xmp) = (app1_exif(&clean_tiff()), app1_xmp("<x:xmpmeta/>"));
        let third = 2 + clean.len() + xmp.len();
        let expected = format!("GPS tags in the Exif data of the JPEG's APP1 segment at byte {third}");
        assert_eq!(jpeg_place(&[clean, xmp, app1_exif(&gps_tiff())]), Some(expected));
    }

    #[test]
    fn xmp_naming_coordinates_is_found_under_any_prefix() {
        for xmp in [GPS_XMP, "<exifEX:GPSLongitude>18,4E</exifEX:GPSLongitude>", "<ns7:GPSDestLatitude>"] {
            let expected = "GPS coordinates in the XMP data of the JPEG's APP1 segment at byte 2";
            assert_eq!(jpeg_place(&[app1_xmp(xmp)]).as_deref(), Some(expected), "{xmp}");
        }
        let harmless = r#"<rdf:Description tiff:Orientation="1" exif:GPSVersionID="2.3" photoshop:City="Tallinn"/>"#;
        assert_eq!(jpeg_place(&[app1_xmp(harmless)]), None);
    }

    #[test]
    fn extended_xmp_is_joined_by_offset() {
        let portion = |offset: u32, text: &str| {
            let header = [XMP_EXTENSION, &[b'A'; 32], &100u32.to_be_bytes(), &offset.to_be_bytes()].concat();
            segment(0xE1, &[header, text.as_bytes().to_vec()].concat())
        };
        // "<exif:GPSLati" + "tude", written in reverse order.
        let expected = "GPS coordinates in the extended XMP data of the JPEG's APP1 segments at byte 2";
        assert_eq!(jpeg_place(&[portion(13, "tude=\"1\""), portion(0, "<exif:GPSLati")]).as_deref(), Some(expected));
        assert_eq!(jpeg_place(&[portion(0, "<exif:GPSLati"), portion(13, "XXtude")]), None);
    }

    #[test]
    fn an_embedded_image_after_the_first_eoi_is_checked() {
        let first = jpeg(&[app1_exif(&clean_tiff()), segment(0xE2, b"MPF\0II*\0\x08\0\0\0\0\0\0\0\0\0")]);
        assert_eq!(place(&first, MediaType::Jpeg), None);
        let bytes = [first.clone(), jpeg(&[app1_exif(&gps_tiff())])].concat();
        let at = first.len() + 2;
        let expected = format!("GPS tags in the Exif data of an APP1 segment of an embedded image at byte {at}");
        assert_eq!(place(&bytes, MediaType::Jpeg), Some(expected));
    }

    #[test]
    fn exif_in_a_photoshop_resource_is_found() {
        let tiff = gps_tiff();
        let resources = [
            &b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\x008BIM\x04\x22\0\0"[..],
            &(tiff.len() as u32).to_be_bytes(),
            &tiff,
        ];
        let expected = "GPS tags in the Exif data of Photoshop resource 0x0422 in the JPEG's APP13 segment at byte 2";
        assert_eq!(jpeg_place(&[segment(0xED, &resources.concat())]).as_deref(), Some(expected));
    }

    #[test]
    fn an_ifd_pointing_to_itself_ends() {
        let mut tiff = clean_tiff();
        let next = tiff.len() - 4;
        tiff[next..].copy_from_slice(&8u32.to_le_bytes());
        assert_eq!(jpeg_place(&[app1_exif(&tiff)]), None);
    }

    #[test]
    fn a_cut_short_first_ifd_fails_closed() {
        let mut tiff = clean_tiff();
        tiff[8..10].copy_from_slice(&0xFFFFu16.to_le_bytes());
        let pointing_away = [&b"MM\0*"[..], &0x7000_0000u32.to_be_bytes()].concat();
        for tiff in [tiff, pointing_away] {
            let found = jpeg_place(&[app1_exif(&tiff)]).unwrap();
            assert!(found.starts_with("possible GPS tags in cut-short Exif data"), "{found}");
        }
    }

    #[test]
    fn overlapping_exif_segments_exhaust_the_budget_and_fail_closed() {
        // 2000 stubs whose IFD0 is one shared IFD of 2000 entries: four million reads unbounded.
        let stubs = 2000;
        let ifd_at = 2 + stubs * 18;
        let mut bytes = vec![0xFF, 0xD8];
        for stub in 0..stubs {
            let offset = (ifd_at - (2 + stub * 18 + 10)) as u32;
            bytes.extend([&b"\xFF\xE1\xFF\xFFExif\0\0II*\0"[..], &offset.to_le_bytes()].concat());
        }
        bytes.extend_from_slice(&2000u16.to_le_bytes());
        bytes.extend(std::iter::repeat_n([0x12, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0], 2000).flatten());
        let found = place(&bytes, MediaType::Jpeg).unwrap();
        assert!(found.starts_with("possible GPS tags in oversized Exif data"), "{found}");
    }

    #[test]
    fn png_exif_is_found_before_and_after_idat() {
        let gps = tiff(true, &[(GPS_INFO, 0)], &[]);
        let expected = "GPS tags in the Exif data of the PNG's eXIf chunk at byte 33";
        assert_eq!(place(&png(&[(b"eXIf", gps.clone())], &[]), MediaType::Png).as_deref(), Some(expected));
        let after = png(&[], &[(b"eXIf", [&b"Exif\0\0"[..], &gps].concat())]);
        assert!(place(&after, MediaType::Png).unwrap().contains("eXIf chunk at byte 49"));
        let clean = png(&[(b"eXIf", clean_tiff())], &[(b"tEXt", b"Software\0GIMP".to_vec())]);
        assert_eq!(place(&clean, MediaType::Png), None);
    }

    #[test]
    fn png_xmp_is_searched_and_compressed_xmp_fails_closed() {
        let itxt = |flag: u8, text: &str| [&b"XML:com.adobe.xmp\0"[..], &[flag, 0], b"\0\0", text.as_bytes()].concat();
        let found = place(&png(&[], &[(b"iTXt", itxt(0, GPS_XMP))]), MediaType::Png).unwrap();
        assert!(found.starts_with("GPS coordinates in the XMP data of the PNG's iTXt chunk"), "{found}");
        assert_eq!(place(&png(&[(b"iTXt", itxt(0, "<x:xmpmeta/>"))], &[]), MediaType::Png), None);
        let found = place(&png(&[(b"iTXt", itxt(1, "x..."))], &[]), MediaType::Png).unwrap();
        assert!(found.starts_with("possible GPS tags in compressed XMP data"), "{found}");
        let found = place(&png(&[(b"zTXt", b"Raw profile type exif\0\0x...".to_vec())], &[]), MediaType::Png).unwrap();
        assert!(found.starts_with("possible GPS tags in a compressed raw profile of the PNG's zTXt chunk"), "{found}");
        assert_eq!(place(&png(&[(b"zTXt", b"Comment\0\0x...".to_vec())], &[]), MediaType::Png), None);
    }

    #[test]
    fn png_hex_raw_profiles_are_decoded() {
        let raw = |tiff: &[u8]| {
            let hex: String = [b"Exif\0\0", tiff].concat().iter().map(|byte| format!("{byte:02x}")).collect();
            let lines: Vec<&str> = hex.as_bytes().chunks(72).map(|line| std::str::from_utf8(line).unwrap()).collect();
            format!("Raw profile type exif\0\nexif\n{:8}\n{}\n", hex.len() / 2, lines.join("\n")).into_bytes()
        };
        let gps = place(&png(&[(b"tEXt", raw(&gps_tiff()))], &[]), MediaType::Png).unwrap();
        assert!(gps.starts_with("GPS tags in the Exif data of the PNG's tEXt chunk"), "{gps}");
        assert_eq!(place(&png(&[(b"tEXt", raw(&clean_tiff()))], &[]), MediaType::Png), None);
        let broken = b"Raw profile type APP1\0\nAPP1\n  4\n45786g66\n".to_vec();
        assert!(place(&png(&[(b"tEXt", broken)], &[]), MediaType::Png).unwrap().contains("undecodable"));
    }

    #[test]
    fn webp_exif_and_xmp_chunks_are_checked() {
        let with_prefix = webp(&[(b"EXIF", [&b"Exif\0\0"[..], &gps_tiff()].concat())]);
        let expected = "GPS tags in the Exif data of the WebP's EXIF chunk at byte 50";
        assert_eq!(place(&with_prefix, MediaType::Webp).as_deref(), Some(expected));
        assert!(place(&webp(&[(b"EXIF", gps_tiff())]), MediaType::Webp).is_some());
        let xmp = webp(&[(b"EXIF", clean_tiff()), (b"XMP ", GPS_XMP.as_bytes().to_vec())]);
        assert!(place(&xmp, MediaType::Webp).unwrap().starts_with("GPS coordinates in the XMP data of the WebP's XMP"));
        let clean = webp(&[(b"EXIF", clean_tiff()), (b"XMP ", b"<x:xmpmeta/>".to_vec())]);
        assert_eq!(place(&clean, MediaType::Webp), None);
    }

    #[test]
    fn pdfs_are_not_searched() {
        let photo = jpeg(&[app1_exif(&gps_tiff())]);
        let pdf = [&b"%PDF-1.7\n1 0 obj<</Filter/DCTDecode>>stream\n"[..], &photo, b"\nendstream\n%%EOF\n"].concat();
        assert_eq!(place(&pdf, MediaType::Pdf), None);
        assert!(place(&pdf, MediaType::Jpeg).is_some());
    }

    #[test]
    fn every_truncation_is_survived_and_cut_short_exif_fails_closed() {
        let bytes = jpeg(&[app1_exif(&gps_tiff())]);
        // SOI, APP1 header, "Exif\0\0", then the TIFF: header, IFD0's count, Orientation, GPSInfo.
        let (tiff_header_end, gps_tag_end) = (2 + 4 + 6 + 4, 2 + 4 + 6 + 8 + 2 + 12 + 2);
        for end in 0..=bytes.len() {
            let found = place(&bytes[..end], MediaType::Jpeg);
            match end {
                _ if end < tiff_header_end => assert_eq!(found, None, "cut at {end}"),
                _ if end < gps_tag_end => assert!(found.unwrap().starts_with("possible GPS tags"), "cut at {end}"),
                _ => assert!(found.unwrap().starts_with("GPS tags"), "cut at {end}"),
            }
        }
        for media_type in MediaType::ALL {
            for garbage in [&b""[..], &[0xFF; 300], &[0; 300], b"\xFF\xD8\xFF\xE1\0\x01Exif"] {
                assert_eq!(location_metadata(garbage, media_type), None);
            }
        }
        let huge_chunk = b"RIFF\xFF\xFF\xFF\xFFWEBPEXIF\xFF\xFF\xFF\xFFMM\0*";
        assert!(place(huge_chunk, MediaType::Webp).unwrap().starts_with("possible GPS tags in cut-short Exif data"));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            for media_type in MediaType::ALL {
                let _ = location_metadata(&bytes, media_type);
            }
        }

        #[test]
        fn mutated_images_never_panic(at in any::<prop::sample::Index>(), values in proptest::collection::vec(any::<u8>(), 1..8)) {
            let resources = segment(0xED, b"Photoshop 3.0\08BIM\x04\x24\0\0\0\0\0\x02GP");
            let images = [
                (jpeg(&[app1_exif(&gps_tiff()), resources]), MediaType::Jpeg),
                (png(&[(b"eXIf", gps_tiff())], &[(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0x".to_vec())]), MediaType::Png),
                (webp(&[(b"EXIF", gps_tiff())]), MediaType::Webp),
            ];
            for (mut bytes, media_type) in images {
                let start = at.index(bytes.len());
                for (byte, value) in bytes.iter_mut().skip(start).zip(&values) {
                    *byte = *value;
                }
                let _ = location_metadata(&bytes, media_type);
            }
        }
    }
}
