//! Reading records into what an impact report needs of each item, in a few dozen bytes.
//!
//! [`Tally`] walks the records in ledger order and keeps, for every item, the facts of its
//! latest public passport that the figures use, its state, the months of its flows and its
//! scope verdicts ([`Matched`]): an [`Item`] of fixed size in one vector, found by GIAI through
//! one map. Strings many items repeat (categories, List of Waste codes, routes) are kept once
//! and named by number; a split's parts are consecutive items. It keeps no record, so memory
//! grows with the items (under 200 bytes each with the map), not the records.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::ImpactError;
use crate::chain::{LeafHash, Record, leaf_hash_of};
use crate::entry::{Kind, LedgerId};
use crate::hex::to_lower_hex;
use crate::ident::Giai;
use crate::merkle::{Blake3Hasher, Frontier};
use crate::schema::is_never_reusable;
use crate::scope::{Matched, ScopeMatcher, Signers, is_restricted, public_value};

/// A calendar month: `year × 12 + month − 1`.
pub(super) type Month = u32;

/// No item, month or string: the largest number, which no real one reaches.
pub(super) const NONE: u32 = u32::MAX;

/// Why a mass is not known, or that it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MassKnown {
    Yes,
    /// The passport's `restricted` list names it.
    Restricted,
    /// The passport does not give it.
    Absent,
}

/// Where an item is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// Registered and neither installed, disposed of nor split.
    Circulating,
    Installed,
    Disposed,
    /// Split into its parts, and ended.
    Split,
}

/// Everything kept of one item. Strings are numbers in [`Tally::strings`]; `NONE` is none.
#[derive(Debug, Clone)]
pub(super) struct Item {
    /// `mass_kg` of the latest public passport, when `mass_known` is `Yes`.
    pub(super) mass: f64,
    /// `environment.co2e_avoided_kg`, NaN when the passport gives none.
    pub(super) co2e_avoided: f64,
    pub(super) matched: Matched,
    /// The month it came into being: registered, or split off its parent.
    pub(super) began: Month,
    /// The month of its first installation; later ones are in [`Tally::reinstalls`].
    pub(super) installed: Month,
    pub(super) disposed: Month,
    /// Its parent, for a part.
    pub(super) parent: u32,
    /// Its parts, for a split parent: `parts_count` items from `parts_first`.
    pub(super) parts_first: u32,
    pub(super) parts_count: u32,
    pub(super) category: u32,
    /// `legal_status.list_of_waste_code`.
    pub(super) waste_code: u32,
    pub(super) route: u32,
    /// The disposal's `waste_code`.
    pub(super) disposal_code: u32,
    pub(super) state: State,
    pub(super) mass_known: MassKnown,
    /// The passport lists an asbestos mineral, or says it is not asbestos-free.
    pub(super) asbestos: bool,
}

impl Item {
    pub(super) fn mass(&self) -> Option<f64> {
        (self.mass_known == MassKnown::Yes).then_some(self.mass)
    }
}

/// The items of the records read so far, and the chain they came in.
#[derive(Debug)]
pub(super) struct Tally {
    pub(super) matcher: ScopeMatcher,
    pub(super) index: HashMap<Giai, u32>,
    pub(super) items: Vec<Item>,
    /// Installations after an item's first: (item, month).
    pub(super) reinstalls: Vec<(u32, Month)>,
    /// Each string once; the number of a string is its place.
    pub(super) strings: Vec<Arc<str>>,
    string_numbers: HashMap<Arc<str>, u32>,
    signers: Signers,
    expected: Option<LedgerId>,
    pub(super) ledger: Option<LedgerId>,
    frontier: Frontier<Blake3Hasher>,
    last_leaf: LeafHash,
}

impl Tally {
    pub(super) fn new(expected: Option<LedgerId>, matcher: ScopeMatcher) -> Tally {
        Tally {
            matcher,
            index: HashMap::new(),
            items: Vec::new(),
            reinstalls: Vec::new(),
            strings: Vec::new(),
            string_numbers: HashMap::new(),
            signers: Signers::new(),
            expected,
            ledger: None,
            frontier: Frontier::new(),
            last_leaf: LeafHash::ZERO,
        }
    }

    pub(super) fn records(&self) -> u64 {
        self.frontier.len()
    }

    /// The Merkle root of the records read, hex.
    pub(super) fn root(&self) -> String {
        to_lower_hex(self.frontier.root())
    }

    /// A string by number.
    pub(super) fn string(&self, number: u32) -> Option<&str> {
        self.strings.get(usize::try_from(number).ok()?).map(AsRef::as_ref)
    }

    /// Reads the next record from its canonical bytes: its place in the chain, then its content.
    pub(super) fn push_bytes(&mut self, bytes: &[u8]) -> Result<(), ImpactError> {
        let position = self.frontier.len();
        let fail = |reason: String| ImpactError::Record { position, reason };
        let record = Record::from_json_bytes(bytes).map_err(|refusal| fail(refusal.message))?;
        if record.seq.get() != position {
            return Err(fail(format!("it says it is record {}", record.seq.get())));
        }
        if record.prev != self.last_leaf {
            return Err(fail("its link (prev) is not the leaf hash of the record before it".into()));
        }
        // Leaf hashes are of the canonical bytes; other bytes would hash to another tree.
        if record.canonical_bytes() != bytes {
            return Err(fail("its bytes are not the record's canonical JSON".into()));
        }
        if position == 0 {
            self.genesis(&record)?;
        }
        let leaf = leaf_hash_of(bytes);
        self.frontier.push(leaf.0);
        self.last_leaf = leaf;
        self.read(&record).map_err(fail)
    }

    fn genesis(&mut self, record: &Record) -> Result<(), ImpactError> {
        let id = LedgerId(record.entry.id().0);
        let expected = self.expected.map(|id| id.to_hex()).unwrap_or_default();
        if record.entry.statement().kind != Kind::Genesis {
            let reason = format!("it is a {} record", record.entry.statement().kind);
            return Err(ImpactError::Genesis { expected, reason });
        }
        if self.expected.is_some_and(|expected| expected != id) {
            let reason = format!("it is the genesis of ledger {}", id.to_hex());
            return Err(ImpactError::Genesis { expected, reason });
        }
        self.ledger = Some(id);
        Ok(())
    }

    /// What a record changes of its items. Records of no item teach keys or nothing.
    fn read(&mut self, record: &Record) -> Result<(), String> {
        self.signers.learn(record);
        let statement = record.entry.statement();
        let body = &statement.body;
        // Item records name their item; a kind added later that names one is still a record of it.
        if !statement.kind.as_str().starts_with("item.") {
            return Ok(());
        }
        let Some(giai) = body.get("giai").and_then(Value::as_str) else { return Ok(()) };
        let giai = Giai::parse(giai).map_err(|error| error.to_string())?;
        let month = month_of(record);
        match statement.kind {
            Kind::ItemRegister => {
                let passport = body.get("passport").ok_or("a registration without a passport")?;
                let matched = self.matcher.registered(record, &giai, self.signers.first_signer(record).as_ref());
                let item = self.item(passport, matched, month, NONE);
                self.add(giai, item)?;
            }
            Kind::ItemSplit => self.split(record, &giai, month)?,
            kind => {
                let at = self.at(&giai)?;
                let amended = match kind {
                    Kind::ItemAmend => {
                        let passport = body.get("passport").ok_or("an amendment without a passport")?;
                        Some(self.item(passport, Matched::default(), month, NONE))
                    }
                    _ => None,
                };
                let route = body.get("route").and_then(Value::as_str).map(|route| self.number(route));
                let code = body.get("waste_code").and_then(Value::as_str).map(|code| self.number(code));
                let reinstall = {
                    let item = &mut self.items[at as usize];
                    self.matcher.note(&mut item.matched, record);
                    if let Some(new) = amended {
                        item.take_passport(&new);
                    }
                    match kind {
                        Kind::ItemInstall => {
                            item.state = State::Installed;
                            if item.installed == NONE {
                                item.installed = month;
                                false
                            } else {
                                true
                            }
                        }
                        Kind::ItemDismantle => {
                            item.state = State::Circulating;
                            false
                        }
                        Kind::ItemDispose => {
                            item.state = State::Disposed;
                            item.route = route.ok_or("a disposal without a route")?;
                            item.disposal_code = code.unwrap_or(NONE);
                            item.disposed = month;
                            false
                        }
                        _ => false,
                    }
                };
                if reinstall {
                    self.reinstalls.push((at, month));
                }
            }
        }
        Ok(())
    }

    /// A split: the parent ends, each part begins with its own passport and the parent's
    /// inherited verdicts behind it.
    fn split(&mut self, record: &Record, parent: &Giai, month: Month) -> Result<(), String> {
        let parts =
            record.entry.statement().body.get("parts").and_then(Value::as_array).ok_or("a split without parts")?;
        let at = self.at(parent)?;
        let first = self.next_number()?;
        let count = u32::try_from(parts.len()).map_err(|_| "too many parts")?;
        let matched = {
            let item = &mut self.items[at as usize];
            self.matcher.note(&mut item.matched, record);
            item.state = State::Split;
            item.parts_first = first;
            item.parts_count = count;
            item.matched
        };
        for part in parts {
            let giai = part.get("giai").and_then(Value::as_str).ok_or("a part without a giai")?;
            let giai = Giai::parse(giai).map_err(|error| error.to_string())?;
            let passport = part.get("passport").ok_or("a part without a passport")?;
            let matched = self.matcher.split_off(matched, record, &giai, passport);
            let item = self.item(passport, matched, month, at);
            self.add(giai, item)?;
        }
        Ok(())
    }

    fn at(&self, giai: &Giai) -> Result<u32, String> {
        self.index.get(giai).copied().ok_or_else(|| format!("item {giai} was never registered"))
    }

    fn next_number(&self) -> Result<u32, String> {
        u32::try_from(self.items.len())
            .ok()
            .filter(|n| *n != NONE)
            .ok_or_else(|| "more items than a report counts".into())
    }

    fn add(&mut self, giai: Giai, item: Item) -> Result<(), String> {
        let number = self.next_number()?;
        self.items.push(item);
        self.index.insert(giai, number);
        Ok(())
    }

    /// A new item of `passport`, as its public view shows it.
    fn item(&mut self, passport: &Value, matched: Matched, began: Month, parent: u32) -> Item {
        let (mass, mass_known) = match public_value(passport, "/mass_kg").and_then(Value::as_f64) {
            Some(kg) if kg.is_finite() => (kg, MassKnown::Yes),
            _ if is_restricted(passport, "/mass_kg") => (0.0, MassKnown::Restricted),
            _ => (0.0, MassKnown::Absent),
        };
        let text = |pointer: &str| public_value(passport, pointer).and_then(Value::as_str);
        let (category, waste_code) = (text("/category"), text("/legal_status/list_of_waste_code"));
        let substances = public_value(passport, "/hazards/substances").and_then(Value::as_array);
        let lists_asbestos = substances
            .into_iter()
            .flatten()
            .any(|substance| substance.get("cas").and_then(Value::as_str).is_some_and(is_never_reusable));
        let not_free = public_value(passport, "/hazards/asbestos_free").and_then(Value::as_bool) == Some(false);
        Item {
            mass,
            co2e_avoided: public_value(passport, "/environment/co2e_avoided_kg")
                .and_then(Value::as_f64)
                .unwrap_or(f64::NAN),
            matched,
            began,
            installed: NONE,
            disposed: NONE,
            parent,
            parts_first: NONE,
            parts_count: 0,
            category: category.map_or(NONE, |category| self.number(category)),
            waste_code: waste_code.map_or(NONE, |code| self.number(code)),
            route: NONE,
            disposal_code: NONE,
            state: State::Circulating,
            mass_known,
            asbestos: lists_asbestos || not_free,
        }
    }

    /// The number of a string many items repeat, given it on first sight.
    fn number(&mut self, text: &str) -> u32 {
        if let Some(number) = self.string_numbers.get(text) {
            return *number;
        }
        let number = u32::try_from(self.strings.len()).unwrap_or(NONE);
        let shared: Arc<str> = Arc::from(text);
        self.strings.push(Arc::clone(&shared));
        self.string_numbers.insert(shared, number);
        number
    }
}

impl Item {
    /// Takes the passport facts of `new` (an amendment's), keeping the item's history.
    fn take_passport(&mut self, new: &Item) {
        self.mass = new.mass;
        self.mass_known = new.mass_known;
        self.co2e_avoided = new.co2e_avoided;
        self.category = new.category;
        self.waste_code = new.waste_code;
        self.asbestos = new.asbestos;
    }
}

/// The calendar month (UTC) a record was accepted in.
fn month_of(record: &Record) -> Month {
    let at = record.accepted.instant();
    let year = u32::try_from(at.year()).unwrap_or(0);
    year * 12 + u32::from(u8::from(at.month())) - 1
}

/// A month as `YYYY-MM`.
pub(super) fn month_text(month: Month) -> String {
    format!("{:04}-{:02}", month / 12, month % 12 + 1)
}
