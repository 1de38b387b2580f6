//! The content checks ("linters") of the GS1 Barcode Syntax Dictionary that
//! Salvage's AIs use.

use super::super::gs1::check_digit;
use super::super::is_gs1_cset82;
use super::ValueError;
use super::table::{Charset, Component, Lint};

/// The shortest GS1 company prefix (the syntax dictionary's `key` linter checks these first digits).
const MIN_KEY_PREFIX: usize = 4;

/// Checks one component, `piece`, which starts at the 0-based character `offset` of the value.
pub(super) fn check_component(component: &Component, piece: &[char], offset: usize) -> Result<(), ValueError> {
    for (index, character) in piece.iter().copied().enumerate() {
        let position = offset + index + 1;
        match component.charset {
            Charset::Numeric if !character.is_ascii_digit() => {
                return Err(ValueError::NotDigit { position, character });
            }
            Charset::Cset82 if !is_gs1_cset82(character) => {
                return Err(ValueError::Character { position, character });
            }
            _ => {}
        }
    }
    let text: String = piece.iter().collect();
    let number = |from: usize| -> u32 { text.get(from..from + 2).and_then(|two| two.parse().ok()).unwrap_or(0) };
    match component.lint {
        Lint::None => Ok(()),
        Lint::CheckDigit => {
            let (body, found) = text.split_at_checked(text.len().saturating_sub(1)).unwrap_or((&text, ""));
            match (check_digit(body), found.chars().next()) {
                (Some(expected), Some(found)) if found != char::from(b'0' + expected) => {
                    Err(ValueError::CheckDigit { position: offset + piece.len(), found, expected })
                }
                _ => Ok(()),
            }
        }
        Lint::Date { day_zero } => {
            let (year, month, day) = (number(0), number(2), number(4));
            let reason = if !(1..=12).contains(&month) {
                Some("the month must be 01 to 12")
            } else if day == 0 && !day_zero {
                Some("day 00 is not allowed here")
            } else if day > days_in_month(year, month) {
                Some("that month has fewer days")
            } else {
                None
            };
            reason.map_or(Ok(()), |reason| Err(ValueError::Date { position: offset + 1, date: text.clone(), reason }))
        }
        Lint::Time => {
            let reason = if number(0) > 23 {
                Some("the hour must be 00 to 23")
            } else if number(2) > 59 {
                Some("the minute must be 00 to 59")
            } else {
                None
            };
            reason.map_or(Ok(()), |reason| Err(ValueError::Time { position: offset + 1, time: text.clone(), reason }))
        }
        Lint::Zero => match piece.first() {
            Some('0') | None => Ok(()),
            Some(found) => Err(ValueError::Filler { position: offset + 1, found: *found }),
        },
        Lint::CompanyPrefix => {
            if piece.len() < MIN_KEY_PREFIX {
                return Err(ValueError::Length {
                    found: piece.len(),
                    expected: format!(
                        "{MIN_KEY_PREFIX} to {}, a company prefix of 4 digits or more first",
                        component.max
                    ),
                });
            }
            match piece.iter().take(MIN_KEY_PREFIX).position(|character| !character.is_ascii_digit()) {
                Some(index) => Err(ValueError::CompanyPrefix {
                    position: offset + index + 1,
                    found: piece.get(index).copied().unwrap_or(' '),
                }),
                None => Ok(()),
            }
        }
        Lint::ImporterIndex => match piece.first() {
            Some(found) if !(found.is_ascii_alphanumeric() || *found == '-' || *found == '_') => {
                Err(ValueError::ImporterIndex { position: offset + 1, found: *found })
            }
            _ => Ok(()),
        },
    }
}

/// The days of a month in year `yy`. GS1 General Specifications §7.12
/// ("Determination of century in dates") puts every YY within 50 years of the
/// current year, so until 2051 each YY divisible by 4 is a leap year (2000 was
/// one; 1900 and 2100 fall outside the window until then).
fn days_in_month(yy: u32, month: u32) -> u32 {
    match month {
        2 if yy.is_multiple_of(4) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}
