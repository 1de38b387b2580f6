//! Just enough PDF reading for the tests: inflate content streams, split
//! them into tokens, and read back the shown text and the QR rectangles.

use std::collections::BTreeSet;

use super::decode_all;

/// The PDF's content streams, inflated.
pub(super) fn pdf_contents(pdf: &[u8]) -> Vec<String> {
    let mut streams = Vec::new();
    let mut rest = pdf;
    while let Some(start) = find(rest, b"stream\n") {
        let body = &rest[start + 7..];
        let end = find(body, b"\nendstream").expect("endstream");
        let inflated = miniz_oxide::inflate::decompress_to_vec_zlib(&body[..end]).expect("Flate stream");
        streams.push(String::from_utf8_lossy(&inflated).into_owned());
        rest = &body[end + b"\nendstream".len()..];
    }
    streams
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Splits a content stream into operands and operators, keeping `( … )` strings whole.
fn tokens(content: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = content.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        let mut token = String::from(c);
        if c == '(' {
            let mut depth = 1;
            while let Some(c) = chars.next() {
                token.push(c);
                match c {
                    '\\' => token.extend(chars.next()),
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
            }
        } else {
            while let Some(&n) = chars.peek() {
                if n.is_whitespace() || n == '(' {
                    break;
                }
                token.push(n);
                chars.next();
            }
        }
        out.push(token);
    }
    out
}

/// The bytes of every string shown with `Tj`, one space between strings
/// (lines break at spaces, so wrapped names read back whole).
pub(super) fn shown_text(content: &str) -> Vec<u8> {
    let tokens = tokens(content);
    let mut shown: Vec<Vec<u8>> = Vec::new();
    for pair in tokens.windows(2) {
        if pair[1] != "Tj" {
            continue;
        }
        let token = &pair[0];
        let bytes = if let Some(hex) = token.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
        } else {
            let inner = token.strip_prefix('(').and_then(|t| t.strip_suffix(')')).expect("literal string");
            let mut bytes = Vec::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                bytes.push(if c == '\\' { chars.next().unwrap() as u8 } else { c as u8 });
            }
            bytes
        };
        shown.push(bytes);
    }
    shown.join(&b' ')
}

/// Rebuilds every QR code of a PDF page from its `re` rectangles (module
/// units inside `q … cm … f Q`) and decodes them with rqrr.
pub(super) fn decode_pdf_page(content: &str) -> BTreeSet<String> {
    let tokens = tokens(content);
    let mut found = BTreeSet::new();
    let mut runs: Vec<[usize; 3]> = Vec::new();
    let mut stack: Vec<&str> = Vec::new();
    for token in &tokens {
        match token.as_str() {
            "re" => {
                let n: Vec<f64> = stack.iter().map(|v| v.parse().unwrap()).collect();
                assert_eq!(n[3], 1.0, "a run is one module high");
                runs.push([n[0] as usize, n[1] as usize, n[2] as usize]);
                stack.clear();
            }
            "f" => {
                let side = runs.iter().map(|r| r[0] + r[2]).max().unwrap() + 4;
                let px = 4;
                let image = image::GrayImage::from_fn((side * px) as u32, (side * px) as u32, |x, y| {
                    let (mx, my) = (x as usize / px, y as usize / px);
                    let dark = runs.iter().any(|r| r[1] == my && (r[0]..r[0] + r[2]).contains(&mx));
                    image::Luma([if dark { 0 } else { 255 }])
                });
                found.extend(decode_all(image));
                runs.clear();
                stack.clear();
            }
            t if t.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') => stack.push(t),
            _ => stack.clear(),
        }
    }
    found
}
