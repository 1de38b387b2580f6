//! GS1 element strings: ordered Application Identifiers (AIs) with their values.
//!
//! The human-readable form puts each AI in parentheses before its value, as
//! the GS1 General Specifications print it under a barcode:
//! `(01)09520123456788(10)ABC1(21)12345(17)180426`. Character set 82 allows
//! `(` inside values, so — as the GS1 Barcode Syntax Engine does for its
//! bracketed syntax — a `(` inside a value is written `\(`.
//!
//! Values are checked against the formats of the GS1 Barcode Syntax
//! Dictionary (length, numeric or character set 82, check digits, dates,
//! times); the supported AIs are listed in [`Ai::supported`].

mod error;
mod lint;
mod table;

use std::fmt;
use std::str::FromStr;

pub use error::{ElementError, Location, ValueError};
use lint::check_component;
use table::{Charset, DEFINITIONS, Definition};

/// A GS1 Application Identifier whose format Salvage knows.
// INVARIANT: `code` is one of `definition.codes`.
#[derive(Clone, Copy)]
pub struct Ai {
    code: &'static str,
    definition: &'static Definition,
}

/// One AI with a value that fits its format.
// INVARIANT: `value` passes `ai.validate`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Element {
    ai: Ai,
    value: String,
}

/// An ordered list of AIs with their values, such as `(01)09520123456788(21)12345`.
// INVARIANT: every element is valid, no AI appears twice, and no two AIs of one
// exclusive measure family appear together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ElementString {
    elements: Vec<Element>,
}

impl Ai {
    /// The supported AI with this code, such as `"01"` or `"3103"`.
    pub fn lookup(code: &str) -> Option<Ai> {
        DEFINITIONS.iter().find_map(|definition| {
            definition.codes.iter().find(|candidate| **candidate == code).map(|code| Ai { code, definition })
        })
    }

    /// Every supported AI, in the GS1 dictionary's lexical order.
    pub fn supported() -> impl Iterator<Item = Ai> {
        DEFINITIONS.iter().flat_map(|definition| definition.codes.iter().map(move |code| Ai { code, definition }))
    }

    /// The AI's digits, such as `"01"`.
    pub fn code(self) -> &'static str {
        self.code
    }

    /// The AI's data title from the GS1 Barcode Syntax Dictionary, such as `"GTIN"`.
    pub fn title(self) -> &'static str {
        self.definition.title
    }

    /// Whether the AI has a predefined length (needing no FNC1 separator in a barcode).
    pub fn has_predefined_length(self) -> bool {
        self.definition.predefined_length
    }

    /// Whether the value is digits only.
    pub fn is_numeric(self) -> bool {
        self.definition.components.iter().all(|component| component.charset == Charset::Numeric)
    }

    /// The shortest and longest value, in characters.
    pub fn length_range(self) -> (usize, usize) {
        let components = self.definition.components;
        let min = components.iter().filter(|component| !component.optional).map(|component| component.min).sum();
        (min, components.iter().map(|component| component.max).sum())
    }

    /// The value format in GS1 notation, such as `"N14"` or `"N1 N13 [X..16]"`.
    pub fn format(self) -> String {
        let parts: Vec<String> = self
            .definition
            .components
            .iter()
            .map(|component| {
                let letter = if component.charset == Charset::Numeric { 'N' } else { 'X' };
                let length = if component.min == component.max {
                    component.max.to_string()
                } else {
                    format!("..{}", component.max)
                };
                if component.optional { format!("[{letter}{length}]") } else { format!("{letter}{length}") }
            })
            .collect();
        parts.join(" ")
    }

    /// Checks a value against this AI's format.
    pub fn validate(self, value: &str) -> Result<(), ValueError> {
        if value.is_empty() {
            return Err(ValueError::Empty);
        }
        let characters: Vec<char> = value.chars().collect();
        let (min, max) = self.length_range();
        let length_error = || ValueError::Length {
            found: characters.len(),
            expected: if min == max { format!("exactly {min}") } else { format!("{min} to {max}") },
        };
        if !(min..=max).contains(&characters.len()) {
            return Err(length_error());
        }
        let mut start = 0;
        for component in self.definition.components {
            let remaining = characters.len().saturating_sub(start);
            if remaining == 0 && component.optional {
                break;
            }
            let take = if component.min == component.max { component.min } else { remaining.min(component.max) };
            let piece = characters.get(start..start + take).ok_or_else(length_error)?;
            check_component(component, piece, start)?;
            start += take;
        }
        if start == characters.len() { Ok(()) } else { Err(length_error()) }
    }
}

impl Element {
    /// The AI.
    pub fn ai(&self) -> Ai {
        self.ai
    }

    /// The value, as plain text (not escaped or percent-encoded).
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl ElementString {
    /// An empty element string.
    pub fn new() -> Self {
        ElementString::default()
    }

    /// Parses the human-readable form `(AI)value(AI)value…`, where `\(` stands
    /// for a `(` inside a value.
    pub fn parse(text: &str) -> Result<Self, ElementError> {
        let mut elements = ElementString::new();
        let mut characters = text.chars().enumerate().peekable();
        if characters.peek().is_none() {
            return Err(ElementError::Syntax { position: 1, expected: "'(' opening an AI" });
        }
        while let Some((index, opening)) = characters.next() {
            if opening != '(' {
                return Err(ElementError::Syntax { position: index + 1, expected: "'(' opening an AI" });
            }
            let mut code = String::new();
            loop {
                match characters.next() {
                    Some((_, ')')) if (2..=4).contains(&code.len()) => break,
                    Some((_, digit)) if digit.is_ascii_digit() && code.len() < 4 => code.push(digit),
                    Some((at, _)) => {
                        return Err(ElementError::Syntax {
                            position: at + 1,
                            expected: "2 to 4 digits of an AI, then ')'",
                        });
                    }
                    None => {
                        return Err(ElementError::Syntax {
                            position: text.chars().count() + 1,
                            expected: "2 to 4 digits of an AI, then ')'",
                        });
                    }
                }
            }
            let mut value = String::new();
            while let Some((_, character)) = characters.next_if(|(_, character)| *character != '(') {
                if character == '\\' && characters.next_if(|(_, next)| *next == '(').is_some() {
                    value.push('(');
                } else {
                    value.push(character);
                }
            }
            elements.push_at(&code, &value, Location::Character(index + 1))?;
        }
        Ok(elements)
    }

    /// Builds an element string from `(AI, value)` pairs, in order.
    pub fn from_pairs<I, A, V>(pairs: I) -> Result<Self, ElementError>
    where
        I: IntoIterator<Item = (A, V)>,
        A: AsRef<str>,
        V: AsRef<str>,
    {
        let mut elements = ElementString::new();
        for (ai, value) in pairs {
            elements.push(ai.as_ref(), value.as_ref())?;
        }
        Ok(elements)
    }

    /// Appends one AI with its value, refusing an invalid value, a repeated AI
    /// or an AI excluded by one already present.
    pub fn push(&mut self, ai: &str, value: &str) -> Result<(), ElementError> {
        let location = Location::Pair(self.elements.len() + 1);
        self.push_at(ai, value, location)
    }

    /// The `(AI, value)` pairs in order; values are plain text.
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.elements.iter().map(|element| (element.ai.code, element.value.as_str()))
    }

    /// The elements in order.
    pub fn elements(&self) -> &[Element] {
        &self.elements
    }

    /// The value of an AI, if present.
    pub fn get(&self, ai: &str) -> Option<&str> {
        self.elements.iter().find(|element| element.ai.code == ai).map(|element| element.value.as_str())
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// Appends one element, naming `location` in any error.
    pub(super) fn push_at(&mut self, code: &str, value: &str, location: Location) -> Result<(), ElementError> {
        let ai = Ai::lookup(code).ok_or_else(|| ElementError::UnknownAi { ai: code.to_owned(), location })?;
        if self.elements.iter().any(|element| element.ai == ai) {
            return Err(ElementError::Duplicate { ai: ai.code, location });
        }
        if ai.definition.exclusive
            && let Some(other) = self.elements.iter().find(|element| std::ptr::eq(element.ai.definition, ai.definition))
        {
            return Err(ElementError::Exclusive { ai: ai.code, other: other.ai.code, title: ai.title(), location });
        }
        ai.validate(value).map_err(|problem| ElementError::Value { ai: ai.code, location, problem })?;
        self.elements.push(Element { ai, value: value.to_owned() });
        Ok(())
    }
}

impl PartialEq for Ai {
    fn eq(&self, other: &Ai) -> bool {
        self.code == other.code
    }
}

impl Eq for Ai {}

impl std::hash::Hash for Ai {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.code.hash(state);
    }
}

impl fmt::Debug for Ai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ai({})", self.code)
    }
}

impl fmt::Display for Ai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({})", self.code)
    }
}

impl fmt::Display for ElementString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for element in &self.elements {
            write!(f, "({})", element.ai.code)?;
            for character in element.value.chars() {
                if character == '(' {
                    f.write_str("\\")?;
                }
                write!(f, "{character}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for ElementString {
    type Err = ElementError;

    fn from_str(text: &str) -> Result<Self, ElementError> {
        ElementString::parse(text)
    }
}

#[cfg(test)]
mod tests;
