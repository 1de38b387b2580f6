//! How the page puts values into the reader's words: codes, media types, file sizes, member
//! names, numbers, percentages, dates and ledger times, each in the locale's language and
//! with its decimal separator.

use salvage_ledger::entry::Timestamp;

use super::attachments_view::MemberRef;
use super::locale::Locale;

/// The translation of a code such as a category (`category.structural_steel`),
/// or the code itself with underscores as spaces if the locale has none.
pub(super) fn coded(locale: &Locale, group: &str, code: &str) -> String {
    locale.lookup(&format!("{group}.{code}")).map_or_else(|| code.replace('_', " "), str::to_owned)
}

/// A media type in words ("PDF", "JPEG image"), or as written if the locale
/// does not know it.
pub(super) fn media_type(media: &str, locale: &Locale) -> String {
    let key = format!("media_type.{}", media.replace(['/', '.', '+', '-'], "_"));
    locale.lookup(&key).map_or_else(|| media.to_owned(), str::to_owned)
}

/// A file's length in bytes, KB or MB (of 1024), with one decimal below 10.
pub(super) fn file_size(bytes: u64, locale: &Locale) -> String {
    const KB: f64 = 1024.0;
    // Exact: the schema bounds sizes to 2^53 - 1.
    let exact = bytes as f64;
    let (value, key) = match bytes {
        0..1024 => (exact, "size.bytes"),
        1024..1_048_576 => (exact / KB, "size.kb"),
        _ => (exact / (KB * KB), "size.mb"),
    };
    let shown = if value < 10.0 { (value * 10.0).round() / 10.0 } else { value.round() };
    locale.format(key, &[("size", &number(shown, locale))])
}

/// Member names joined for a sentence.
pub(super) fn names(members: &[MemberRef]) -> String {
    members.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// A number with at most three decimals and the locale's decimal separator.
pub(super) fn number(value: f64, locale: &Locale) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.replace('.', locale.text("number.decimal_separator"))
}

/// A fraction from 0 to 1 as a percentage.
pub(super) fn percent(fraction: f64, locale: &Locale) -> String {
    let text = format!("{:.1}", fraction * 100.0);
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{}\u{a0}%", text.replace('.', locale.text("number.decimal_separator")))
}

/// A ledger time (RFC 3339 UTC) in the locale's words, to the minute.
pub(super) fn timestamp(time: &Timestamp, locale: &Locale) -> String {
    let text = time.as_str();
    match (text.get(0..10).and_then(|d| date_parts(d, locale)), text.get(11..16)) {
        (Some((day, month, year)), Some(clock)) => {
            locale.format("date.timestamp", &[("day", &day), ("month", &month), ("year", &year), ("time", clock)])
        }
        _ => text.to_owned(),
    }
}

/// A calendar date (`YYYY-MM-DD`) in the locale's words, or as given if it is not one.
pub(super) fn date(text: &str, locale: &Locale) -> String {
    match date_parts(text, locale) {
        Some((day, month, year)) => locale.format("date.day", &[("day", &day), ("month", &month), ("year", &year)]),
        None => text.to_owned(),
    }
}

/// Day (without leading zero), month name and year of `YYYY-MM-DD`.
fn date_parts(text: &str, locale: &Locale) -> Option<(String, String, String)> {
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let month: u8 = month.parse().ok().filter(|m| (1..=12).contains(m))?;
    let day: u8 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    Some((day.to_string(), locale.text(&format!("month.{month}")).to_owned(), year.to_owned()))
}
