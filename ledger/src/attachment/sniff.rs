//! The kind of an attachment, known from its first bytes rather than from what the uploader
//! claims: a file named `beam.jpg` is a JPEG only if it starts like one.
//!
//! Four kinds are accepted: photos of salvaged items (JPEG, PNG, WebP) and reports (PDF). Each
//! is recognised by the signature its specification puts at offset 0, and nothing else: no
//! guessing from extensions, no scanning for a signature further in (a file that is a ZIP or a
//! script with a PDF header somewhere inside is not a PDF here). Every signature fits in the
//! first 16 bytes, so a caller that holds only a file's head can still sniff it.

use std::fmt;

/// A kind of file Salvage accepts as an attachment, known from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MediaType {
    /// A JPEG image (ITU-T T.81), `image/jpeg`.
    Jpeg,
    /// A PNG image (ISO/IEC 15948, W3C PNG), `image/png`.
    Png,
    /// A WebP image (RFC 9649), `image/webp`.
    Webp,
    /// A PDF document (ISO 32000-2), `application/pdf`.
    Pdf,
}

impl MediaType {
    /// Every accepted kind, in declaration order.
    pub const ALL: [MediaType; 4] = [MediaType::Jpeg, MediaType::Png, MediaType::Webp, MediaType::Pdf];

    /// The IANA media type, as statements and HTTP headers write it.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Webp => "image/webp",
            MediaType::Pdf => "application/pdf",
        }
    }

    /// The kind whose [`as_str`](MediaType::as_str) is exactly `text`. No case folding and no
    /// parameters: a statement names a media type in the one spelling the ledger writes, so
    /// that two statements about the same file never differ in how they spell its type.
    pub fn parse(text: &str) -> Option<MediaType> {
        MediaType::ALL.into_iter().find(|media_type| media_type.as_str() == text)
    }

    /// Whether the kind is a picture, which may carry camera metadata such as a location
    /// (see [`location_metadata`](super::location_metadata)).
    pub fn is_image(self) -> bool {
        match self {
            MediaType::Jpeg | MediaType::Png | MediaType::Webp => true,
            MediaType::Pdf => false,
        }
    }

    /// The usual file-name extension, without the dot, for naming a downloaded copy.
    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::Webp => "webp",
            MediaType::Pdf => "pdf",
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The media type of a file from its first bytes, or None when it is none of the accepted kinds.
///
/// The signatures, each at offset 0 and all within the first 16 bytes:
///
/// - **JPEG**: `FF D8 FF`, the SOI marker (ITU-T T.81 §B.2.1, Table B.1) followed by the first
///   byte of the next marker. SOI alone is not enough: two bytes match too much by chance.
/// - **PNG**: the 8-byte signature `89 50 4E 47 0D 0A 1A 0A` (PNG 3rd edition §5.2).
/// - **WebP**: a RIFF header, `"RIFF"`, a 4-byte little-endian size and `"WEBP"`, followed by
///   the FourCC of the first chunk, which RFC 9649 §2 (§2.5–§2.7) allows to be only `"VP8 "`
///   (lossy), `"VP8L"` (lossless) or `"VP8X"` (extended). A RIFF file of another form type,
///   such as WAVE or AVI, is not an image.
/// - **PDF**: the header line `%PDF-` followed by a version `digit.digit` (ISO 32000-2 §7.5.2,
///   "File header"). Readers tolerate a header further in; Salvage does not, so that a file of
///   another kind with a PDF tucked inside is refused.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.starts_with(JPEG) {
        Some(MediaType::Jpeg)
    } else if bytes.starts_with(PNG) {
        Some(MediaType::Png)
    } else if is_webp(bytes) {
        Some(MediaType::Webp)
    } else if is_pdf(bytes) {
        Some(MediaType::Pdf)
    } else {
        None
    }
}

/// SOI and the `FF` that starts the marker after it (ITU-T T.81 §B.1.1.3, §B.2.1).
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF];

/// The PNG signature (PNG 3rd edition §5.2).
const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// The FourCCs RFC 9649 §2 allows as the first chunk of a WebP file.
const WEBP_FIRST_CHUNKS: [&[u8; 4]; 3] = [b"VP8 ", b"VP8L", b"VP8X"];

/// `RIFF`, any size, `WEBP`, and a first chunk RFC 9649 §2 allows. The RIFF size is not
/// checked against the file's length: a truncated upload is still a WebP, just a broken one,
/// and the decoders that read it are the ones to judge.
fn is_webp(bytes: &[u8]) -> bool {
    bytes.get(0..4) == Some(b"RIFF")
        && bytes.get(8..12) == Some(b"WEBP")
        && bytes.get(12..16).is_some_and(|fourcc| WEBP_FIRST_CHUNKS.iter().any(|allowed| fourcc == *allowed))
}

/// `%PDF-` and a version `digit.digit` (ISO 32000-2 §7.5.2).
fn is_pdf(bytes: &[u8]) -> bool {
    match bytes.get(0..8) {
        Some([b'%', b'P', b'D', b'F', b'-', major, b'.', minor]) => major.is_ascii_digit() && minor.is_ascii_digit(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn webp(first_chunk: &[u8; 4]) -> Vec<u8> {
        let mut bytes = b"RIFF".to_vec();
        bytes.extend_from_slice(&20u32.to_le_bytes());
        bytes.extend_from_slice(b"WEBP");
        bytes.extend_from_slice(first_chunk);
        bytes.extend_from_slice(&[0; 12]);
        bytes
    }

    #[test]
    fn media_types_round_trip_through_their_names() {
        for media_type in MediaType::ALL {
            assert_eq!(MediaType::parse(media_type.as_str()), Some(media_type));
            assert_eq!(media_type.to_string(), media_type.as_str());
        }
        let names: Vec<&str> = MediaType::ALL.iter().map(|media_type| media_type.as_str()).collect();
        assert_eq!(names, ["image/jpeg", "image/png", "image/webp", "application/pdf"]);
        let extensions: Vec<&str> = MediaType::ALL.iter().map(|media_type| media_type.extension()).collect();
        assert_eq!(extensions, ["jpg", "png", "webp", "pdf"]);
    }

    #[test]
    fn parse_takes_only_the_exact_spelling() {
        for text in ["IMAGE/JPEG", "image/jpg", "image/jpeg; charset=binary", " image/png", "image/webp ", "", "pdf"] {
            assert_eq!(MediaType::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn images_are_images_and_pdfs_are_not() {
        assert!(MediaType::Jpeg.is_image());
        assert!(MediaType::Png.is_image());
        assert!(MediaType::Webp.is_image());
        assert!(!MediaType::Pdf.is_image());
    }

    #[test]
    fn each_signature_is_recognised() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16]), Some(MediaType::Jpeg));
        assert_eq!(sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]), Some(MediaType::Png));
        for first in [b"VP8 ", b"VP8L", b"VP8X"] {
            assert_eq!(sniff(&webp(first)), Some(MediaType::Webp));
        }
        assert_eq!(sniff(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"), Some(MediaType::Pdf));
        assert_eq!(sniff(b"%PDF-2.0\n"), Some(MediaType::Pdf));
    }

    #[test]
    fn sixteen_bytes_are_enough() {
        assert_eq!(sniff(&webp(b"VP8X")[..16]), Some(MediaType::Webp));
        assert_eq!(sniff(&webp(b"VP8X")[..15]), None);
        assert_eq!(sniff(b"%PDF-1.4"), Some(MediaType::Pdf));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF]), Some(MediaType::Jpeg));
    }

    #[test]
    fn near_misses_are_refused() {
        let refused: [&[u8]; 14] = [
            b"",
            &[0xFF, 0xD8],
            &[0xFF, 0xD8, 0x00, 0xE0],
            &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A],
            &[0x89, b'P', b'N', b'G', 0x0A, 0x0A, 0x1A, 0x0A],
            b"RIFF\x14\0\0\0WAVEfmt \0\0\0\0",
            b"RIFF\x14\0\0\0WEBPVP9 \0\0\0\0",
            b"RIFF\x14\0\0\0WEBPvp8x\0\0\0\0",
            b"%PDF-",
            b"%PDF-1",
            b"%PDF-x.7\n",
            b"%PDF-1,7\n",
            b" %PDF-1.7\n",
            b"GIF89a\x01\0\x01\0\0\0\0\0\0\0",
        ];
        for bytes in refused {
            assert_eq!(sniff(bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn a_pdf_header_further_in_is_not_a_pdf() {
        assert_eq!(sniff(b"PK\x03\x04%PDF-1.7\n"), None);
        assert_eq!(sniff(b"\xEF\xBB\xBF%PDF-1.7\n"), None);
    }

    proptest! {
        #[test]
        fn sniffing_agrees_with_the_head_alone(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let head = &bytes[..bytes.len().min(16)];
            prop_assert_eq!(sniff(&bytes), sniff(head));
        }
    }
}
