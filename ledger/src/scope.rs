//! Which items a report covers: a member's, a building's, the ones active since a date, or a
//! list of GIAIs.
//!
//! A municipality asks for the materials that came out of its building, a contractor for what
//! it handled, a certifier for what happened this year or for the items of a delivery note.
//! [`Scope`] is one such choice, parsed from the text a person types (`member=ID`,
//! `building=NAME`, `since=YYYY-MM-DD`, `items=FILE`); several scopes intersect. Whether an
//! item is in a scope depends only on its history, which [`ScopeFacts`] gathers as the
//! records are read in ledger order, so that a report (`crate::impact`) and an audit decide
//! scope the same way, in one pass and in memory that grows with the items, not the records.
//! A reader that knows its scopes before it reads can keep one bit per scope and item instead
//! of the facts ([`ScopeMatcher`]), with the same verdicts.
//!
//! # What each scope selects
//!
//! - `member=ID`: the items that member registered, held at any time (it was their
//!   custodian, by registering, splitting or receiving them), or was offered (a transfer to
//!   it, received or not).
//! - `building=NAME`: the items whose passport, in any version, names `NAME` as their donor
//!   building (`origin.building`), and those installed in `NAME` (`item.install`'s
//!   `site.building`). Names are compared trimmed and without regard to case.
//! - `since=YYYY-MM-DD`: the items with any record accepted on or after that day, 00:00 UTC.
//! - `items=FILE`: the GIAIs the file lists, one a line (see [`ItemList::parse`]).
//!
//! A part split off an item in a `member=` or `building=` scope is in that scope too: its
//! material came from there. (For `since=` it needs no such rule: the split is a record of
//! the part, accepted after every record of its parent. An `items=` list means exactly its
//! GIAIs.) Only public facts count: a passport field its `restricted` list names is not read,
//! as a public view would not show it.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use time::{Date, Month, OffsetDateTime};

use crate::chain::Record;
use crate::custody::MemberId;
use crate::entry::Kind;
use crate::ident::Giai;

mod matcher;

pub use matcher::{MAX_SCOPES, Matched, ScopeMatcher};

/// The most lines an `items=` file may have.
pub const MAX_ITEM_LINES: usize = 1_000_000;

/// The longest scope value accepted, in characters: a building name is at most 200 (the
/// schema's `label`), a member id 64.
const MAX_VALUE_CHARS: usize = 256;

/// One choice of items: see the [module documentation](self) for what each selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `member=ID`.
    Member(MemberId),
    /// `building=NAME`.
    Building(Building),
    /// `since=YYYY-MM-DD`.
    Since(Date),
    /// `items=FILE`.
    Items(ItemList),
}

/// A building's name as given (trimmed), and as compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Building {
    name: String,
    key: String,
}

impl Building {
    /// A building by name; `None` when the name is blank.
    pub fn new(name: &str) -> Option<Building> {
        let name = name.trim();
        (!name.is_empty()).then(|| Building { name: name.to_owned(), key: building_key(name) })
    }

    /// The name as given, trimmed.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// How building names are compared: trimmed, lowercase.
fn building_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The GIAIs of an `items=` file, and the file's name as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemList {
    file: String,
    giais: Arc<HashSet<Giai>>,
}

impl ItemList {
    /// Reads the text of the file named `file`: one GIAI a line; blank lines and lines starting
    /// with `#` are skipped; a line with a comma is a CSV row whose first column is the GIAI (a
    /// GIAI that holds a comma is then quoted), and a first row whose first column is `giai` is
    /// a header (the inventory CSV of `salvage import` works as it is). At most
    /// [`MAX_ITEM_LINES`] lines; the error of a line that is no GIAI names the line.
    pub fn parse(file: &str, text: &str) -> Result<ItemList, ScopeError> {
        let fail = |line: Option<usize>, reason: String| ScopeError::Items { file: file.to_owned(), line, reason };
        let mut giais = HashSet::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            if number > MAX_ITEM_LINES {
                return Err(fail(None, format!("more than {MAX_ITEM_LINES} lines; split the list")));
            }
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let giai = first_column(line).map_err(|reason| fail(Some(number), reason))?;
            if index == 0 && giai.eq_ignore_ascii_case("giai") {
                continue;
            }
            let giai = Giai::parse(giai).map_err(|error| fail(Some(number), error.to_string()))?;
            giais.insert(giai);
        }
        Ok(ItemList { file: file.to_owned(), giais: Arc::new(giais) })
    }

    /// The file's name, as given.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// How many distinct GIAIs it lists.
    pub fn len(&self) -> usize {
        self.giais.len()
    }

    /// Whether it lists none.
    pub fn is_empty(&self) -> bool {
        self.giais.is_empty()
    }

    /// Whether it lists `giai`.
    pub fn contains(&self, giai: &Giai) -> bool {
        self.giais.contains(giai)
    }
}

/// The first column of a line: the line itself without a comma, else the first CSV field
/// (quoted with `"`, `""` inside for a quote, or plain up to the first comma).
fn first_column(line: &str) -> Result<&str, String> {
    let Some(quoted) = line.strip_prefix('"') else {
        return Ok(line.split(',').next().unwrap_or(line).trim());
    };
    // GIAIs hold no quote, so a doubled quote cannot be part of one: the field ends at the first.
    match quoted.split_once('"') {
        Some((field, rest)) if rest.is_empty() || rest.trim_start().starts_with(',') => Ok(field.trim()),
        Some(_) => Err("a quoted first column must end with a quote before the next comma".to_owned()),
        None => Err("the quoted first column has no closing quote".to_owned()),
    }
}

/// Why a scope could not be parsed: what was given, and why it is not a scope.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// The text is no scope.
    #[error("scope {given:?}: {reason}")]
    Malformed {
        /// The scope as given (cut to a few hundred characters).
        given: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file of an `items=` scope could not be read, or a line of it is no GIAI.
    #[error("scope items={file}{}: {reason}", line.map(|line| format!(", line {line}")).unwrap_or_default())]
    Items {
        /// The file, as named.
        file: String,
        /// The line (from 1), when one is to blame.
        line: Option<usize>,
        /// What is wrong.
        reason: String,
    },
}

/// What a scope looks like, for error messages.
const SCOPE_FORMS: &str = "a scope is member=ID, building=NAME, since=YYYY-MM-DD or items=FILE";

impl Scope {
    /// Parses `member=ID`, `building=NAME` or `since=YYYY-MM-DD`. An `items=FILE` scope names a
    /// file, which this function does not read: use [`Scope::parse_with_files`].
    pub fn parse(text: &str) -> Result<Scope, ScopeError> {
        Scope::parse_with_files(text, &mut |file| {
            Err(format!(
                "{file} is a file, and only the command line reads files (salvage report … --scope items=FILE)"
            ))
        })
    }

    /// Parses any scope; for `items=FILE`, `read` gives the file's text (or says why it cannot).
    pub fn parse_with_files(
        text: &str,
        read: &mut dyn FnMut(&str) -> Result<String, String>,
    ) -> Result<Scope, ScopeError> {
        let malformed = |reason: String| ScopeError::Malformed { given: shortened(text), reason };
        let Some((kind, value)) = text.split_once('=') else {
            return Err(malformed(format!("no '=' in it; {SCOPE_FORMS}")));
        };
        let value = value.trim();
        if value.is_empty() {
            return Err(malformed(format!("nothing after '{}='", kind.trim())));
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(malformed(format!("the value is longer than {MAX_VALUE_CHARS} characters")));
        }
        match kind.trim() {
            "member" => MemberId::parse(value).map(Scope::Member).map_err(|refusal| malformed(refusal.message)),
            "building" => Building::new(value).map(Scope::Building).ok_or_else(|| malformed("no name".into())),
            "since" => parse_date(value).map(Scope::Since).map_err(malformed),
            "items" => {
                let text =
                    read(value).map_err(|reason| ScopeError::Items { file: value.to_owned(), line: None, reason })?;
                ItemList::parse(value, &text).map(Scope::Items)
            }
            other => Err(malformed(format!("unknown kind {:?}; {SCOPE_FORMS}", shortened(other)))),
        }
    }

    /// Whether the item whose history gave `facts` is in this scope.
    pub fn contains(&self, facts: &ScopeFacts) -> bool {
        if self.matches(facts) {
            return true;
        }
        // A part's material came from its parent, whose facts were final at the split.
        let inherits = matches!(self, Scope::Member(_) | Scope::Building(_));
        inherits && facts.parent.as_deref().is_some_and(|parent| self.contains(parent))
    }

    /// Whether the item's own facts put it in this scope.
    fn matches(&self, facts: &ScopeFacts) -> bool {
        match self {
            Scope::Member(member) => {
                facts.registrant.as_ref() == Some(member)
                    || facts.custodians.contains(member)
                    || facts.offered_to.contains(member)
            }
            Scope::Building(building) => {
                facts.donor_buildings.contains(&building.key) || facts.install_buildings.contains(&building.key)
            }
            Scope::Since(date) => facts.last_record.is_some_and(|last| last >= date.midnight().assume_utc()),
            Scope::Items(list) => facts.giai.as_ref().is_some_and(|giai| list.contains(giai)),
        }
    }

    /// The scope as compared: equal keys select the same items (building names lowercased).
    pub fn key(&self) -> String {
        match self {
            Scope::Building(building) => format!("building={}", building.key),
            other => other.to_string(),
        }
    }
}

/// Whether an item is in every one of `scopes` (no scope: every item is).
pub fn in_every(scopes: &[Scope], facts: &ScopeFacts) -> bool {
    scopes.iter().all(|scope| scope.contains(facts))
}

/// The scopes as compared, sorted and each once: two lists with the same key select the same
/// items, whatever their order and the case of their building names.
pub fn key_of(scopes: &[Scope]) -> String {
    let mut keys: Vec<String> = scopes.iter().map(Scope::key).collect();
    keys.sort();
    keys.dedup();
    keys.join("\n")
}

impl fmt::Display for Scope {
    /// The canonical spelling, which parses back to the same scope (`items=` names its file).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Member(member) => write!(f, "member={member}"),
            Scope::Building(building) => write!(f, "building={}", building.name),
            Scope::Since(date) => {
                write!(f, "since={:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
            }
            Scope::Items(list) => write!(f, "items={}", list.file),
        }
    }
}

/// A calendar date written `YYYY-MM-DD`.
fn parse_date(text: &str) -> Result<Date, String> {
    let bad = |why: &str| format!("{text:?} is no date YYYY-MM-DD: {why}");
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts.as_slice() else { return Err(bad("three numbers with '-' between")) };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return Err(bad("four digits of year, two of month and two of day"));
    }
    let number = |digits: &str| {
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse::<u16>().ok())
            .flatten()
            .ok_or_else(|| bad("digits only"))
    };
    let (year, month, day) = (number(year)?, number(month)?, number(day)?);
    let month =
        u8::try_from(month).ok().and_then(|month| Month::try_from(month).ok()).ok_or_else(|| bad("no such month"))?;
    let day = u8::try_from(day).map_err(|_| bad("no such day"))?;
    Date::from_calendar_date(i32::from(year), month, day).map_err(|_| bad("no such day in that month"))
}

/// `text` cut to a length an error message may quote.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(MAX_VALUE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// What an item's history says that a scope may ask about, gathered record by record.
///
/// The lists hold each value once, in the order first seen; building names are as compared
/// (trimmed, lowercase). Only public facts are gathered: a passport field its `restricted`
/// list names is skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeFacts {
    /// The item.
    pub giai: Option<Giai>,
    /// Who registered it (`None` for a part, which a split made, or an unknown key).
    pub registrant: Option<MemberId>,
    /// Who holds it now.
    pub custodian: Option<MemberId>,
    /// Everyone who held it, the current custodian included.
    pub custodians: Vec<MemberId>,
    /// Everyone it was offered to, whether they received it or not.
    pub offered_to: Vec<MemberId>,
    /// The donor buildings its passports named.
    pub donor_buildings: Vec<String>,
    /// The buildings it was installed in.
    pub install_buildings: Vec<String>,
    /// When its last record so far was accepted.
    pub last_record: Option<OffsetDateTime>,
    /// For a part: its parent's facts as they were at the split, which ended the parent.
    pub parent: Option<Arc<ScopeFacts>>,
    /// The parent's GIAI, for a part.
    pub parent_giai: Option<Giai>,
    /// The member a pending transfer offers it to.
    pending: Option<MemberId>,
}

impl ScopeFacts {
    /// The facts of the item `record` registers, signed by `registrant` (`None`: unknown key).
    pub fn registered(record: &Record, giai: &Giai, registrant: Option<MemberId>) -> ScopeFacts {
        let mut facts = ScopeFacts { giai: Some(giai.clone()), ..ScopeFacts::default() };
        if let Some(member) = &registrant {
            facts.hold(member);
        }
        facts.registrant = registrant;
        if let Some(passport) = record.entry.statement().body.get("passport") {
            facts.note_passport(passport);
        }
        facts.last_record = Some(record.accepted.instant());
        facts
    }

    /// The facts of a part that `record` splits off the item whose facts are `parent`,
    /// with its passport `passport`; the parent's custodian holds the part.
    pub fn split_off(parent: &Arc<ScopeFacts>, record: &Record, giai: &Giai, passport: &Value) -> ScopeFacts {
        let mut facts = ScopeFacts {
            giai: Some(giai.clone()),
            parent: Some(Arc::clone(parent)),
            parent_giai: parent.giai.clone(),
            ..ScopeFacts::default()
        };
        if let Some(member) = &parent.custodian {
            facts.hold(member);
        }
        facts.note_passport(passport);
        facts.last_record = Some(record.accepted.instant());
        facts
    }

    /// Takes a later record of the item (any but the one that made it): amendments name
    /// buildings, transfers recipients, receipts custodians, installations sites.
    pub fn note(&mut self, record: &Record) {
        let statement = record.entry.statement();
        let body = &statement.body;
        let member = |field: &str| body.get(field).and_then(Value::as_str).and_then(|id| MemberId::parse(id).ok());
        match statement.kind {
            Kind::ItemAmend => {
                if let Some(passport) = body.get("passport") {
                    self.note_passport(passport);
                }
            }
            Kind::ItemTransfer => {
                if let Some(to) = member("to") {
                    push_once(&mut self.offered_to, &to);
                    self.pending = Some(to);
                }
            }
            Kind::ItemReceive => {
                if let Some(to) = self.pending.take() {
                    self.hold(&to);
                }
            }
            Kind::ItemCancel => self.pending = None,
            Kind::ItemInstall => {
                if let Some(building) = body.pointer("/site/building").and_then(Value::as_str) {
                    push_once(&mut self.install_buildings, &building_key(building));
                }
            }
            _ => {}
        }
        self.last_record = Some(record.accepted.instant());
    }

    fn hold(&mut self, member: &MemberId) {
        push_once(&mut self.custodians, member);
        self.custodian = Some(member.clone());
    }

    fn note_passport(&mut self, passport: &Value) {
        if let Some(building) = public_value(passport, "/origin/building").and_then(Value::as_str) {
            push_once(&mut self.donor_buildings, &building_key(building));
        }
    }
}

fn push_once<T: PartialEq + Clone>(list: &mut Vec<T>, value: &T) {
    if !list.contains(value) {
        list.push(value.clone());
    }
}

/// A passport's value at `pointer` (plain member names, `/a/b`) as a public view shows it:
/// `None` when the passport's `restricted` list names it or a field around it, as
/// [`crate::redact::public_passport`] would remove it.
pub(crate) fn public_value<'a>(passport: &'a Value, pointer: &str) -> Option<&'a Value> {
    if is_restricted(passport, pointer) { None } else { passport.pointer(pointer) }
}

/// Whether the passport's `restricted` list names `pointer` or a field around it; on a
/// format-2 ledger such a value is not in the record at all.
pub(crate) fn is_restricted(passport: &Value, pointer: &str) -> bool {
    let places = passport.get("restricted").and_then(Value::as_array).into_iter().flatten();
    places.filter_map(Value::as_str).any(|place| {
        place.is_empty() || pointer == place || pointer.strip_prefix(place).is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Who signed a record, by key: the members the membership records (the genesis,
/// `member.add`, `member.update`) gave each key. Membership records are few, so this stays
/// small however many records a ledger holds.
#[derive(Debug, Clone, Default)]
pub struct Signers {
    owners: HashMap<String, MemberId>,
}

impl Signers {
    /// No key known yet.
    pub fn new() -> Signers {
        Signers::default()
    }

    /// Learns the keys a membership record gives; other records teach nothing.
    pub fn learn(&mut self, record: &Record) {
        let statement = record.entry.statement();
        let body = &statement.body;
        match statement.kind {
            Kind::Genesis => {
                for member in body.get("members").and_then(Value::as_array).into_iter().flatten() {
                    self.learn_member(member, "keys");
                }
            }
            Kind::MemberAdd => self.learn_member(body, "keys"),
            Kind::MemberUpdate => self.learn_member(body, "add_keys"),
            _ => {}
        }
    }

    fn learn_member(&mut self, member: &Value, field: &str) {
        let Some(id) = member.get("id").and_then(Value::as_str).and_then(|id| MemberId::parse(id).ok()) else {
            return;
        };
        for key in member.get(field).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            self.owners.insert(key.to_owned(), id.clone());
        }
    }

    /// The member whose key made the record's first signature, if known.
    pub fn first_signer(&self, record: &Record) -> Option<MemberId> {
        let signature = record.entry.signatures().first()?;
        self.owners.get(&signature.key.to_hex()).cloned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests;
