//! The waste and attestation rules of a ledger of rules 2 (docs/rules.md §11).
//!
//! An item whose passport says it is waste, or lists asbestos, is handled as waste law asks:
//! custody goes only to a waste handler, it is never installed, and when hazardous it ends only
//! by a hazardous-waste route. What made an item waste stays with it when its passport is
//! amended (a contractor cannot talk waste back into a product); only a certifier's passed
//! `end_of_waste` attestation on the current passport lifts it, and only a passed
//! `hazard_survey` of a current passport that lists no asbestos lifts an earlier asbestos
//! finding. Withdrawing such an attestation puts the mark back.
//!
//! The marks are kept for every ledger, so that an audit of a ledger founded before these
//! rules can say what they would have refused ([`State::later_rules_verdict`]); only a ledger
//! whose genesis says `"rules": 2` enforces them. They are not in the state digest (§14): like
//! an item's name and mass they are read from the records its state names.

use serde::{Deserialize, Serialize};

use super::bodies::{AttestationFacts, DisposeBody, PassportFacts};
use super::{Context, ItemState, Member, Role, Rules};
use crate::chain::Seq;
use crate::refusal::{Refusal, RefusalCode};

/// What makes an item waste or hazardous, from its passports and attestations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WasteMarks {
    /// The record of the last passport that said the item is waste, with its List of Waste code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waste: Option<WasteMark>,
    /// The passed `end_of_waste` attestation that made the waste a product again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_waste: Option<Seq>,
    /// The record of the last passport that listed asbestos.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asbestos: Option<Seq>,
    /// The passed `hazard_survey` that found the item's current passport free of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asbestos_cleared: Option<Seq>,
    /// Whether the current passport lists asbestos: a survey of it cannot clear what it lists.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub current_lists_asbestos: bool,
}

/// A passport that said its item is waste.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WasteMark {
    /// The record of the passport.
    pub seq: Seq,
    /// Its European List of Waste code, e.g. `17 06 05*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl WasteMarks {
    /// Whether nothing marks the item (so its state need not spell the marks out).
    pub fn is_clear(&self) -> bool {
        *self == WasteMarks::default()
    }

    /// Whether the item holds asbestos, as far as the ledger knows.
    pub fn holds_asbestos(&self) -> bool {
        self.asbestos.is_some() && self.asbestos_cleared.is_none()
    }

    /// Whether the item is waste now: a passport said so and no end-of-waste attestation lifted
    /// it, or it holds asbestos, which is never reusable.
    pub fn is_waste(&self) -> bool {
        (self.waste.is_some() && self.end_of_waste.is_none()) || self.holds_asbestos()
    }

    /// Whether the item is hazardous waste: it holds asbestos, or it is waste under a List of
    /// Waste code marked hazardous (an asterisk, Commission Decision 2000/532/EC).
    pub fn is_hazardous(&self) -> bool {
        let hazardous_code =
            self.waste.as_ref().and_then(|mark| mark.code.as_deref()).is_some_and(|c| c.ends_with('*'));
        self.holds_asbestos() || (hazardous_code && self.end_of_waste.is_none())
    }

    /// How the item is waste, for a message: `asbestos waste`, `waste (List of Waste code C)`
    /// or `waste`.
    pub fn describe(&self) -> String {
        if self.holds_asbestos() {
            return "asbestos waste".to_owned();
        }
        match self.waste.as_ref().and_then(|mark| mark.code.as_deref()) {
            Some(code) => format!("waste (List of Waste code {code})"),
            None => "waste".to_owned(),
        }
    }

    /// Notes a new passport of the item, recorded at `seq`.
    pub fn note_passport(&mut self, passport: &PassportFacts, seq: Seq) {
        if let Some(code) = passport.waste() {
            self.waste = Some(WasteMark { seq, code: code.map(str::to_owned) });
            self.end_of_waste = None;
        }
        self.current_lists_asbestos = passport.lists_asbestos();
        if self.current_lists_asbestos {
            self.asbestos = Some(seq);
            self.asbestos_cleared = None;
        }
    }

    /// Notes an attestation of the current passport, recorded at `seq`.
    pub fn note_attestation(&mut self, attestation: &AttestationFacts, seq: Seq) {
        if attestation.passed("end_of_waste") && self.waste.is_some() && self.end_of_waste.is_none() {
            self.end_of_waste = Some(seq);
        }
        if attestation.passed("hazard_survey") && self.asbestos.is_some() && !self.current_lists_asbestos {
            self.asbestos_cleared = Some(seq);
        }
    }

    /// Notes that the attestation recorded at `seq` was withdrawn: what it lifted comes back.
    pub fn note_withdrawal(&mut self, seq: Seq) {
        if self.end_of_waste == Some(seq) {
            self.end_of_waste = None;
        }
        if self.asbestos_cleared == Some(seq) {
            self.asbestos_cleared = None;
        }
    }
}

/// Refuses to offer waste to a member that is no waste handler.
pub(super) fn require_waste_handler(rules: Rules, item: &ItemState, recipient: &Member) -> Result<(), Refusal> {
    if rules == Rules::Second && item.waste_marks.is_waste() && !recipient.has_role(Role::WasteHandler) {
        return Err(Refusal::new(
            RefusalCode::WasteRecipientNotHandler,
            format!(
                "{} is {}: it may be offered only to a member with the waste_handler role, which {} lacks",
                item.giai,
                item.waste_marks.describe(),
                recipient.id
            ),
        ));
    }
    Ok(())
}

/// Whether `member` may receive `item`: a holder, or a waste handler when the item is waste.
pub(super) fn may_receive(rules: Rules, item: &ItemState, member: Option<&Member>) -> bool {
    member.is_some_and(|member| {
        member.has_role(Role::Holder)
            || (rules == Rules::Second && item.waste_marks.is_waste() && member.has_role(Role::WasteHandler))
    })
}

/// Refuses to install waste.
pub(super) fn require_installable(rules: Rules, item: &ItemState) -> Result<(), Refusal> {
    if rules == Rules::Second && item.waste_marks.is_waste() {
        return Err(Refusal::new(
            RefusalCode::WasteNotInstallable,
            format!(
                "{} is {} and can never be installed; a certifier's end-of-waste attestation of its \
                 current passport makes waste a product again (asbestos never)",
                item.giai,
                item.waste_marks.describe()
            ),
        ));
    }
    Ok(())
}

/// Refuses to dispose of hazardous waste by any but a hazardous-waste route.
pub(super) fn require_disposal_route(rules: Rules, item: &ItemState, body: &DisposeBody) -> Result<(), Refusal> {
    if rules == Rules::Second && item.waste_marks.is_hazardous() && !body.is_hazardous_route() {
        return Err(Refusal::new(
            RefusalCode::WasteRouteNotHazardous,
            format!(
                "{} is {}: it is disposed of only by hazardous_waste_treatment or \
                 hazardous_waste_landfill, not {}",
                item.giai,
                item.waste_marks.describe(),
                body.route
            ),
        ));
    }
    Ok(())
}

/// Refuses an attestation recorded after its own last valid day, and an end-of-waste
/// attestation of an item that holds asbestos.
pub(super) fn require_attestable(
    rules: Rules,
    item: &ItemState,
    attestation: &AttestationFacts,
    context: &Context,
) -> Result<(), Refusal> {
    if rules != Rules::Second {
        return Ok(());
    }
    // The day the ledger accepts the entry: the date part of its RFC 3339 time (UTC).
    let today = context.accepted.as_str().get(..10).unwrap_or_default();
    // Dates of the schema's `date` format compare as text: four-digit years, zero-padded.
    if let Some(valid_until) = &attestation.valid_until
        && valid_until.as_str() < today
    {
        return Err(Refusal::new(
            RefusalCode::AttestExpired,
            format!("the attestation was valid until {valid_until}; it cannot be recorded on {today}"),
        ));
    }
    if attestation.examination == "end_of_waste" && item.waste_marks.holds_asbestos() {
        return Err(Refusal::new(
            RefusalCode::WasteNeverReusable,
            format!("{} holds asbestos, which is never reusable: no end-of-waste attestation applies", item.giai),
        ));
    }
    Ok(())
}

/// The refusal codes of the rules edition 2 added.
pub const SECOND_EDITION_CODES: [RefusalCode; 5] = [
    RefusalCode::WasteRecipientNotHandler,
    RefusalCode::WasteNotInstallable,
    RefusalCode::WasteRouteNotHazardous,
    RefusalCode::WasteNeverReusable,
    RefusalCode::AttestExpired,
];
