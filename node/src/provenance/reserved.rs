//! What the resolver shows for a GIAI that is reserved but names no item yet: a crew tagged
//! something with a label printed ahead (`salvage labels --allocate`), and a buyer scanned it
//! before the item was registered.

use salvage_ledger::custody::ItemStatus;
use salvage_ledger::ident::Giai;
use salvage_ledger::store::{Ledger, LedgerError};

use super::NotFound;

/// `Some` with who holds the reservation and since when, if `giai` is reserved and not
/// registered; `None` for a registered item or an unknown GIAI.
pub fn reservation(ledger: &Ledger, giai: &Giai) -> Result<Option<NotFound>, LedgerError> {
    let Some(item) = ledger.item(giai)? else { return Ok(None) };
    if item.status != ItemStatus::Reserved {
        return Ok(None);
    }
    let holder = ledger
        .members()?
        .into_iter()
        .find(|member| member.id == item.custodian)
        .map_or_else(|| item.custodian.to_string(), |member| member.name);
    let accepted = ledger.record(item.registered.get())?.accepted;
    // The day is what a person on site needs; the record has the instant.
    let since = accepted.as_str().get(..10).unwrap_or(accepted.as_str()).to_owned();
    Ok(Some(NotFound::Reserved { holder, since }))
}
