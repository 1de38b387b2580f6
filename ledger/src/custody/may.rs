//! What a member may do to an item now: the preconditions of each item action that do not
//! depend on the statement's body (docs/rules.md §7).
//!
//! A member's app asks before it signs, so that it offers only what the ledger would take and
//! says why the rest is refused. The answer must be the ledger's own, never a copy that drifts
//! from it: `items::check` judges every item statement through [`preconditions`] first, and
//! [`State::may`] (and `Ledger::may`, over the durable records) gives the same verdict before
//! any statement exists. What the body adds is checked on submission only: a transfer's
//! recipient, an amendment's or a split's passports, the passport version an attestation names.

use std::fmt;

use super::waste;
use super::{ItemState, ItemStatus, Member, MemberId, Role, Rules, State, role_missing};
use crate::entry::Kind;
use crate::ident::Giai;
use crate::refusal::{Refusal, RefusalCode};

/// An action a member may take on a registered item: one per item statement but the
/// registration, which concerns a GIAI no item has yet (docs/rules.md §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// `item.transfer`: offer custody to another member.
    Transfer,
    /// `item.receive`: accept custody offered.
    Receive,
    /// `item.cancel`: withdraw an offer.
    Cancel,
    /// `item.amend`: a new passport version.
    Amend,
    /// `item.split`: divide the item into parts.
    Split,
    /// `item.install`: reuse it in a building.
    Install,
    /// `item.dismantle`: take it out of a building again.
    Dismantle,
    /// `item.dispose`: recycle or dispose of it.
    Dispose,
    /// `item.attest`: a certifier's attestation.
    Attest,
}

impl Action {
    /// Every action, in the order a member's app lists them.
    pub const ALL: [Action; 9] = [
        Action::Transfer,
        Action::Receive,
        Action::Cancel,
        Action::Amend,
        Action::Split,
        Action::Install,
        Action::Dismantle,
        Action::Dispose,
        Action::Attest,
    ];

    /// The action's name, the last part of its statement's kind: `transfer` for `item.transfer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Transfer => "transfer",
            Action::Receive => "receive",
            Action::Cancel => "cancel",
            Action::Amend => "amend",
            Action::Split => "split",
            Action::Install => "install",
            Action::Dismantle => "dismantle",
            Action::Dispose => "dispose",
            Action::Attest => "attest",
        }
    }

    /// The kind of statement that takes the action.
    pub fn kind(self) -> Kind {
        match self {
            Action::Transfer => Kind::ItemTransfer,
            Action::Receive => Kind::ItemReceive,
            Action::Cancel => Kind::ItemCancel,
            Action::Amend => Kind::ItemAmend,
            Action::Split => Kind::ItemSplit,
            Action::Install => Kind::ItemInstall,
            Action::Dismantle => Kind::ItemDismantle,
            Action::Dispose => Kind::ItemDispose,
            Action::Attest => Kind::ItemAttest,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl State {
    /// Whether `signer` may take `action` on `giai` now, whatever its statement's body says:
    /// `Ok`, or the refusal the ledger would give the statement (code and message), in the
    /// order the rules are checked. The item must be in memory, as for [`State::check`].
    pub fn may(&self, signer: &MemberId, giai: &Giai, action: Action) -> Result<(), Refusal> {
        preconditions(self.item(giai), giai, signer, self.member(signer), self.consortium.rules, action).map(|_| ())
    }
}

/// The preconditions of `action` by `signer` on `giai`, whose state is `item` (`None`: no item
/// has it); `member` is the signer's membership (`None` for an id no member has), whose roles
/// the receipt and attestation need; `rules` the ledger's edition of the rules. Returns the
/// item the action changes, or the refusal.
pub(crate) fn preconditions<'a>(
    item: Option<&'a ItemState>,
    giai: &Giai,
    signer: &MemberId,
    member: Option<&Member>,
    rules: Rules,
    action: Action,
) -> Result<&'a ItemState, Refusal> {
    let item = live(item, giai)?;
    match action {
        Action::Transfer | Action::Split => {
            free_in_custody(item, signer)?;
            require_uninstalled(item)?;
        }
        Action::Install => {
            free_in_custody(item, signer)?;
            require_uninstalled(item)?;
            waste::require_installable(rules, item)?;
        }
        Action::Amend | Action::Dispose => free_in_custody(item, signer)?,
        Action::Dismantle => {
            free_in_custody(item, signer)?;
            if item.status != ItemStatus::Installed {
                return Err(Refusal::new(RefusalCode::ItemNotInstalled, format!("{giai} is not installed")));
            }
        }
        Action::Receive => {
            let pending = item.pending.as_ref().ok_or_else(|| no_pending(giai))?;
            if pending.to != *signer {
                return Err(Refusal::new(
                    RefusalCode::CustodyNotRecipient,
                    format!("{giai} is offered to {}, not to {signer}", pending.to),
                ));
            }
            if !waste::may_receive(rules, item, member) {
                return Err(role_missing(signer, Role::Holder, "receive custody"));
            }
        }
        // The custodian withdraws its offer, or the recipient declines it.
        Action::Cancel => match &item.pending {
            Some(pending) if pending.to == *signer => {}
            Some(pending) if item.custodian != *signer => {
                return Err(Refusal::new(
                    RefusalCode::CustodyNotCustodian,
                    format!(
                        "{giai} is held by {} and offered to {}: only they may cancel the transfer, not {signer}",
                        item.custodian, pending.to
                    ),
                ));
            }
            Some(_) => {}
            None => {
                require_custodian(item, signer)?;
                return Err(no_pending(giai));
            }
        },
        Action::Attest => require_role(signer, member, Role::Certifier, "attest items")?,
    }
    Ok(item)
}

/// An item that exists, is registered (not only reserved) and is not terminal.
fn live<'a>(item: Option<&'a ItemState>, giai: &Giai) -> Result<&'a ItemState, Refusal> {
    let item = item.ok_or_else(|| Refusal::new(RefusalCode::ItemUnknown, format!("no item {giai} is registered")))?;
    if item.status == ItemStatus::Reserved {
        return Err(Refusal::new(
            RefusalCode::ItemReserved,
            format!("{giai} is reserved for {} and not registered yet", item.custodian),
        ));
    }
    if item.status.is_terminal() {
        let status = if item.status == ItemStatus::Split { "split" } else { "disposed" };
        return Err(Refusal::new(RefusalCode::ItemTerminal, format!("{giai} is {status} and can never change again")));
    }
    Ok(item)
}

/// The signer holds the item and no transfer of it is pending.
fn free_in_custody(item: &ItemState, signer: &MemberId) -> Result<(), Refusal> {
    require_custodian(item, signer)?;
    if let Some(pending) = &item.pending {
        return Err(Refusal::new(
            RefusalCode::CustodyTransferPending,
            format!("{} is offered to {}; it must be received or cancelled first", item.giai, pending.to),
        ));
    }
    Ok(())
}

fn require_custodian(item: &ItemState, signer: &MemberId) -> Result<(), Refusal> {
    if item.custodian != *signer {
        return Err(Refusal::new(
            RefusalCode::CustodyNotCustodian,
            format!("{} is held by {}, not by {signer}", item.giai, item.custodian),
        ));
    }
    Ok(())
}

fn require_uninstalled(item: &ItemState) -> Result<(), Refusal> {
    if item.status == ItemStatus::Installed {
        return Err(Refusal::new(
            RefusalCode::ItemInstalled,
            format!("{} is installed; dismantle it first", item.giai),
        ));
    }
    Ok(())
}

fn require_role(signer: &MemberId, member: Option<&Member>, role: Role, action: &str) -> Result<(), Refusal> {
    if member.is_some_and(|member| member.has_role(role)) { Ok(()) } else { Err(role_missing(signer, role, action)) }
}

fn no_pending(giai: &Giai) -> Refusal {
    Refusal::new(RefusalCode::CustodyNoPendingTransfer, format!("no transfer of {giai} is pending"))
}
