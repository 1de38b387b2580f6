use serde_json::json;

use super::*;
use crate::chain::{LeafHash, Seq};
use crate::entry::{SignedEntry, Timestamp};
use crate::testkit::{Fixture, passport};

fn record(entry: SignedEntry, accepted: &str) -> Record {
    Record { seq: Seq::new(1).unwrap(), prev: LeafHash::ZERO, accepted: Timestamp::parse(accepted).unwrap(), entry }
}

fn giai(text: &str) -> Giai {
    Giai::parse(text).unwrap()
}

fn no_files(file: &str) -> Result<String, String> {
    Err(format!("{file}: not here"))
}

#[test]
fn each_kind_parses_and_prints_as_it_parses() {
    for text in ["member=reuse-hub", "building=Jelgava sugar factory warehouse", "since=2026-11-01"] {
        let scope = Scope::parse(text).unwrap();
        assert_eq!(scope.to_string(), text);
        assert_eq!(Scope::parse(&scope.to_string()).unwrap(), scope);
    }
    assert_eq!(Scope::parse(" building =  Jelgava  ").unwrap().to_string(), "building=Jelgava");
    let scope = Scope::parse_with_files("items=delivery.csv", &mut |file| {
        assert_eq!(file, "delivery.csv");
        Ok("giai,name\n4750001BEAM-0001,Beam\n".into())
    })
    .unwrap();
    assert_eq!(scope.to_string(), "items=delivery.csv");
    assert!(matches!(&scope, Scope::Items(list) if list.len() == 1 && list.contains(&giai("4750001BEAM-0001"))));
}

#[test]
fn a_bad_scope_says_what_where_and_why() {
    let cases = [
        ("reuse-hub", "no '='"),
        ("colour=red", "unknown kind \"colour\""),
        ("member=", "nothing after 'member='"),
        ("member=Reuse Hub", "lowercase slug"),
        ("building=   ", "nothing after"),
        ("since=2026-13-01", "no such month"),
        ("since=2026-02-30", "no such day in that month"),
        ("since=26-1-1", "four digits of year"),
        ("since=2026-1x-01", "digits only"),
        ("since=yesterday", "three numbers"),
    ];
    for (text, why) in cases {
        let error = Scope::parse(text).unwrap_err().to_string();
        assert!(error.starts_with(&format!("scope {text:?}: ")), "{error}");
        assert!(error.contains(why), "{text}: {error}");
    }
    let long = format!("building={}", "x".repeat(300));
    assert!(Scope::parse(&long).unwrap_err().to_string().contains("longer than 256"));
    let error = Scope::parse("items=list.txt").unwrap_err().to_string();
    assert!(error.contains("items=list.txt") && error.contains("only the command line reads files"), "{error}");
    let error = Scope::parse_with_files("items=gone.txt", &mut no_files).unwrap_err().to_string();
    assert_eq!(error, "scope items=gone.txt: gone.txt: not here");
}

#[test]
fn an_item_list_skips_comments_reads_csv_and_names_a_bad_line() {
    let text = "# delivery 14\n\n4750001BEAM-0001\n  4750001BEAM-0002  \n4750001BEAM-0003,Steel beam,253.2\n\"4750001A,B\",quoted\n4750001BEAM-0001\n";
    let list = ItemList::parse("d.txt", text).unwrap();
    assert_eq!(list.len(), 4);
    for listed in ["4750001BEAM-0001", "4750001BEAM-0002", "4750001BEAM-0003", "4750001A,B"] {
        assert!(list.contains(&giai(listed)), "{listed}");
    }
    assert_eq!(list.file(), "d.txt");

    let error = ItemList::parse("d.txt", "4750001BEAM-0001\n# fine\nBEAM 7\n").unwrap_err();
    assert!(matches!(&error, ScopeError::Items { line: Some(3), .. }), "{error:?}");
    assert!(error.to_string().starts_with("scope items=d.txt, line 3: GIAI \"BEAM 7\""), "{error}");
    let error = ItemList::parse("d.txt", "\"4750001BEAM-0001\nx").unwrap_err().to_string();
    assert!(error.contains("line 1") && error.contains("closing quote"), "{error}");
    // A header is only a header on the first line.
    assert!(ItemList::parse("d.txt", "4750001BEAM-0001\ngiai\n").is_err());

    let mut long = "#\n".repeat(MAX_ITEM_LINES);
    assert!(ItemList::parse("d.txt", &long).unwrap().is_empty());
    long.push_str("4750001BEAM-0001\n");
    let error = ItemList::parse("d.txt", &long).unwrap_err().to_string();
    assert!(error.contains("more than 1000000 lines"), "{error}");
}

#[test]
fn facts_follow_custody_buildings_and_time() {
    let f = Fixture::new();
    let mut signers = Signers::new();
    signers.learn(&record(f.genesis.clone(), "2026-11-23T09:00:00Z"));
    let beam = giai("4750001BEAM-0001");
    let registration = record(f.register("baltic-demolition", beam.as_str(), "Beam", 180.0), "2026-11-23T10:00:00Z");
    let registrant = signers.first_signer(&registration);
    assert_eq!(registrant, Some(MemberId::parse("baltic-demolition").unwrap()));
    let mut facts = ScopeFacts::registered(&registration, &beam, registrant);
    for (entry, at) in [
        (f.transfer("baltic-demolition", beam.as_str(), "timber-builders"), "2026-11-24T10:00:00Z"),
        (f.signed(&["baltic-demolition"], Kind::ItemCancel, json!({"giai": beam.as_str()})), "2026-11-25T10:00:00Z"),
        (f.transfer("baltic-demolition", beam.as_str(), "reuse-hub"), "2026-11-26T10:00:00Z"),
        (f.receive("reuse-hub", beam.as_str()), "2026-11-27T10:00:00Z"),
        (
            f.signed(
                &["reuse-hub"],
                Kind::ItemInstall,
                json!({"giai": beam.as_str(), "site": {"building": " Jelgava Library "}}),
            ),
            "2026-12-01T00:00:00Z",
        ),
    ] {
        facts.note(&record(entry, at));
    }
    let is_in = |text: &str| Scope::parse(text).unwrap().contains(&facts);
    assert!(is_in("member=baltic-demolition"), "the registrant");
    assert!(is_in("member=timber-builders"), "offered, even if withdrawn");
    assert!(is_in("member=reuse-hub"), "a custodian");
    assert!(!is_in("member=city-of-jelgava"));
    assert_eq!(facts.custodian, Some(MemberId::parse("reuse-hub").unwrap()));
    assert!(is_in("building=JELGAVA SUGAR FACTORY WAREHOUSE"), "the donor building, in any case");
    assert!(is_in("building=jelgava library"), "where it was installed, trimmed");
    assert!(!is_in("building=Jelgava"));
    assert!(is_in("since=2026-12-01"), "a record at 00:00 of the day counts");
    assert!(!is_in("since=2026-12-02"));
    let listed = |text: &str| Scope::Items(ItemList::parse("l", text).unwrap()).contains(&facts);
    assert!(listed("4750001BEAM-0001") && !listed("4750001BEAM-0002"));
    let scopes = [Scope::parse("member=reuse-hub").unwrap(), Scope::parse("since=2026-12-02").unwrap()];
    assert!(!in_every(&scopes, &facts) && in_every(&scopes[..1], &facts) && in_every(&[], &facts));
}

#[test]
fn a_part_inherits_member_and_building_but_not_a_list() {
    let f = Fixture::new();
    let parent_giai = giai("4750001GLULAM-0001");
    let registration =
        record(f.register("baltic-demolition", parent_giai.as_str(), "Glulam", 400.0), "2026-11-23T10:00:00Z");
    let mut parent = ScopeFacts::registered(&registration, &parent_giai, MemberId::parse("baltic-demolition").ok());
    let mut elsewhere = passport("4750001GLULAM-0001A", "Half", 199.0);
    elsewhere["origin"]["building"] = json!("Somewhere else");
    let split = record(
        f.signed(&["baltic-demolition"], Kind::ItemSplit, json!({"giai": parent_giai.as_str(), "parts": []})),
        "2026-11-28T10:00:00Z",
    );
    parent.note(&split);
    let parent = Arc::new(parent);
    let part_giai = giai("4750001GLULAM-0001A");
    let part = ScopeFacts::split_off(&parent, &split, &part_giai, &elsewhere);
    assert_eq!(part.parent_giai, Some(parent_giai.clone()));
    assert_eq!(part.custodian, Some(MemberId::parse("baltic-demolition").unwrap()));
    assert_eq!(part.registrant, None, "a split made it");
    let is_in = |text: &str| Scope::parse(text).unwrap().contains(&part);
    assert!(is_in("building=Jelgava sugar factory warehouse"), "its material came from there");
    assert!(is_in("building=somewhere else"), "its own passport");
    assert!(is_in("member=baltic-demolition"));
    assert!(is_in("since=2026-11-28") && !is_in("since=2026-11-29"));
    let list = Scope::Items(ItemList::parse("l", parent_giai.as_str()).unwrap());
    assert!(list.contains(&parent) && !list.contains(&part), "a list means its GIAIs");
}

#[test]
fn restricted_passport_fields_are_not_read() {
    let f = Fixture::new();
    let beam = giai("4750001BEAM-0001");
    let mut hidden = passport(beam.as_str(), "Beam", 180.0);
    hidden["restricted"] = json!(["/origin"]);
    let entry =
        f.signed(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": beam.as_str(), "passport": hidden}));
    let facts = ScopeFacts::registered(&record(entry, "2026-11-23T10:00:00Z"), &beam, None);
    assert!(facts.donor_buildings.is_empty(), "{facts:?}");
    assert!(!Scope::parse("building=Jelgava sugar factory warehouse").unwrap().contains(&facts));

    let mut passport = passport(beam.as_str(), "Beam", 180.0);
    for (restricted, pointer, public) in [
        (json!(["/origin/address"]), "/origin/building", true),
        (json!(["/origin/building"]), "/origin/building", false),
        (json!(["/origin"]), "/origin/building", false),
        (json!(["/orig"]), "/origin/building", true),
        (json!([""]), "/mass_kg", false),
        (json!(["/mass_kg"]), "/mass_kg", false),
    ] {
        passport["restricted"] = restricted.clone();
        assert_eq!(public_value(&passport, pointer).is_some(), public, "{restricted} {pointer}");
        // The same verdict as the public view the pages and the EPCIS export show.
        let shown = crate::redact::public_passport(&passport).pointer(pointer).is_some();
        assert_eq!(shown, public, "{restricted} {pointer}");
    }
}

#[test]
fn keys_compare_scopes_as_they_select() {
    let a = [Scope::parse("building=Jelgava Library").unwrap(), Scope::parse("member=reuse-hub").unwrap()];
    let b = [Scope::parse("member=reuse-hub").unwrap(), Scope::parse("building= jelgava library").unwrap()];
    assert_eq!(key_of(&a), key_of(&b));
    assert_ne!(key_of(&a), key_of(&a[..1]));
    assert_eq!(key_of(&[]), "");
}

/// A small seeded generator, so that a failure repeats.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % sides as u64) as usize
    }
}

#[test]
fn the_matcher_gives_the_verdicts_of_the_facts_on_random_histories() {
    let f = Fixture::new();
    let members = ["baltic-demolition", "riga-deconstruction", "reuse-hub", "timber-builders"];
    let buildings = ["Jelgava sugar factory warehouse", "Riga school", "Library"];
    let mut scopes: Vec<Scope> = members.iter().map(|m| Scope::parse(&format!("member={m}")).unwrap()).collect();
    scopes.extend(buildings.iter().map(|b| Scope::parse(&format!("building= {} ", b.to_uppercase())).unwrap()));
    scopes.extend(["since=2026-11-05", "since=2026-11-20"].map(|s| Scope::parse(s).unwrap()));
    scopes.push(Scope::Items(ItemList::parse("l", "4750001X-1\n4750001X-4\n4750001X-1-A\n").unwrap()));
    let (mut checked, mut inside) = (0, 0);
    for seed in 1..=30u64 {
        let mut dice = Dice(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut signers = Signers::new();
        signers.learn(&record(f.genesis.clone(), "2026-11-01T00:00:00Z"));
        // Every scope alone, and two pairs that intersect.
        let mut lists: Vec<Vec<Scope>> = scopes.iter().map(|scope| vec![scope.clone()]).collect();
        lists.push(vec![scopes[2].clone(), scopes[4].clone()]);
        lists.push(vec![scopes[0].clone(), scopes[8].clone()]);
        let matchers: Vec<ScopeMatcher> = lists.iter().map(|list| ScopeMatcher::new(list).unwrap()).collect();
        let mut items: Vec<(Giai, String, ScopeFacts, Vec<Matched>)> = Vec::new();
        for step in 0..60 {
            let at = format!("2026-11-{:02}T{:02}:00:00Z", 1 + step / 3, step % 24);
            let live: Vec<usize> = (0..items.len()).collect();
            if items.is_empty() || dice.roll(4) == 0 {
                let giai = giai(&format!("4750001X-{}", items.len()));
                let registrant = members[dice.roll(2)];
                let mut passport = passport(giai.as_str(), "X", 10.0);
                passport["origin"]["building"] = json!(buildings[dice.roll(3)]);
                let entry =
                    f.signed(&[registrant], Kind::ItemRegister, json!({"giai": giai.as_str(), "passport": passport}));
                let registration = record(entry, &at);
                let signer = signers.first_signer(&registration);
                let facts = ScopeFacts::registered(&registration, &giai, signer.clone());
                let matched = matchers.iter().map(|m| m.registered(&registration, &giai, signer.as_ref())).collect();
                items.push((giai, registrant.to_owned(), facts, matched));
                continue;
            }
            let index = live[dice.roll(live.len())];
            let (giai, holder, _, _) = items[index].clone();
            let body = |extra: serde_json::Value| {
                let mut body = json!({"giai": giai.as_str()});
                body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
                body
            };
            let (kind, body) = match dice.roll(6) {
                0 => (Kind::ItemTransfer, body(json!({"to": members[dice.roll(4)]}))),
                1 => (Kind::ItemReceive, body(json!({}))),
                2 => (Kind::ItemCancel, body(json!({}))),
                3 => (Kind::ItemInstall, body(json!({"site": {"building": buildings[dice.roll(3)].to_lowercase()}}))),
                4 => {
                    let mut passport = passport(giai.as_str(), "X", 10.0);
                    passport["origin"]["building"] = json!(buildings[dice.roll(3)]);
                    (Kind::ItemAmend, body(json!({"passport": passport})))
                }
                _ => {
                    let part = Giai::parse(&format!("{}-A", giai.as_str())).unwrap();
                    if items.iter().any(|(known, ..)| *known == part) {
                        continue;
                    }
                    let part_passport = passport(part.as_str(), "X", 5.0);
                    let split = record(f.signed(&[&holder], Kind::ItemSplit, body(json!({"parts": []}))), &at);
                    let (_, _, facts, matched) = &mut items[index];
                    facts.note(&split);
                    for (m, matched) in matchers.iter().zip(matched.iter_mut()) {
                        m.note(matched, &split);
                    }
                    let parent = Arc::new(facts.clone());
                    let part_facts = ScopeFacts::split_off(&parent, &split, &part, &part_passport);
                    let part_matched = matchers
                        .iter()
                        .zip(matched.iter())
                        .map(|(m, p)| m.split_off(*p, &split, &part, &part_passport))
                        .collect();
                    items.push((part, holder, part_facts, part_matched));
                    continue;
                }
            };
            let later = record(f.signed(&[&holder], kind, body), &at);
            let (_, _, facts, matched) = &mut items[index];
            facts.note(&later);
            for (m, matched) in matchers.iter().zip(matched.iter_mut()) {
                m.note(matched, &later);
            }
        }
        for (giai, _, facts, matched) in &items {
            for ((list, matcher), matched) in lists.iter().zip(&matchers).zip(matched) {
                let verdict = in_every(list, facts);
                assert_eq!(matcher.is_in(*matched), verdict, "seed {seed}, {giai}, {}", key_of(list));
                checked += 1;
                inside += usize::from(verdict);
            }
        }
    }
    assert!(checked > 5000 && inside > checked / 5 && inside < checked * 4 / 5, "{inside} of {checked}");
}

#[test]
fn a_matcher_takes_at_most_64_scopes() {
    let scopes = vec![Scope::parse("member=reuse-hub").unwrap(); MAX_SCOPES + 1];
    assert!(ScopeMatcher::new(&scopes[..MAX_SCOPES]).is_ok());
    let error = ScopeMatcher::new(&scopes).unwrap_err().to_string();
    assert!(error.contains("at most 64 scopes"), "{error}");
    let none = ScopeMatcher::new(&[]).unwrap();
    assert!(none.is_in(Matched::default()), "no scope: every item");
}
