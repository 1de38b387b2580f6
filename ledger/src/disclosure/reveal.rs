//! Withholding restricted values from a body, and revealing them again.

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

use super::places::array_index;
use super::{DIGESTS_MEMBER, Disclosure, DisclosureDigest, MAX_DIGESTS, Place, Salt, restricted_places};
use crate::entry::Kind;
use crate::refusal::{Refusal, RefusalCode};

/// The body to sign and the disclosures of its restricted values: each value
/// a passport or installation restricts is taken out (an object member is
/// removed, an array element becomes `null`, so its siblings keep their
/// indices) and the sorted digests of their disclosures are listed in `_sd`.
/// A body that restricts nothing comes back as it was. `salt` gives each
/// disclosure its salt.
pub fn withhold<E>(
    kind: Kind,
    body: &Value,
    mut salt: impl FnMut() -> Result<Salt, E>,
) -> Result<Result<(Value, Vec<Disclosure>), Refusal>, E> {
    let places = restricted_places(kind, body);
    if let Err(refusal) = check_places(&places) {
        return Ok(Err(refusal));
    }
    let mut public = body.clone();
    let mut disclosures = Vec::with_capacity(places.len());
    for place in places {
        let Some(value) = place.find(body) else {
            return Ok(Err(Refusal::new(
                RefusalCode::DisclosureMissing,
                format!("{place} is restricted but the body holds no value there to withhold"),
            )));
        };
        disclosures.push(Disclosure::new(salt()?, place.clone(), value.clone()));
        take_out(&mut public, &place);
    }
    if !disclosures.is_empty() {
        let mut digests: Vec<String> = disclosures.iter().map(|disclosure| disclosure.digest().to_hex()).collect();
        digests.sort_unstable();
        if let Value::Object(members) = &mut public {
            members.insert(DIGESTS_MEMBER.to_owned(), Value::Array(digests.into_iter().map(Value::String).collect()));
        }
    }
    Ok(Ok((public, disclosures)))
}

/// The whole body of a signed `public` body of `kind`, with `disclosures` put
/// back, once they are exactly the ones it calls for: one for each restricted
/// place, each listed in `_sd` (which may also list decoys), each for a place
/// the signed body leaves empty.
pub fn reveal(kind: Kind, public: &Value, disclosures: &[Disclosure]) -> Result<Value, Refusal> {
    let listed = listed_digests(public)?;
    let places = restricted_places(kind, public);
    check_places(&places)?;
    let mut seen: HashSet<&Place> = HashSet::new();
    for disclosure in disclosures {
        let place = disclosure.place();
        if !places.contains(place) {
            return Err(Refusal::new(
                RefusalCode::DisclosureUnexpected,
                format!("a disclosure is for {place}, which the body does not restrict"),
            ));
        }
        if !seen.insert(place) {
            return Err(Refusal::new(RefusalCode::DisclosureUnexpected, format!("two disclosures are for {place}")));
        }
        if !listed.contains(&disclosure.digest()) {
            return Err(Refusal::new(
                RefusalCode::DisclosureMismatch,
                format!("the disclosure for {place} has a digest the signed body does not list in {DIGESTS_MEMBER}"),
            ));
        }
    }
    if let Some(place) = places.iter().find(|place| !seen.contains(place)) {
        if place.find(public).is_some_and(|value| !value.is_null()) {
            return Err(in_clear(place));
        }
        return Err(Refusal::new(
            RefusalCode::DisclosureMissing,
            format!("{place} is restricted and no disclosure of its value came with the entry"),
        ));
    }
    let mut whole = public.clone();
    if let Value::Object(members) = &mut whole {
        members.remove(DIGESTS_MEMBER);
    }
    for disclosure in disclosures {
        put_back(&mut whole, disclosure)?;
    }
    Ok(whole)
}

/// Whether `disclosure` proves a value of the signed `public` body of
/// `kind`: its place is one the body restricts and leaves empty, and its
/// digest is listed in `_sd`. This is what a buyer checks of a disclosure
/// proof; the other values the body withholds stay unknown.
pub fn belongs(kind: Kind, public: &Value, disclosure: &Disclosure) -> Result<(), Refusal> {
    let listed = listed_digests(public)?;
    let place = disclosure.place();
    if !restricted_places(kind, public).contains(place) {
        return Err(Refusal::new(
            RefusalCode::DisclosureUnexpected,
            format!("the disclosure is for {place}, which the signed body does not restrict"),
        ));
    }
    if !listed.contains(&disclosure.digest()) {
        return Err(Refusal::new(
            RefusalCode::DisclosureMismatch,
            format!(
                "the disclosure for {place} has a digest the signed body does not list in {DIGESTS_MEMBER}: its salt, \
                 place or value was changed"
            ),
        ));
    }
    if place.find(public).is_some_and(|value| !value.is_null()) {
        return Err(in_clear(place));
    }
    Ok(())
}

/// How many values a signed `public` body of `kind` withholds, checked
/// without their disclosures: `_sd` is well formed and every restricted place
/// is left empty (a value shown at one is `disclosure.in_clear`). What the
/// values were, and whether they fit the schema and the rules, only their
/// disclosures can tell (docs/format.md §13, public judgement).
pub fn withheld_values(kind: Kind, public: &Value) -> Result<usize, Refusal> {
    listed_digests(public)?;
    let places = restricted_places(kind, public);
    check_places(&places)?;
    // `_sd` itself is no value of the body: revealing takes it out first.
    let digests = Place::member(DIGESTS_MEMBER);
    if let Some(place) = places.iter().find(|place| **place != digests && shows_value(public, place)) {
        return Err(in_clear(place));
    }
    Ok(places.len())
}

/// The digests a body lists, checked: at most [`MAX_DIGESTS`] of 64 lowercase
/// hex digits, in ascending order without repeats (so the order says nothing).
fn listed_digests(body: &Value) -> Result<BTreeSet<DisclosureDigest>, Refusal> {
    let malformed = |why: String| Refusal::new(RefusalCode::EntryMalformed, format!("{DIGESTS_MEMBER}: {why}"));
    let Some(listed) = body.get(DIGESTS_MEMBER) else { return Ok(BTreeSet::new()) };
    let Value::Array(listed) = listed else { return Err(malformed("is not an array".to_owned())) };
    if listed.len() > MAX_DIGESTS {
        return Err(malformed(format!("lists {} digests, more than {MAX_DIGESTS}", listed.len())));
    }
    let mut digests = BTreeSet::new();
    let mut previous: Option<&str> = None;
    for (index, digest) in listed.iter().enumerate() {
        let text = digest.as_str().ok_or_else(|| malformed(format!("element {index} is not a string")))?;
        let parsed = DisclosureDigest::from_hex(text)
            .map_err(|_| malformed(format!("element {index} is not 64 lowercase hex digits")))?;
        if previous.is_some_and(|previous| previous >= text) {
            return Err(malformed(format!("element {index} is out of order or repeated: digests are sorted")));
        }
        previous = Some(text);
        digests.insert(parsed);
    }
    Ok(digests)
}

/// Refuses restricted places of which one lies inside another: one value
/// would then be disclosed twice, and taking out one would move the other.
fn check_places(places: &[Place]) -> Result<(), Refusal> {
    for (index, place) in places.iter().enumerate() {
        if let Some(other) =
            places.iter().enumerate().find_map(|(at, other)| (at != index && place.is_within(other)).then_some(other))
        {
            return Err(Refusal::new(
                RefusalCode::EntryMalformed,
                format!("restricted places overlap: {place} lies within {other}; restrict one of them"),
            ));
        }
    }
    Ok(())
}

/// The value the reference tokens `parents` lead to in `body`, if any.
fn parent_mut<'a>(body: &'a mut Value, parents: &[String]) -> Option<&'a mut Value> {
    parents.iter().try_fold(body, |current, token| match current {
        Value::Object(members) => members.get_mut(token),
        Value::Array(elements) => elements.get_mut(array_index(token)?),
        _ => None,
    })
}

/// Takes the value at `place` out of `body`: an object member is removed, an
/// array element replaced by `null`.
fn take_out(body: &mut Value, place: &Place) {
    let Some((last, parents)) = place.tokens().split_last() else { return };
    let Some(parent) = parent_mut(body, parents) else { return };
    match parent {
        Value::Object(members) => {
            members.remove(last);
        }
        Value::Array(elements) => {
            if let Some(element) = array_index(last).and_then(|index| elements.get_mut(index)) {
                *element = Value::Null;
            }
        }
        _ => {}
    }
}

/// The refusal of a value shown at a restricted place.
fn in_clear(place: &Place) -> Refusal {
    Refusal::new(
        RefusalCode::DisclosureInClear,
        format!(
            "the signed body shows a value at the restricted place {place}: on this ledger a restricted value is \
             withheld from the statement and only its disclosure's digest is signed (salvage register does so)"
        ),
    )
}

/// Puts a disclosure's value back where [`take_out`] left its place empty.
fn put_back(body: &mut Value, disclosure: &Disclosure) -> Result<(), Refusal> {
    let place = disclosure.place();
    let no_place = || {
        Refusal::new(
            RefusalCode::DisclosureMismatch,
            format!("the signed body has no place {place} for its disclosure"),
        )
    };
    if shows_value(body, place) {
        return Err(in_clear(place));
    }
    let (last, parents) = place.tokens().split_last().ok_or_else(no_place)?;
    let parent = parent_mut(body, parents).ok_or_else(no_place)?;
    match parent {
        Value::Object(members) => {
            members.insert(last.clone(), disclosure.value().clone());
        }
        Value::Array(elements) => {
            let element = array_index(last).and_then(|index| elements.get_mut(index)).ok_or_else(no_place)?;
            *element = disclosure.value().clone();
        }
        _ => return Err(no_place()),
    }
    Ok(())
}

/// Whether the signed `body` shows a value at `place`, where a disclosure's
/// value would be put back: an object member that is there (even `null`), or
/// an array element that is not `null`.
fn shows_value(body: &Value, place: &Place) -> bool {
    let Some((last, parents)) = place.tokens().split_last() else { return false };
    let parent = parents.iter().try_fold(body, |current, token| match current {
        Value::Object(members) => members.get(token),
        Value::Array(elements) => elements.get(array_index(token)?),
        _ => None,
    });
    match parent {
        Some(Value::Object(members)) => members.contains_key(last),
        Some(Value::Array(elements)) => {
            array_index(last).and_then(|index| elements.get(index)).is_some_and(|v| !v.is_null())
        }
        _ => false,
    }
}
