//! `GET /v1/items/{giai}/disclosures`: a member reads the restricted values
//! of an item it is entitled to (docs/rules.md §8), from this node's private
//! store (docs/format.md §13).
//!
//! The request is signed with one of the member's active keys as an HTTP
//! Message Signature (RFC 9421, [`crate::member_auth`]). Everything about the
//! signature is checked from the headers before anything else is looked at;
//! an unsigned, badly signed, stale or replayed request, or one signed by a
//! key no member holds, is `401` whatever item it names, so a stranger learns
//! nothing, not even whether the item exists. A member who signed no record of
//! the item's history that entitles it (its registrant, its custodians, who
//! offered or received it, the certifiers who attested it: [`may_read_restricted`])
//! gets `403`; an audit conclusion that names the item is in its history but
//! entitles no one.
//!
//! The answer lists, for each record of the item's history that withholds
//! values, its disclosures `[salt, pointer, value]`; it is never cached.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use salvage_ledger::custody::MemberId;
use salvage_ledger::entry::{Kind, PublicKey};
use serde_json::{Value, json};

use super::doc_types::ErrorBody;
use super::items::{parse_giai, unknown};
use super::member_requests::{authenticate, refused, unknown_key};
use super::{ApiError, Node};

/// The most records one answer lists; an item's history is rarely longer.
const MAX_RECORDS: usize = 1000;

#[utoipa::path(get, path = "/v1/items/{giai}/disclosures", tag = "items",
    params(("giai" = String, Path, pattern = r#"^[0-9]{6}[!"%-?A-Z_a-z]{1,24}$"#, min_length = 7, max_length = 30, description = "The item's GIAI (GS1 AI 8004)")),
    responses(
        (status = 200, description = "`{giai, member, records: [{seq, entry_id, kind, disclosures: [[salt, pointer, value]]}], truncated}`: the restricted values of the item's records", body = Object),
        (status = 400, description = "Not a GIAI (`giai.malformed`)", body = ErrorBody),
        (status = 401, description = "Not signed by an active key of a member (`auth.missing`, `auth.malformed`, `auth.bad_signature`, `auth.stale`, `auth.replayed`, `auth.unknown_key`, …): HTTP Message Signatures, RFC 9421", body = ErrorBody),
        (status = 403, description = "The member signed no record of the item's history (`auth.not_entitled`)", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
        (status = 503, description = "The node remembers too many recent requests to take another (`auth.busy`); retry", body = ErrorBody),
    ))]
/// `GET /v1/items/{giai}/disclosures`.
pub async fn disclosures(
    State(node): State<Arc<Node>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(giai): Path<String>,
) -> Result<Response, ApiError> {
    let claim = authenticate(&method, &uri, &headers)?;
    let seen = Arc::clone(&node.seen_requests);
    node.ledger(move |ledger| {
        let members = ledger.members()?;
        let member = members
            .iter()
            .find(|member| member.active_keys().any(|key| *key == claim.key))
            .ok_or_else(|| refused(&unknown_key(&claim.key)))?;
        seen.admit(&claim, Instant::now()).map_err(|error| refused(&error))?;
        let giai = parse_giai(&giai)?;
        if ledger.item(&giai)?.is_none() {
            return Err(unknown(&giai));
        }
        let history = ledger.history(&giai)?;
        if !may_read_restricted(&history, member) {
            return Err(not_entitled(&member.id, &giai.to_string()));
        }
        let mut records = Vec::new();
        let mut truncated = false;
        for record in &history {
            let Some(disclosures) = ledger.disclosures(record.seq.get())? else { continue };
            if records.len() == MAX_RECORDS {
                truncated = true;
                break;
            }
            records.push(json!({
                "seq": record.seq,
                "entry_id": record.entry.id(),
                "kind": record.entry.statement().kind,
                "disclosures": disclosures.iter().map(|d| d.to_value()).collect::<Vec<Value>>(),
            }));
        }
        let body = json!({"giai": giai, "member": member.id, "records": records, "truncated": truncated});
        Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
    })
    .await
}

/// Whether `member` may read the restricted values and restricted files of the item whose
/// history is `history` (docs/rules.md §8): it signed, with any key it ever had, one of its
/// records of a kind that [`entitles`] its signers. The disclosure reads and the attachment
/// reads both ask this.
pub(super) fn may_read_restricted(
    history: &[salvage_ledger::chain::Record],
    member: &salvage_ledger::custody::Member,
) -> bool {
    let keys: Vec<&PublicKey> = member.keys.keys().collect();
    history
        .iter()
        .filter(|record| entitles(record.entry.statement().kind))
        .any(|record| record.entry.signatures().iter().any(|signature| keys.contains(&&signature.key)))
}

/// Whether signing a record of `kind` in an item's history entitles a member to read the
/// item's restricted values (docs/rules.md §8): registering it (or reserving its GIAI first),
/// holding it, offering it, receiving it or attesting it. An allow-list, so that a kind not
/// named here entitles no one until it is decided: an `audit.conclusion` joins the history of
/// every item it names, but naming an item in an audit is no right to read what its holder
/// withheld.
fn entitles(kind: Kind) -> bool {
    matches!(
        kind,
        // Its registrant (a reservation is the registrant's before the registration) and
        // every custodian: each signed a registration, a split or a receipt, and only the
        // custodian amends it, offers it, withdraws the offer, installs, dismantles or
        // disposes of it.
        Kind::GiaiReserve
            | Kind::ItemRegister
            | Kind::ItemSplit
            | Kind::ItemReceive
            | Kind::ItemTransfer
            | Kind::ItemCancel
            | Kind::ItemAmend
            | Kind::ItemInstall
            | Kind::ItemDismantle
            | Kind::ItemDispose
            // The certifiers who attested it.
            | Kind::ItemAttest
            | Kind::ItemAttestWithdraw
    )
}

fn not_entitled(member: &MemberId, giai: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "auth.not_entitled",
        format!(
            "member {member} signed no record of {giai}'s history that entitles it: the restricted values of an \
             item are for the members who registered, held, offered, received or attested it, not for a \
             certifier whose audit concluded on it (docs/rules.md §8)"
        ),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use salvage_ledger::custody::Member;
    use salvage_ledger::entry::Kind;
    use salvage_ledger::store::Ledger;
    use salvage_ledger::testkit::{Fixture, passport};
    use serde_json::json;

    use super::{entitles, may_read_restricted};

    const GIAI: &str = "4750001DOOR-0001";

    fn member(ledger: &Ledger, id: &str) -> Member {
        ledger.members().unwrap().into_iter().find(|member| member.id.as_str() == id).unwrap()
    }

    /// The kinds that entitle are those that did before `audit.conclusion` joined items'
    /// histories: every kind that can be in one (a reservation and every `item.*` kind).
    #[test]
    fn every_kind_of_an_items_history_entitles_its_signers_but_an_audit_conclusion() {
        let entitling: Vec<&str> = Kind::ALL.iter().filter(|kind| entitles(**kind)).map(|kind| kind.as_str()).collect();
        assert_eq!(
            entitling,
            [
                "giai.reserve",
                "item.register",
                "item.amend",
                "item.transfer",
                "item.receive",
                "item.cancel",
                "item.attest",
                "item.attest_withdraw",
                "item.split",
                "item.install",
                "item.dismantle",
                "item.dispose",
            ]
        );
        assert!(!entitles(Kind::AuditConclusion));
    }

    #[test]
    fn a_certifier_who_only_concluded_an_audit_of_an_item_is_not_entitled_but_one_who_attested_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let f = Fixture::withholding();
        let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
        let mut body = passport(GIAI, "Oak door", 40.0);
        body["origin"]["address"] = json!("Rūpniecības iela 12, Jelgava");
        body["restricted"] = json!(["/origin/address"]);
        let register = f.withheld(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": GIAI, "passport": body}));
        assert!(ledger.submit_disclosed(vec![register]).unwrap()[0].is_ok());
        let size = ledger.size();
        let conclusion = f.conclusion("baltic-cert", size, &ledger.root_at(size).unwrap(), &[GIAI], b"report");
        let outcome = ledger.submit(vec![conclusion]).unwrap();
        assert!(outcome[0].is_ok(), "{outcome:?}");

        let giai = salvage_ledger::ident::Giai::parse(GIAI).unwrap();
        let history = ledger.history(&giai).unwrap();
        let kinds: Vec<Kind> = history.iter().map(|record| record.entry.statement().kind).collect();
        assert_eq!(kinds, [Kind::ItemRegister, Kind::AuditConclusion], "the conclusion is in the item's history");
        assert!(may_read_restricted(&history, &member(&ledger, "baltic-demolition")));
        assert!(!may_read_restricted(&history, &member(&ledger, "baltic-cert")), "concluding is no entitlement");
        assert!(!may_read_restricted(&history, &member(&ledger, "timber-builders")));

        let attest = f.signed(
            &["baltic-cert"],
            Kind::ItemAttest,
            json!({"giai": GIAI, "passport_version": 1, "attestation": {
                "type": "inspection", "result": "pass", "summary": "Door fits its frame; no rot.",
            }}),
        );
        assert!(ledger.submit(vec![attest]).unwrap()[0].is_ok());
        let history = ledger.history(&giai).unwrap();
        assert!(may_read_restricted(&history, &member(&ledger, "baltic-cert")), "attesting is");
    }
}
