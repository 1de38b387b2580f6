//! The errors of element strings and of AI values, with where they were found.

use std::fmt;

/// Where in its input an element was found, for error messages.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// The 1-based character position of the element's `(` in a human-readable element string.
    Character(usize),
    /// The 1-based position of a pair handed to [`super::ElementString::from_pairs`] or [`super::ElementString::push`].
    Pair(usize),
    /// The 1-based position of an AI among the AI/value pairs of a Digital Link path; the primary key is 1.
    Path(usize),
    /// The 1-based position of a parameter in a Digital Link query string.
    Query(usize),
}

/// What is wrong with the value of one AI.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// The value is empty; every AI carries at least one character.
    #[error("the value is empty")]
    Empty,
    /// The value is too short or too long for its AI.
    #[error("the value has {found} characters, but this AI takes {expected}")]
    Length {
        /// The number of characters found.
        found: usize,
        /// The lengths allowed, in words ("exactly 14", "1 to 20").
        expected: String,
    },
    /// A character other than 0–9 in a numeric part.
    #[error("character {position} of the value is {character:?}, but only the digits 0-9 are allowed there")]
    NotDigit {
        /// The 1-based position in the value.
        position: usize,
        /// The offending character.
        character: char,
    },
    /// A character outside GS1 AI encodable character set 82 (General Specifications Figure 7.11-1).
    #[error("character {position} of the value is {character:?}, outside the GS1 AI encodable character set 82")]
    Character {
        /// The 1-based position in the value.
        position: usize,
        /// The offending character.
        character: char,
    },
    /// The check digit does not match the digits before it (General Specifications §7.9).
    #[error(
        "the check digit at character {position} of the value is {found}, but the digits before it give {expected}"
    )]
    CheckDigit {
        /// The 1-based position of the check digit in the value.
        position: usize,
        /// The check digit found.
        found: char,
        /// The check digit the other digits call for.
        expected: u8,
    },
    /// The digits are not a real date in YYMMDD form.
    #[error("characters {position} to {} of the value hold {date:?}, which is not a date YYMMDD: {reason}", position + 5)]
    Date {
        /// The 1-based position of the date in the value.
        position: usize,
        /// The six digits.
        date: String,
        /// What is wrong with them.
        reason: &'static str,
    },
    /// The digits are not a time of day in HHMM form.
    #[error("characters {position} to {} of the value hold {time:?}, which is not a time HHMM: {reason}", position + 3)]
    Time {
        /// The 1-based position of the time in the value.
        position: usize,
        /// The four digits.
        time: String,
        /// What is wrong with them.
        reason: &'static str,
    },
    /// The GRAI of AI (8003) starts with a digit other than its filler 0.
    #[error("character {position} of the value is {found:?}, but it must be the filler digit 0")]
    Filler {
        /// The 1-based position in the value.
        position: usize,
        /// The digit found.
        found: char,
    },
    /// A key that must start with a GS1 company prefix does not start with four digits.
    #[error(
        "character {position} of the value is {found:?}, but a GS1 key starts with a company prefix of 4 digits or more"
    )]
    CompanyPrefix {
        /// The 1-based position in the value.
        position: usize,
        /// The character found.
        found: char,
    },
    /// The importer index of AI (7040) is not one of `-`, `0`–`9`, `A`–`Z`, `_`, `a`–`z`.
    #[error("character {position} of the value is {found:?}, but an importer index is a digit, a letter, '-' or '_'")]
    ImporterIndex {
        /// The 1-based position in the value.
        position: usize,
        /// The character found.
        found: char,
    },
}

/// Why an element string, or one of its elements, is refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElementError {
    /// The human-readable text does not have the `(AI)value(AI)value…` shape.
    #[error("malformed element string at character {position}: expected {expected}")]
    Syntax {
        /// The 1-based character position.
        position: usize,
        /// What should have been there.
        expected: &'static str,
    },
    /// The AI is not one Salvage supports (or not an AI at all).
    #[error("({ai}) {location} is not a GS1 Application Identifier that Salvage supports")]
    UnknownAi {
        /// The AI as given.
        ai: String,
        /// Where it was found.
        location: Location,
    },
    /// The value does not fit its AI's format.
    #[error("AI ({ai}) {location}: {problem}")]
    Value {
        /// The AI.
        ai: &'static str,
        /// Where it was found.
        location: Location,
        /// What is wrong with the value.
        problem: ValueError,
    },
    /// An AI appears a second time.
    #[error("AI ({ai}) {location} appears a second time; each AI is given once")]
    Duplicate {
        /// The AI.
        ai: &'static str,
        /// Where the second one was found.
        location: Location,
    },
    /// Two AIs of one measure family, which exclude one another (the dictionary's `ex=310n` rule).
    #[error("AI ({ai}) {location} cannot go with ({other}): both give the {title} with different decimals")]
    Exclusive {
        /// The AI refused.
        ai: &'static str,
        /// The AI already present.
        other: &'static str,
        /// The title of their family.
        title: &'static str,
        /// Where the refused one was found.
        location: Location,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Character(position) => write!(f, "at character {position} of the element string"),
            Location::Pair(position) => write!(f, "in pair {position}"),
            Location::Path(position) => write!(f, "at position {position} of the path"),
            Location::Query(position) => write!(f, "in query parameter {position}"),
        }
    }
}
