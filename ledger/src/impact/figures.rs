//! The figures of an impact report, from the tally of every item and the scopes asked for.
//!
//! Each item in scope adds its latest known mass once to the place it ended (installed,
//! available, disposed of, or, for a split parent, the loss and its parts outside the
//! scope), once to `registered` if it entered the scope itself (registered, or split off an
//! item outside the scope), and to the months of its flows. `docs/impact.md` gives every
//! definition; the names here follow it.

use std::collections::BTreeMap;

use super::factors::FactorTable;
use super::tally::{Item, MassKnown, Month, NONE, State, Tally, month_text};
use super::{
    CategoryEstimate, CategoryMasses, Co2e, DeclaredCo2e, Disposed, DisposedClass, EstimatedCo2e, ImpactReport,
    ItemCounts, LedgerPoint, Masses, MonthFlow, Taxonomy, UnknownMass,
};
use crate::scope::Scope;

/// The Taxonomy's threshold: 70 % by weight.
const TAXONOMY_THRESHOLD: f64 = 0.7;

/// The List of Waste code of naturally occurring soil and stones, which the Taxonomy leaves out.
const SOIL_AND_STONES: &str = "17 05 04";

/// The route the Taxonomy counts as recycling among `item.dispose`'s.
const RECYCLING: &str = "recycling";

/// The key of disposals whose List of Waste code nobody gave.
const NO_WASTE_CODE: &str = "none";

/// The key of items without a category (a passport always has one; a restricted one cannot be).
const NO_CATEGORY: &str = "unknown";

/// The report of the items of `tally` in its matcher's scopes.
pub(super) fn report(tally: &Tally, factors: &FactorTable) -> ImpactReport {
    let included = |number: u32| {
        number != NONE && tally.items.get(number as usize).is_some_and(|item| tally.matcher.is_in(item.matched))
    };
    let mut order: Vec<(&crate::ident::Giai, u32)> =
        tally.index.iter().filter(|(_, number)| included(**number)).map(|(giai, number)| (giai, *number)).collect();
    // Floating-point sums depend on their order: in GIAI order, the same records give the
    // same report to the last bit, on a node as on an auditor's machine.
    order.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut sums = Sums::default();
    for (_, number) in &order {
        sums.add(tally, &included, *number, factors);
    }
    for (number, month) in &tally.reinstalls {
        if let Some(kg) = tally.items.get(*number as usize).filter(|_| included(*number)).and_then(Item::mass) {
            sums.flow(*month).installed_kg += kg;
        }
    }
    sums.into_report(tally, order.len() as u64, factors)
}

/// What a hazard class an item is in for the figures that tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    NonHazardous,
    Hazardous,
    /// Non-hazardous soil and stones (17 05 04).
    SoilAndStones,
}

/// The running sums.
#[derive(Default)]
struct Sums {
    unknown_restricted: u64,
    unknown_absent: u64,
    splits_without_loss: u64,
    masses: MassSums,
    non_hazardous: DisposedClass,
    hazardous: DisposedClass,
    by_category: BTreeMap<String, CategoryMasses>,
    flows: BTreeMap<Month, MonthFlow>,
    taxonomy: TaxonomySums,
    declared: DeclaredCo2e,
    estimated: BTreeMap<String, CategoryEstimate>,
    estimated_reused: f64,
    estimated_available: f64,
    without_factor: f64,
}

#[derive(Default)]
struct MassSums {
    registered: f64,
    installed: f64,
    available: f64,
    disposed: f64,
    split_losses: f64,
    split_parts_outside_scope: f64,
}

#[derive(Default)]
struct TaxonomySums {
    reused: f64,
    available: f64,
    recycled: f64,
    non_hazardous: f64,
    hazardous: f64,
    soil_and_stones: f64,
}

impl TaxonomySums {
    /// Mass that ended somewhere, `prepared` if reused, available or recycled.
    fn ended(&mut self, class: Class, kg: f64) {
        match class {
            Class::NonHazardous => self.non_hazardous += kg,
            Class::Hazardous => self.hazardous += kg,
            Class::SoilAndStones => self.soil_and_stones += kg,
        }
    }
}

impl Sums {
    fn add(&mut self, tally: &Tally, included: &dyn Fn(u32) -> bool, number: u32, factors: &FactorTable) {
        let Some(item) = tally.items.get(number as usize) else { return };
        let Some(kg) = item.mass() else {
            match item.mass_known {
                MassKnown::Restricted => self.unknown_restricted += 1,
                _ => self.unknown_absent += 1,
            }
            if item.state == State::Split {
                self.splits_without_loss += 1;
            }
            return;
        };
        let category = tally.string(item.category).unwrap_or(NO_CATEGORY).to_owned();
        let class = class_of(tally, item);
        // It entered the scope itself unless its parent was in the scope before it.
        if !included(item.parent) {
            self.masses.registered += kg;
            self.category(&category).registered_kg += kg;
            self.flow(item.began).registered_kg += kg;
        }
        if item.installed != NONE {
            self.flow(item.installed).installed_kg += kg;
        }
        match item.state {
            State::Installed => {
                self.masses.installed += kg;
                self.category(&category).installed_kg += kg;
                self.taxonomy.ended(class, kg);
                if class == Class::NonHazardous {
                    self.taxonomy.reused += kg;
                }
                self.co2e(item, &category, kg, true, factors);
            }
            State::Circulating => {
                self.masses.available += kg;
                self.category(&category).available_kg += kg;
                self.taxonomy.ended(class, kg);
                if class == Class::NonHazardous {
                    self.taxonomy.available += kg;
                }
                self.co2e(item, &category, kg, false, factors);
            }
            State::Disposed => {
                let route = tally.string(item.route).unwrap_or_default();
                self.masses.disposed += kg;
                self.category(&category).disposed_kg += kg;
                self.flow(item.disposed).disposed_kg += kg;
                let disposals = if class == Class::Hazardous { &mut self.hazardous } else { &mut self.non_hazardous };
                disposals.total_kg += kg;
                *disposals.by_route.entry(route.to_owned()).or_default() += kg;
                let code = tally.string(item.disposal_code).or(tally.string(item.waste_code)).unwrap_or(NO_WASTE_CODE);
                *disposals.by_waste_code.entry(code.to_owned()).or_default() += kg;
                self.taxonomy.ended(class, kg);
                if class == Class::NonHazardous && route == RECYCLING {
                    self.taxonomy.recycled += kg;
                }
            }
            State::Split => {
                let mut parts_kg = 0.0;
                let mut outside = 0.0;
                let mut known = true;
                for part in item.parts_first..item.parts_first.saturating_add(item.parts_count) {
                    match tally.items.get(part as usize).and_then(Item::mass) {
                        Some(part_kg) => {
                            parts_kg += part_kg;
                            if !included(part) {
                                outside += part_kg;
                            }
                        }
                        None => known = false,
                    }
                }
                if known {
                    let loss = kg - parts_kg;
                    self.masses.split_losses += loss;
                    self.masses.split_parts_outside_scope += outside;
                    self.category(&category).split_losses_kg += loss;
                    // Offcuts the ledger does not follow: waste not shown prepared for reuse.
                    self.taxonomy.ended(class, loss);
                } else {
                    self.splits_without_loss += 1;
                }
            }
        }
    }

    /// Adds an installed (`reused`) or available item's declared and estimated CO2e.
    fn co2e(&mut self, item: &Item, category: &str, kg: f64, reused: bool, factors: &FactorTable) {
        match Some(item.co2e_avoided).filter(|declared| !declared.is_nan()) {
            Some(declared) => {
                self.declared.items_declaring += 1;
                if reused {
                    self.declared.reused_kg += declared;
                } else {
                    self.declared.available_kg += declared;
                }
            }
            None => self.declared.items_not_declaring += 1,
        }
        let Some(factor) = factors.factor(category) else {
            self.without_factor += kg;
            return;
        };
        let estimate = self.estimated.entry(category.to_owned()).or_insert(CategoryEstimate {
            mass_kg: 0.0,
            factor,
            co2e_kg: 0.0,
        });
        estimate.mass_kg += kg;
        estimate.co2e_kg += kg * factor;
        if reused {
            self.estimated_reused += kg * factor;
        } else {
            self.estimated_available += kg * factor;
        }
    }

    fn category(&mut self, category: &str) -> &mut CategoryMasses {
        self.by_category.entry(category.to_owned()).or_default()
    }

    fn flow(&mut self, month: Month) -> &mut MonthFlow {
        self.flows.entry(month).or_insert_with(|| MonthFlow { month: month_text(month), ..MonthFlow::default() })
    }

    fn into_report(self, tally: &Tally, in_scope: u64, factors: &FactorTable) -> ImpactReport {
        let Sums { masses, taxonomy: t, mut declared, .. } = self;
        let prepared = t.reused + t.available + t.recycled;
        let share = (t.non_hazardous > 0.0).then(|| prepared / t.non_hazardous);
        declared.total_kg = declared.reused_kg + declared.available_kg;
        ImpactReport {
            scope: tally.matcher.scopes().iter().map(Scope::to_string).collect(),
            ledger: LedgerPoint {
                ledger_id: tally.ledger.map(|id| id.to_hex()),
                size: tally.records(),
                root: tally.root(),
            },
            items: ItemCounts {
                in_scope,
                unknown_mass: UnknownMass { restricted: self.unknown_restricted, absent: self.unknown_absent },
                splits_without_loss: self.splits_without_loss,
            },
            mass_kg: Masses {
                registered: masses.registered,
                installed: masses.installed,
                available: masses.available,
                disposed: masses.disposed,
                split_losses: masses.split_losses,
                split_parts_outside_scope: masses.split_parts_outside_scope,
            },
            disposed: Disposed { non_hazardous: self.non_hazardous, hazardous: self.hazardous },
            by_category: self.by_category,
            flows: self.flows.into_values().collect(),
            taxonomy: Taxonomy {
                prepared_for_reuse_or_recycling_kg: prepared,
                reused_kg: t.reused,
                available_kg: t.available,
                recycled_kg: t.recycled,
                non_hazardous_kg: t.non_hazardous,
                excluded_hazardous_kg: t.hazardous,
                excluded_soil_and_stones_kg: t.soil_and_stones,
                share,
                threshold: TAXONOMY_THRESHOLD,
                meets_threshold: share.map(|share| share >= TAXONOMY_THRESHOLD),
            },
            co2e: Co2e {
                declared,
                estimated: EstimatedCo2e {
                    reused_kg: self.estimated_reused,
                    available_kg: self.estimated_available,
                    total_kg: self.estimated_reused + self.estimated_available,
                    by_category: self.estimated,
                    mass_without_factor_kg: self.without_factor,
                    factor_table: factors.table.clone(),
                },
            },
        }
    }
}

/// An item's hazard class: hazardous if a List of Waste code it carries (its disposal's or
/// its passport's) is marked `*`, or its passport holds asbestos; soil and stones if its code
/// is 17 05 04.
fn class_of(tally: &Tally, item: &Item) -> Class {
    let codes = [tally.string(item.disposal_code), tally.string(item.waste_code)];
    if item.asbestos || codes.iter().flatten().any(|code| code.trim_end().ends_with('*')) {
        return Class::Hazardous;
    }
    if codes.iter().flatten().any(|code| code.trim() == SOIL_AND_STONES) {
        return Class::SoilAndStones;
    }
    Class::NonHazardous
}
