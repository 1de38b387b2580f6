//! Text on labels: cleaning, measuring, wrapping and escaping.
//!
//! Labels are laid out once, in millimetres, and then drawn as SVG or PDF, so
//! the text must be measured without a font engine. Both outputs name
//! Helvetica (SVG falls back to Arial, which has the same widths), so the
//! Adobe font metrics of Helvetica and Helvetica-Bold below give widths that
//! match the printed text closely.

use std::fmt::Write as _;

/// How heavy a line of text is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Weight {
    /// Helvetica.
    Regular,
    /// Helvetica-Bold.
    Bold,
}

/// Where a line that is too long may be broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Breaks {
    /// Between words; a single word longer than the line is split.
    Words,
    /// After any character: identifiers and URIs have no words.
    Anywhere,
}

/// How one block of text may be set: the size it would like, the smallest
/// size it may shrink to, and how many lines it may take.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TextStyle {
    /// Preferred font size in millimetres (the em height).
    pub(crate) size: f64,
    /// Smallest font size, in millimetres, before the text is cut short.
    pub(crate) min_size: f64,
    /// Weight of the font.
    pub(crate) weight: Weight,
    /// Where lines may break.
    pub(crate) breaks: Breaks,
    /// Most lines the block may take.
    pub(crate) max_lines: usize,
}

/// A block of text fitted to a column width.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FittedText {
    /// Font size chosen, in millimetres.
    pub(crate) size: f64,
    /// The lines, top to bottom.
    pub(crate) lines: Vec<String>,
    /// Whether the text was cut short and ends in an ellipsis.
    pub(crate) truncated: bool,
}

/// Most characters of one text that are considered for a label.
const MAX_CHARS: usize = 2000;

/// The character that marks text cut short (it exists in WinAnsi, so the PDF keeps it).
pub(crate) const ELLIPSIS: char = '\u{2026}';

/// Fits `text` into lines no wider than `width_mm`.
///
/// The preferred size is tried first and the font shrinks in small steps
/// while the text needs more than `style.max_lines` lines; at the smallest
/// size the last line is cut short with an ellipsis, so a label never
/// overflows however long the name is.
pub(crate) fn fit(text: &str, style: TextStyle, width_mm: f64) -> FittedText {
    let mut text = clean(text);
    // No label shows more than a few hundred characters; cutting huge input
    // first keeps line breaking (quadratic in the worst case) fast.
    if let Some((cut, _)) = text.char_indices().nth(MAX_CHARS) {
        text.truncate(cut);
        text.push(ELLIPSIS);
    }
    let mut size = style.size;
    loop {
        let lines = wrap(&text, style, size, width_mm);
        if lines.len() <= style.max_lines {
            return FittedText { size, lines, truncated: false };
        }
        if size <= style.min_size {
            return truncate(lines, style, size, width_mm);
        }
        size = (size * 0.95).max(style.min_size);
    }
}

/// Width of `text` set in `weight` at `size` millimetres, in millimetres.
pub(crate) fn width_mm(text: &str, weight: Weight, size: f64) -> f64 {
    let units: u32 = text.chars().map(|c| char_units(c, weight)).sum();
    f64::from(units) * size / 1000.0
}

/// Collapses every run of whitespace to one space, drops control and other
/// characters that XML and PDF text cannot carry, and trims the ends.
pub(crate) fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        let word: String = word.chars().filter(|&c| !c.is_control() && !is_noncharacter(c)).collect();
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// Escapes text for use in XML character data and attribute values.
pub(crate) fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() || is_noncharacter(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Makes text showable with the PDF's standard Helvetica, which has only the
/// Windows-1252 ("WinAnsi") characters.
///
/// Text made only of WinAnsi characters is kept as it is (`Türblatt`). Text
/// with any other character is transliterated to ASCII as a whole, so that a
/// word never mixes kept and dropped accents: `Ķieģeļu mūris & Šķūnis`
/// prints as `Kiegelu muris & Skunis`. Embedding a font instead would make
/// every sheet far larger for the few letters involved.
pub(crate) fn to_win_ansi_text(text: &str) -> String {
    if text.chars().all(|c| win_ansi_byte(c).is_some()) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() || c == ELLIPSIS {
            out.push(c);
            continue;
        }
        match deunicode::deunicode_char(c) {
            Some(ascii) => out.extend(ascii.chars().filter(|a| a.is_ascii_graphic() || *a == ' ')),
            None => out.push('?'),
        }
    }
    out
}

/// Encodes text that [`to_win_ansi_text`] produced as WinAnsi bytes; any
/// character still outside the encoding becomes `?`.
pub(crate) fn win_ansi_bytes(text: &str) -> Vec<u8> {
    text.chars().map(|c| win_ansi_byte(c).unwrap_or(b'?')).collect()
}

/// Formats a length in millimetres or points with at most three decimals,
/// without trailing zeros, as SVG and PDF both read it.
pub(crate) fn number(value: f64) -> String {
    let mut s = String::new();
    let _ = write!(s, "{:.3}", value);
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.');
        s.truncate(trimmed.len());
    }
    if s == "-0" { "0".to_owned() } else { s }
}

/// The WinAnsi (Windows-1252) byte of `c`, if it has one and is printable.
fn win_ansi_byte(c: char) -> Option<u8> {
    let code = u32::from(c);
    match code {
        0x20..=0x7E | 0xA0..=0xFF => u8::try_from(code).ok(),
        _ => {
            // The 0x80–0x9F block of Windows-1252, where it differs from Latin-1.
            const HIGH: [(char, u8); 27] = [
                ('€', 0x80),
                ('‚', 0x82),
                ('ƒ', 0x83),
                ('„', 0x84),
                ('…', 0x85),
                ('†', 0x86),
                ('‡', 0x87),
                ('ˆ', 0x88),
                ('‰', 0x89),
                ('Š', 0x8A),
                ('‹', 0x8B),
                ('Œ', 0x8C),
                ('Ž', 0x8E),
                ('‘', 0x91),
                ('’', 0x92),
                ('“', 0x93),
                ('”', 0x94),
                ('•', 0x95),
                ('–', 0x96),
                ('—', 0x97),
                ('˜', 0x98),
                ('™', 0x99),
                ('š', 0x9A),
                ('›', 0x9B),
                ('œ', 0x9C),
                ('ž', 0x9E),
                ('Ÿ', 0x9F),
            ];
            HIGH.iter().find(|(h, _)| *h == c).map(|&(_, b)| b)
        }
    }
}

/// Unicode noncharacters, which XML 1.0 does not allow in documents.
fn is_noncharacter(c: char) -> bool {
    let code = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE
}

/// Advance width of `c` in thousandths of an em.
///
/// ASCII comes from the Adobe metrics; other characters are measured as
/// their ASCII transliteration (accented letters are as wide as their base
/// letter in Helvetica), and characters without one count as a full em so
/// that estimates err on the wide side.
fn char_units(c: char, weight: Weight) -> u32 {
    let table = match weight {
        Weight::Regular => &HELVETICA,
        Weight::Bold => &HELVETICA_BOLD,
    };
    let ascii_units = |a: char| {
        let index = (u32::from(a)).checked_sub(0x20).and_then(|i| usize::try_from(i).ok());
        index.and_then(|i| table.get(i)).map(|&w| u32::from(w))
    };
    if let Some(units) = ascii_units(c) {
        return units;
    }
    if c == ELLIPSIS {
        return 1000;
    }
    match deunicode::deunicode_char(c) {
        Some(ascii) if !ascii.trim().is_empty() => {
            ascii.chars().map(|a| ascii_units(a).unwrap_or(556)).sum::<u32>().min(1000)
        }
        _ => 1000,
    }
}

/// Greedy line breaking of cleaned text at one font size.
fn wrap(text: &str, style: TextStyle, size: f64, width: f64) -> Vec<String> {
    let fits = |s: &str| width_mm(s, style.weight, size) <= width;
    let mut lines = Vec::new();
    let mut line = String::new();
    let pieces: Vec<&str> = match style.breaks {
        Breaks::Words => text.split(' ').collect(),
        Breaks::Anywhere => vec![text],
    };
    for piece in pieces.into_iter().filter(|p| !p.is_empty()) {
        let candidate = if line.is_empty() { piece.to_owned() } else { format!("{line} {piece}") };
        if fits(&candidate) {
            line = candidate;
            continue;
        }
        if !line.is_empty() && style.breaks == Breaks::Words {
            lines.push(std::mem::take(&mut line));
            if fits(piece) {
                line = piece.to_owned();
                continue;
            }
        }
        // The piece is longer than a line: split it between characters.
        let mut rest = piece.to_owned();
        while !rest.is_empty() {
            let consumed = fitting_prefix(&rest, style.breaks, &fits);
            if consumed >= rest.len() {
                line = rest;
                break;
            }
            let (head, tail) = rest.split_at_checked(consumed).unwrap_or((rest.as_str(), ""));
            lines.push(head.trim_end().to_owned());
            rest = tail.trim_start().to_owned();
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Length in bytes of the longest start of `rest` that fits one line (at
/// least one character). When the text has no words, a break just after a
/// separator (`/`, `-`, `?`, `&`, `=`, space) in the second half of the line
/// is preferred, so URIs break between their parts.
fn fitting_prefix(rest: &str, breaks: Breaks, fits: &dyn Fn(&str) -> bool) -> usize {
    let mut taken = String::new();
    let mut consumed = 0;
    for c in rest.chars() {
        taken.push(c);
        if consumed > 0 && !fits(&taken) {
            break;
        }
        consumed += c.len_utf8();
    }
    if consumed >= rest.len() || breaks == Breaks::Words {
        return consumed;
    }
    let head = rest.get(..consumed).unwrap_or(rest);
    match head.rfind(['/', '-', '?', '&', '=', ' ']) {
        Some(at) if at + 1 >= consumed / 2 && at + 1 < consumed => at + 1,
        _ => consumed,
    }
}

/// Keeps the first `max_lines` lines, the last of them cut short with an ellipsis.
fn truncate(lines: Vec<String>, style: TextStyle, size: f64, width: f64) -> FittedText {
    let keep = style.max_lines.max(1);
    let mut kept: Vec<String> = lines.into_iter().take(keep).collect();
    let mut last = kept.pop().unwrap_or_default();
    loop {
        let candidate = format!("{}{ELLIPSIS}", last.trim_end());
        if width_mm(&candidate, style.weight, size) <= width || last.is_empty() {
            kept.push(candidate);
            break;
        }
        last.pop();
    }
    // A style that allows no lines at all still reports the cut, with no text.
    if style.max_lines == 0 {
        kept.clear();
    }
    FittedText { size, lines: kept, truncated: true }
}

/// Helvetica advance widths for ASCII 0x20–0x7E (Adobe AFM, WinAnsi glyphs).
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space–/
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0–?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @–O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P–_
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // `–o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p–~
];

/// Helvetica-Bold advance widths for ASCII 0x20–0x7E (Adobe AFM, WinAnsi glyphs).
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // space–/
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 0–?
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // @–O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // P–_
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // `–o
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, // p–~
];
