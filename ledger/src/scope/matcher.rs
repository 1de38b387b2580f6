//! Scope verdicts in eight bytes an item: [`ScopeMatcher`].
//!
//! Every scope is an "at some point" question: was the member ever registrant, custodian or
//! recipient of an offer, did any passport name the building or any installation happen
//! there, was any record accepted on or after the day. Once true, always true. So a reader
//! that knows its scopes before it reads the records need not keep an item's
//! [`ScopeFacts`](super::ScopeFacts): one bit per scope, set by the record that makes it true,
//! gives the same verdict as [`Scope::contains`](super::Scope::contains) of the facts, in
//! memory that stays small however many items there are (a report over millions of items).
//! A custodian needs no fact of its own: receiving requires an offer, which already counted,
//! and a part's custodian held its parent, whose bits the part inherits. The tests check the
//! two ways agree on random histories.

use serde_json::Value;

use super::{Scope, ScopeError, building_key, public_value};
use crate::chain::Record;
use crate::custody::MemberId;
use crate::entry::Kind;
use crate::ident::Giai;

/// The most scopes one matcher takes: one bit each.
pub const MAX_SCOPES: usize = 64;

/// The scopes an item is in so far, one bit per scope of its [`ScopeMatcher`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Matched(u64);

/// Decides, record by record, which of a list of scopes each item is in.
#[derive(Debug, Clone)]
pub struct ScopeMatcher {
    scopes: Vec<Scope>,
    /// The bits a part takes from its parent: member and building scopes.
    inherited: u64,
    /// Every bit of a scope.
    all: u64,
}

impl ScopeMatcher {
    /// A matcher of `scopes` (at most [`MAX_SCOPES`]); none: every item is in.
    pub fn new(scopes: &[Scope]) -> Result<ScopeMatcher, ScopeError> {
        if scopes.len() > MAX_SCOPES {
            return Err(ScopeError::Malformed {
                given: format!("{} scopes", scopes.len()),
                reason: format!("at most {MAX_SCOPES} scopes intersect"),
            });
        }
        let bits = |keep: fn(&Scope) -> bool| {
            scopes.iter().enumerate().filter(|(_, scope)| keep(scope)).fold(0u64, |bits, (at, _)| bits | 1 << at)
        };
        Ok(ScopeMatcher {
            scopes: scopes.to_vec(),
            inherited: bits(|scope| matches!(scope, Scope::Member(_) | Scope::Building(_))),
            all: bits(|_| true),
        })
    }

    /// The scopes, in the order given.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// Whether an item is in every scope.
    pub fn is_in(&self, matched: Matched) -> bool {
        matched.0 & self.all == self.all
    }

    /// The verdicts of the item `record` registers, signed by `registrant` (`None`: unknown).
    pub fn registered(&self, record: &Record, giai: &Giai, registrant: Option<&MemberId>) -> Matched {
        let mut matched = self.created(record, giai);
        if let Some(member) = registrant {
            self.set(&mut matched, |scope| matches!(scope, Scope::Member(m) if m == member));
        }
        if let Some(passport) = record.entry.statement().body.get("passport") {
            self.passport(&mut matched, passport);
        }
        matched
    }

    /// The verdicts of a part that `record` splits off an item whose verdicts were `parent`,
    /// with its passport `passport`.
    pub fn split_off(&self, parent: Matched, record: &Record, giai: &Giai, passport: &Value) -> Matched {
        let mut matched = self.created(record, giai);
        matched.0 |= parent.0 & self.inherited;
        self.passport(&mut matched, passport);
        matched
    }

    /// Takes a later record of the item (any but the one that made it).
    pub fn note(&self, matched: &mut Matched, record: &Record) {
        let statement = record.entry.statement();
        let body = &statement.body;
        match statement.kind {
            Kind::ItemAmend => {
                if let Some(passport) = body.get("passport") {
                    self.passport(matched, passport);
                }
            }
            Kind::ItemTransfer => {
                if let Some(to) = body.get("to").and_then(Value::as_str).and_then(|id| MemberId::parse(id).ok()) {
                    self.set(matched, |scope| matches!(scope, Scope::Member(m) if *m == to));
                }
            }
            Kind::ItemInstall => {
                if let Some(building) = body.pointer("/site/building").and_then(Value::as_str) {
                    self.building(matched, building);
                }
            }
            _ => {}
        }
        self.at(matched, record);
    }

    /// What a record that makes an item says of it whatever its kind: its GIAI and time.
    fn created(&self, record: &Record, giai: &Giai) -> Matched {
        let mut matched = Matched::default();
        self.set(&mut matched, |scope| matches!(scope, Scope::Items(list) if list.contains(giai)));
        self.at(&mut matched, record);
        matched
    }

    fn at(&self, matched: &mut Matched, record: &Record) {
        let at = record.accepted.instant();
        self.set(matched, |scope| matches!(scope, Scope::Since(date) if at >= date.midnight().assume_utc()));
    }

    fn passport(&self, matched: &mut Matched, passport: &Value) {
        if let Some(building) = public_value(passport, "/origin/building").and_then(Value::as_str) {
            self.building(matched, building);
        }
    }

    fn building(&self, matched: &mut Matched, name: &str) {
        let key = building_key(name);
        self.set(matched, |scope| matches!(scope, Scope::Building(building) if building.key == key));
    }

    fn set(&self, matched: &mut Matched, hit: impl Fn(&Scope) -> bool) {
        for (at, scope) in self.scopes.iter().enumerate() {
            if hit(scope) {
                matched.0 |= 1 << at;
            }
        }
    }
}
