//! Thumbnails of attached photos, for the provenance page.
//!
//! The page shows each photo of an item as a small JPEG rather than the member's original, which
//! may be a 12-megapixel file of several MiB. The originals come from members' uploads, so the
//! decoding is bounded: sides of at most 12 000 pixels and a decoded image of at most 256 MiB,
//! both checked from the file's header before any pixel buffer exists.
//! Phones store photos as the sensor saw them and say how to turn them in the Exif Orientation
//! tag; the thumbnail is turned accordingly, since it carries no Exif of its own.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, Rgb, RgbImage};
use salvage_ledger::attachment::MediaType;

/// The width, in pixels, of the thumbnails the provenance page shows.
pub const THUMBNAIL_WIDTH: u32 = 480;

/// A thumbnail: a baseline JPEG and its size in pixels, for the page's `img` attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// The JPEG file.
    pub jpeg: Vec<u8>,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
}

/// Why an attachment has no thumbnail.
#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    /// The attachment is a document, not a picture.
    #[error("a {0} attachment is not an image")]
    NotAnImage(MediaType),
    /// The bytes are not a well-formed image of their media type.
    #[error("the image cannot be decoded: {0}")]
    Undecodable(String),
    /// The image's header declares more pixels than a node decodes.
    #[error("the image is too large to thumbnail: {0}")]
    TooLarge(String),
    /// The JPEG encoder refused the thumbnail (not expected: its sides are within JPEG's limits).
    #[error("the thumbnail cannot be encoded: {0}")]
    Encode(String),
}

/// A JPEG (quality 80) at most `width` px wide (never upscaled), aspect kept, EXIF orientation
/// applied, of an accepted image (`media_type.is_image()`).
///
/// Transparent pixels are laid over white, as the page's background is, since JPEG has no alpha.
/// A `width` of 0 is taken as 1. Never panics, whatever the bytes. A JPEG cut short in its image
/// data still gives a thumbnail, its missing part filled in, as browsers show such a file.
pub fn thumbnail(bytes: &[u8], media_type: MediaType, width: u32) -> Result<Thumbnail, ThumbnailError> {
    let format = match media_type {
        MediaType::Jpeg => ImageFormat::Jpeg,
        MediaType::Png => ImageFormat::Png,
        MediaType::Webp => ImageFormat::WebP,
        MediaType::Pdf => return Err(ThumbnailError::NotAnImage(media_type)),
    };
    let (image, orientation) = decode(bytes, format)?;

    // The size is chosen for the image as shown (turned), but the turn is applied to the small
    // image afterwards: turning the full-size one would copy every pixel once more.
    let turned = matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    );
    let (shown_width, shown_height) =
        if turned { (image.height(), image.width()) } else { (image.width(), image.height()) };
    let (width, height) = fit(shown_width, shown_height, width.max(1));
    let (stored_width, stored_height) = if turned { (height, width) } else { (width, height) };

    let small = shrink(over_white(image), stored_width, stored_height);
    let mut small = DynamicImage::ImageRgb8(small);
    small.apply_orientation(orientation);

    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, QUALITY)
        .encode_image(&small)
        .map_err(|error| ThumbnailError::Encode(error.to_string()))?;
    Ok(Thumbnail { jpeg, width: small.width(), height: small.height() })
}

/// Width and height of a JPEG (read from its header only, e.g. a stored thumbnail), for the
/// page's img attributes.
///
/// None if the bytes do not start like a JPEG, or end, or reach the image data, before a frame
/// header (SOFn) that gives both sides.
pub fn jpeg_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut at = 2;
    loop {
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        if marker == 0xFF {
            // A fill byte before the marker (ITU-T T.81 §B.1.1.2).
            at += 1;
            continue;
        }
        let length = usize::from(u16::from_be_bytes([*bytes.get(at + 2)?, *bytes.get(at + 3)?]));
        if is_frame_header(marker) {
            // Length (2 bytes), sample precision (1), number of lines (2), samples per line (2).
            let height = u16::from_be_bytes([*bytes.get(at + 5)?, *bytes.get(at + 6)?]);
            let width = u16::from_be_bytes([*bytes.get(at + 7)?, *bytes.get(at + 8)?]);
            return (width > 0 && height > 0).then_some((u32::from(width), u32::from(height)));
        }
        // The image data starts (SOS) or ends (EOI) without a frame header, or a marker that
        // has no length appears where only segments may: not a JPEG this reads.
        if matches!(marker, 0xDA | 0xD9) || length < 2 || !has_length(marker) {
            return None;
        }
        at = at.checked_add(2 + length)?;
    }
}

/// The longest side a node decodes, in pixels: above any phone or camera photo.
const MAX_SIDE: u32 = 12_000;

/// The most bytes a decoded image may take: an RGB photo of up to 89 megapixels, or an RGBA image
/// of 67, fits; a decompression bomb does not. The conversions after decoding take at most as
/// much again.
const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// The JPEG quality of thumbnails: no visible blocks at 480 pixels, a few tens of KiB.
const QUALITY: u8 = 80;

/// Decodes within the limits and reads the Exif orientation. A missing or unreadable
/// orientation is no reason to refuse a photo: it is then shown as stored.
fn decode(bytes: &[u8], format: ImageFormat) -> Result<(DynamicImage, Orientation), ThumbnailError> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    // `into_decoder` checks the sides against the limits but, unlike `decode`, does not reserve
    // the output buffer against `max_alloc`: that check is made here, from the header.
    let mut decoder = reader.into_decoder().map_err(refusal)?;
    let needed = decoder.total_bytes();
    if needed > MAX_ALLOC {
        let (width, height) = decoder.dimensions();
        return Err(ThumbnailError::TooLarge(format!(
            "{width}×{height} pixels decode to {needed} bytes, more than {MAX_ALLOC}"
        )));
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(refusal)?;
    Ok((image, orientation))
}

/// The error for an image the decoder refused: too large when a limit said so.
fn refusal(error: ImageError) -> ThumbnailError {
    match error {
        ImageError::Limits(limit) => ThumbnailError::TooLarge(limit.to_string()),
        other => ThumbnailError::Undecodable(other.to_string()),
    }
}

/// The size of an image `width`×`height` made at most `max_width` wide, aspect kept (rounded,
/// at least one pixel high); its own size if it is no wider.
fn fit(width: u32, height: u32, max_width: u32) -> (u32, u32) {
    if width <= max_width {
        return (width, height);
    }
    let scaled = (u64::from(height) * u64::from(max_width) + u64::from(width) / 2) / u64::from(width);
    // `scaled` is at most `height`, since `max_width` < `width`.
    (max_width, u32::try_from(scaled).unwrap_or(height).max(1))
}

/// The image in 8-bit RGB, transparent pixels laid over white.
fn over_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let mut rgb = RgbImage::new(rgba.width(), rgba.height());
    for (out, pixel) in rgb.pixels_mut().zip(rgba.pixels()) {
        let alpha = u32::from(pixel[3]);
        // c·α + 255·(1 − α), in 0..=255 for every c and α.
        let blend = |c: u8| ((u32::from(c) * alpha + 255 * (255 - alpha) + 127) / 255) as u8;
        *out = Rgb([blend(pixel[0]), blend(pixel[1]), blend(pixel[2])]);
    }
    rgb
}

/// The image scaled to `width`×`height`. A much larger image is first averaged down to twice
/// that size (a box filter, reading each pixel once, fast), then filtered to the size with a
/// triangle filter, which a box alone would leave jagged.
fn shrink(image: RgbImage, width: u32, height: u32) -> RgbImage {
    if image.dimensions() == (width, height) {
        return image;
    }
    let boxed = if image.width() >= 4 * width && image.height() >= 4 * height {
        imageops::thumbnail(&image, 2 * width, 2 * height)
    } else {
        image
    };
    imageops::resize(&boxed, width, height, FilterType::Triangle)
}

/// Whether `marker` starts a frame header: SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC).
fn is_frame_header(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// Whether a segment with `marker` has a length: all but TEM, RSTn, SOI and EOI (T.81 §B.1.1.4).
fn has_length(marker: u8) -> bool {
    !matches!(marker, 0x00 | 0x01 | 0xD0..=0xD9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::png::PngEncoder;
    use image::{ExtendedColorType, GenericImageView, ImageEncoder, Rgba, RgbaImage};

    const RED: Rgb<u8> = Rgb([220, 20, 20]);
    const BLUE: Rgb<u8> = Rgb([20, 20, 220]);

    /// A picture whose top half is red and bottom half blue, with a gradient for texture.
    fn picture(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| {
            let [r, g, b] = if y < height / 2 { RED.0 } else { BLUE.0 };
            Rgb([r, g.saturating_add((x * 30 / width) as u8), b])
        })
    }

    fn jpeg(image: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 90).encode_image(image).unwrap();
        out
    }

    fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    /// `jpeg` with an APP1 Exif segment right after SOI whose IFD0 holds only Orientation.
    fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        let mut app1 = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
        app1.extend_from_slice(&orientation.to_be_bytes());
        app1.extend_from_slice(&[0; 6]);
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend_from_slice(&(app1.len() as u16 + 2).to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    /// A PNG of only a header declaring `width`×`height` RGBA pixels of `depth` bits.
    fn png_header(width: u32, height: u32, depth: u8) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut chunk = |kind: &[u8], data: &[u8]| {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let start = out.len();
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            let crc = crc32fast::hash(&out[start..]);
            out.extend_from_slice(&crc.to_be_bytes());
        };
        let mut ihdr = [width.to_be_bytes(), height.to_be_bytes()].concat();
        ihdr.extend_from_slice(&[depth, 6, 0, 0, 0]);
        chunk(b"IHDR", &ihdr);
        chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        chunk(b"IEND", &[]);
        out
    }

    fn decoded(thumbnail: &Thumbnail) -> RgbImage {
        let image = image::load_from_memory_with_format(&thumbnail.jpeg, ImageFormat::Jpeg).unwrap();
        assert_eq!(image.dimensions(), (thumbnail.width, thumbnail.height));
        assert_eq!(jpeg_dimensions(&thumbnail.jpeg), Some((thumbnail.width, thumbnail.height)));
        image.into_rgb8()
    }

    fn near(pixel: &Rgb<u8>, expected: Rgb<u8>) -> bool {
        pixel.0.iter().zip(expected.0).all(|(a, b)| a.abs_diff(b) <= 40)
    }

    #[test]
    fn a_landscape_jpeg_is_made_480_wide_with_its_aspect() {
        let thumbnail = thumbnail(&jpeg(&picture(1200, 800)), MediaType::Jpeg, THUMBNAIL_WIDTH).unwrap();
        assert_eq!((thumbnail.width, thumbnail.height), (480, 320));
        let pixels = decoded(&thumbnail);
        assert!(near(pixels.get_pixel(240, 60), RED), "{:?}", pixels.get_pixel(240, 60));
        assert!(near(pixels.get_pixel(240, 260), BLUE), "{:?}", pixels.get_pixel(240, 260));
    }

    #[test]
    fn a_portrait_keeps_its_aspect_and_a_large_photo_is_thumbnailed() {
        let portrait = thumbnail(&jpeg(&picture(800, 1200)), MediaType::Jpeg, THUMBNAIL_WIDTH).unwrap();
        assert_eq!((portrait.width, portrait.height), (480, 720));
        // Large enough for the box pass before the triangle filter (at least 4× the thumbnail).
        let photo = thumbnail(&jpeg(&picture(2000, 1500)), MediaType::Jpeg, THUMBNAIL_WIDTH).unwrap();
        assert_eq!((photo.width, photo.height), (480, 360));
        decoded(&photo);
    }

    #[test]
    fn a_small_image_is_not_upscaled() {
        let thumbnail = thumbnail(&jpeg(&picture(200, 150)), MediaType::Jpeg, THUMBNAIL_WIDTH).unwrap();
        assert_eq!((thumbnail.width, thumbnail.height), (200, 150));
        decoded(&thumbnail);
    }

    #[test]
    fn exif_orientation_6_turns_the_thumbnail_clockwise() {
        let turned = with_orientation(&jpeg(&picture(1200, 800)), 6);
        let thumbnail = thumbnail(&turned, MediaType::Jpeg, THUMBNAIL_WIDTH).unwrap();
        assert_eq!((thumbnail.width, thumbnail.height), (480, 720));
        // Turned a quarter clockwise, the red top half is now on the right.
        let pixels = decoded(&thumbnail);
        assert!(near(pixels.get_pixel(400, 360), RED), "{:?}", pixels.get_pixel(400, 360));
        assert!(near(pixels.get_pixel(80, 360), BLUE), "{:?}", pixels.get_pixel(80, 360));
    }

    #[test]
    fn a_transparent_png_is_laid_over_white() {
        let image =
            RgbaImage::from_fn(1200, 800, |x, _| if x < 600 { Rgba([0, 0, 0, 0]) } else { Rgba([20, 20, 220, 255]) });
        let png = encoded(DynamicImage::ImageRgba8(image), ImageFormat::Png);
        let thumbnail = thumbnail(&png, MediaType::Png, THUMBNAIL_WIDTH).unwrap();
        assert_eq!((thumbnail.width, thumbnail.height), (480, 320));
        let pixels = decoded(&thumbnail);
        assert!(near(pixels.get_pixel(60, 160), Rgb([255, 255, 255])), "{:?}", pixels.get_pixel(60, 160));
        assert!(near(pixels.get_pixel(420, 160), BLUE), "{:?}", pixels.get_pixel(420, 160));
    }

    #[test]
    fn a_lossless_webp_is_thumbnailed() {
        let webp = encoded(DynamicImage::ImageRgb8(picture(1200, 800)), ImageFormat::WebP);
        let thumbnail = thumbnail(&webp, MediaType::Webp, THUMBNAIL_WIDTH).unwrap();
        assert_eq!((thumbnail.width, thumbnail.height), (480, 320));
        assert!(near(decoded(&thumbnail).get_pixel(240, 60), RED));
    }

    #[test]
    fn a_pdf_is_not_an_image() {
        let refused = thumbnail(b"%PDF-1.7\n", MediaType::Pdf, THUMBNAIL_WIDTH);
        assert!(matches!(refused, Err(ThumbnailError::NotAnImage(MediaType::Pdf))), "{refused:?}");
    }

    #[test]
    fn garbage_and_truncated_images_are_refused() {
        let whole = jpeg(&picture(1200, 800));
        let png = encoded(DynamicImage::ImageRgb8(picture(300, 200)), ImageFormat::Png);
        for (bytes, media_type) in [
            (&b""[..], MediaType::Jpeg),
            (b"\xFF\xD8\xFF\xE0 not a jpeg at all", MediaType::Jpeg),
            (&whole[..200], MediaType::Jpeg),
            (&png[..png.len() / 2], MediaType::Png),
            (b"RIFF\x20\0\0\0WEBPVP8L\x10\0\0\0garbage garbage!", MediaType::Webp),
            (&whole, MediaType::Png),
        ] {
            let refused = thumbnail(bytes, media_type, THUMBNAIL_WIDTH);
            assert!(matches!(refused, Err(ThumbnailError::Undecodable(_))), "{refused:?}");
        }
    }

    #[test]
    fn mangled_images_never_panic() {
        let originals = [
            (jpeg(&picture(64, 48)), MediaType::Jpeg),
            (encoded(DynamicImage::ImageRgb8(picture(64, 48)), ImageFormat::Png), MediaType::Png),
            (encoded(DynamicImage::ImageRgb8(picture(64, 48)), ImageFormat::WebP), MediaType::Webp),
        ];
        let mut state = 0x2545_f491_u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as usize
        };
        for (original, media_type) in &originals {
            for _ in 0..200 {
                let mut bytes = original.clone();
                for _ in 0..1 + next() % 4 {
                    let at = next() % bytes.len();
                    bytes[at] = next() as u8;
                }
                bytes.truncate(bytes.len() - next() % 8);
                let _ = thumbnail(&bytes, *media_type, THUMBNAIL_WIDTH);
                let _ = jpeg_dimensions(&bytes);
            }
        }
    }

    #[test]
    fn headers_declaring_too_many_pixels_are_refused_before_decoding() {
        for png in [png_header(100_000, 100_000, 8), png_header(11_000, 11_000, 16)] {
            let refused = thumbnail(&png, MediaType::Png, THUMBNAIL_WIDTH);
            assert!(matches!(refused, Err(ThumbnailError::TooLarge(_))), "{refused:?}");
        }
        // A JPEG whose frame header says 60000×60000.
        let mut huge = jpeg(&picture(16, 16));
        let sof = huge.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        huge[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
        let refused = thumbnail(&huge, MediaType::Jpeg, THUMBNAIL_WIDTH);
        assert!(matches!(refused, Err(ThumbnailError::TooLarge(_))), "{refused:?}");
    }

    #[test]
    fn jpeg_dimensions_come_from_the_frame_header() {
        let mut out = Vec::new();
        PngEncoder::new(&mut out).write_image(&[0; 12], 2, 2, ExtendedColorType::Rgb8).unwrap();
        assert_eq!(jpeg_dimensions(&out), None);
        assert_eq!(jpeg_dimensions(&with_orientation(&jpeg(&picture(321, 123)), 6)), Some((321, 123)));
        let whole = jpeg(&picture(321, 123));
        let sof = whole.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        for cut in [0, 2, 3, 20, sof + 8] {
            assert_eq!(jpeg_dimensions(&whole[..cut]), None, "cut at {cut}");
        }
        assert_eq!(jpeg_dimensions(&whole[..sof + 9]), Some((321, 123)));
    }
}
