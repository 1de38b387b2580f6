//! `GET /v1/epc/{epc}`: from what an RFID reader read to the item's page.
//!
//! A tag on a salvaged beam carries the item's GIAI as an EPC (GS1 EPC Tag
//! Data Standard): a reader reports it as the binary EPC in hexadecimal, and
//! other systems write it as an EPC tag URI (`urn:epc:tag:giai-96:…`) or a
//! pure identity URI (`urn:epc:id:giai:…`). This route takes any of the three,
//! decodes it with the ledger's `ident::epc` module and answers `303 See Other`
//! to the item's page, `/8004/{giai}`, the URI its QR code carries.
//!
//! The GIAI an EPC names is its company prefix followed by its asset reference,
//! so every partition that splits the same GIAI differently leads to the same
//! item. Only GIAIs name items here: an SGTIN, GRAI or SGLN is refused as such.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use salvage_ledger::ident::epc::{EpcError, identity_named_by};
use salvage_ledger::ident::{Giai, PureIdentity};

use super::doc_types::ErrorBody;
use super::{ApiError, Node};
use crate::provenance::linkset::percent_encode;

/// The longest `{epc}` read, in bytes: a GIAI-202 in hex has 52 digits and the
/// longest GIAI URI, every character %-escaped, about a hundred; anything
/// longer is refused before it is parsed.
pub const MAX_EPC_BYTES: usize = 256;

/// How long a client may keep a redirect: items are never removed, so the
/// redirect holds; the bound is for a node whose public URL changes.
const REDIRECT_MAX_AGE: &str = "max-age=300";

#[utoipa::path(get, path = "/v1/epc/{epc}", tag = "resolver",
    params(("epc" = String, Path,
        pattern = r"^(?:34[0-9A-Fa-f]{22}|38[0-9A-Fa-f]{50}|urn:epc:tag:giai-96:[0-7]\.[0-9]{6,12}\.(?:0|[1-9][0-9]{0,18})|urn:epc:(?:tag:giai-202:[0-7]\.|id:giai:)[0-9]{6,12}\.(?:[!'()*+,.0-9:;=A-Z_a-z-]|%[0-9A-Fa-f]{2}){1,24})$",
        max_length = 256,
        description = "A GIAI as an RFID tag carries it: the binary EPC in hex of either case (24 digits for GIAI-96, \
            52 for GIAI-202 with its zero padding), an EPC tag URI (`urn:epc:tag:giai-96:3.0614141.5678`, \
            `urn:epc:tag:giai-202:…`) or a pure identity URI (`urn:epc:id:giai:0614141.5678`), percent-encoded in \
            the path (a URI's `%2F` is sent as `%252F`). A value of this form is still refused when its fields do \
            not decode: partition 7, a company prefix or asset reference too large for its partition, a character \
            outside GS1 character set 82, non-zero padding, more than 30 characters in all")),
    responses(
        (status = 303, description = "The item is registered: `Location` is its page, `{public_url}/8004/{giai}`",
            headers(("Location" = String, description = "The item's page, its GIAI percent-encoded"),
                ("Cache-Control" = String, description = "`max-age=300`"))),
        (status = 400, description = "Not an EPC this node decodes (`epc.malformed`): the message says what is wrong and where", body = ErrorBody),
        (status = 404, description = "A GIAI, but no item has it (`http.not_found`); answered with `Cache-Control: no-store`, since it may be registered later", body = ErrorBody),
        (status = 422, description = "A well-formed EPC of another kind (SGTIN, GRAI, SGLN): only GIAIs name items here (`epc.not_giai`)", body = ErrorBody),
    ))]
/// `GET /v1/epc/{epc}`.
pub async fn lookup(State(node): State<Arc<Node>>, Path(epc): Path<String>) -> Response {
    match redirect(&node, &epc).await {
        Ok(response) => response,
        Err(error) => {
            // A refusal depends on the ledger (404) or is of no use to keep: no cache holds it.
            let mut response = error.into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
    }
}

/// The redirect to the page of the item the EPC names, if it is registered.
async fn redirect(node: &Arc<Node>, epc: &str) -> Result<Response, ApiError> {
    let giai = giai_of(epc)?;
    if !node.knows(&giai).await? {
        return Err(ApiError::not_found(format!("the EPC names GIAI {giai}, and no item {giai} is registered")));
    }
    let location = format!("{}/8004/{}", node.public_url(), percent_encode(giai.as_str()));
    let location = HeaderValue::try_from(location)
        .map_err(|error| ApiError::internal(format!("the page URL of {giai} is no header value: {error}")))?;
    Ok((
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location), (header::CACHE_CONTROL, HeaderValue::from_static(REDIRECT_MAX_AGE))],
    )
        .into_response())
}

/// The GIAI an EPC names: `epc` is a binary EPC in hex, an EPC tag URI or a
/// pure identity URI. Refused with `epc.malformed` (400) when it is none of
/// them or does not decode, with `epc.not_giai` (422) when it names something
/// other than an individual asset.
pub(crate) fn giai_of(epc: &str) -> Result<Giai, ApiError> {
    if epc.len() > MAX_EPC_BYTES {
        return Err(ApiError::bad_request(
            "epc.malformed",
            format!("the EPC has {} bytes; an EPC in hex or as a URI has at most {MAX_EPC_BYTES}", epc.len()),
        ));
    }
    let identity = identity_named_by(epc).map_err(|error| malformed(epc, &error))?;
    let PureIdentity::Giai(giai) = identity else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "epc.not_giai",
            format!(
                "the EPC names {}, which is not a GIAI: only GIAIs (AI 8004: urn:epc:id:giai, GIAI-96, GIAI-202) \
                 name items in this ledger",
                identity.to_uri()
            ),
        ));
    };
    // A decoded GIAI identity holds 7 to 30 characters of set 82 after a
    // prefix of 6 to 12 digits, which `Giai` takes; refusing is only a guard.
    Giai::parse(&giai.giai()).map_err(|error| ApiError::bad_request("epc.malformed", error.to_string()))
}

/// The 400 of an EPC that does not decode: the decoder's own message, which
/// names what is wrong and where, and a hint where the mistake is likely the
/// request's rather than the tag's.
fn malformed(epc: &str, error: &EpcError) -> ApiError {
    let hint = match error {
        // Axum decodes the path once, so a URI's own escapes arrive bare
        // unless the client escaped their `%` too.
        EpcError::Unescaped { .. } => " (in the request path, write each % of the URI as %25, e.g. %252F for %2F)",
        EpcError::HexDigit { .. } if !epc.starts_with("urn:") => {
            " (expected a binary EPC in hex, an EPC tag URI urn:epc:tag:giai-96:… or giai-202:…, \
             or a pure identity URI urn:epc:id:giai:…)"
        }
        _ => "",
    };
    ApiError::bad_request("epc.malformed", format!("{error}{hint}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;

    fn giai(epc: &str) -> String {
        giai_of(epc).unwrap().as_str().to_owned()
    }

    fn refusal(epc: &str) -> ApiError {
        giai_of(epc).unwrap_err()
    }

    #[test]
    fn every_form_of_the_tds_giai_96_example_names_its_giai() {
        // TDS §14.5.5.1 example: urn:epc:tag:giai-96:3.0614141.5678.
        for epc in [
            "3474257BF40000000000162E",
            "3474257bf40000000000162e",
            "urn:epc:tag:giai-96:3.0614141.5678",
            "urn:epc:tag:giai-202:0.0614141.5678",
            "urn:epc:id:giai:0614141.5678",
            // The same GIAI split after a 6-digit prefix.
            "urn:epc:id:giai:061414.15678",
        ] {
            assert_eq!(giai(epc), "06141415678", "{epc}");
        }
    }

    #[test]
    fn a_giai_202_names_its_asset_reference_unescaped() {
        assert_eq!(giai("3814257BF58C1858D7C400000000000000000000000000000000"), "06141411ABc/D");
        assert_eq!(giai("urn:epc:tag:giai-202:0.0614141.1ABc%2FD"), "06141411ABc/D");
        assert_eq!(giai("urn:epc:id:giai:4750001.BEAM-0001"), "4750001BEAM-0001");
    }

    #[test]
    fn other_kinds_of_epc_are_refused_as_not_giais() {
        for epc in [
            "3074257BF7194E4000001A85",
            "urn:epc:tag:sgtin-96:3.0614141.812345.6789",
            "urn:epc:id:grai:0614141.12345.5678",
        ] {
            let error = refusal(epc);
            assert_eq!(
                (error.status, error.code.as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, "epc.not_giai"),
                "{epc}"
            );
            assert!(error.message.contains("only GIAIs"), "{}", error.message);
        }
    }

    #[test]
    fn malformed_epcs_are_refused_with_what_is_wrong() {
        let cases = [
            ("3474257BF40000000000162", "24"),
            ("3474257BF40000000000162G", "not a hexadecimal digit"),
            ("4750001BEAM-0001", "expected a binary EPC in hex"),
            ("FF74257BF40000000000162E", "0xFF"),
            ("347E257BF40000000000162E", "partition value 7"),
            ("3814257BF58C1858D7C400000000000000000000000000000001", "padding must be zero"),
            ("urn:epc:id:giai:0614141.1ABc/D", "%25"),
            ("urn:epc:id:sscc:0614141.1234567890", "not an EPC URI"),
        ];
        for (epc, expected) in cases {
            let error = refusal(epc);
            assert_eq!((error.status, error.code.as_str()), (StatusCode::BAD_REQUEST, "epc.malformed"), "{epc}");
            assert!(error.message.contains(expected), "{epc}: {}", error.message);
        }
    }

    #[test]
    fn an_overlong_epc_is_refused_before_it_is_parsed() {
        let long = format!("urn:epc:id:giai:0614141.{}", "A".repeat(MAX_EPC_BYTES));
        let error = refusal(&long);
        assert_eq!(error.code, "epc.malformed");
        assert!(error.message.contains("at most 256"), "{}", error.message);
        assert!(error.message.len() < 100, "the refusal does not quote the input: {}", error.message);
    }
}
