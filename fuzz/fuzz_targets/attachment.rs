//! Uploaded files (docs/format.md §15): a node sniffs every upload, looks for location metadata
//! in it and derives thumbnails of images; the CLI strips a photo's metadata before upload.
//!
//! Beyond "never panics": sniffing reads only the first 16 bytes; whatever the CLI's stripping
//! returns is the same kind of file; a thumbnail is a JPEG whose header gives the size it
//! claims, never wider than asked.
//!
//! Not checked: that stripped output shows no location metadata. Stripping keeps the segments
//! and chunks an image needs (tables, pixel data) byte for byte, and the node's search counts
//! Exif-like bytes anywhere in a JPEG (it scans the whole file for the images phones append), so
//! a crafted file hiding a GPS Exif inside a kept Huffman table is still refused after stripping:
//! failing closed, as `salvage attach` says when it refuses such a file (found by this target,
//! the input is in its corpus as `exif-inside-a-huffman-table.jpg`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use salvage_cli::strip::strip_metadata;
use salvage_ledger::attachment::{MediaType, location_metadata, sniff};
use salvage_node::attachments::thumbnail::{jpeg_dimensions, thumbnail};

fuzz_target!(|data: &[u8]| {
    let kind = sniff(data);
    assert_eq!(kind, sniff(&data[..data.len().min(16)]), "sniffing reads only the first 16 bytes");
    for media_type in MediaType::ALL {
        let _ = location_metadata(data, media_type);
    }
    let Some(media_type) = kind else { return };
    if let Ok(stripped) = strip_metadata(data, media_type) {
        assert_eq!(sniff(&stripped), Some(media_type), "stripping keeps the kind of file");
        let _ = location_metadata(&stripped, media_type);
    }
    if media_type.is_image()
        && let Ok(small) = thumbnail(data, media_type, 64)
    {
        assert!(small.width <= 64, "a thumbnail wider than asked");
        assert_eq!(jpeg_dimensions(&small.jpeg), Some((small.width, small.height)));
    }
});
