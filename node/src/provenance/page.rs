//! The provenance page: one self-contained HTML document per item.
//!
//! Buyers open it by scanning an item's QR code on a building site, often on
//! a slow connection, so the page is a single small document: inline CSS, no
//! JavaScript, no fonts; its only other requests are the thumbnails of the
//! item's photos, from the node itself, sized in the markup (no reflow) and
//! loaded lazily. It is readable from 360 px wide, with colours that meet WCAG
//! AA contrast. What matters most comes first: what the item is, hazards,
//! whether it may be reused at all, what it looks like, then where it came
//! from, who held it, who certified it, and how the record was verified.
//! maud escapes every value, so passport text cannot inject markup, and the
//! page's own Content-Security-Policy ([`CONTENT_SECURITY_POLICY`]) lets it
//! run no script and load nothing but its style and the node's images.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use salvage_ledger::custody::ItemStatus;
use salvage_ledger::ident::GiaiError;

use super::linkset::percent_encode;
use super::locale::{Locale, Locales};
use super::view::{Attestation, AuditConclusion, Document, Event, Inclusion, Provenance, PublicPassport, TimelineStep};
use super::words::{coded, date, file_size, media_type, names, number, percent, timestamp};

/// What the page may load and do, as its `<meta http-equiv>` states it (a
/// server can send the same in the header): its inline style sheet, images
/// from the node (the photos' thumbnails), no script, no plugin, no frame, no
/// other host; no `<base>` and no form that could redirect a link or a post.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// Why there is no page for a GIAI.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotFound {
    /// The GIAI is well-formed but no item with it is registered on this ledger.
    Unregistered,
    /// The text is not a GIAI; the error says what is wrong with it.
    Malformed(GiaiError),
    /// The GIAI is reserved for a member (`giai.reserve`), its label perhaps already on an
    /// item, but no item is registered under it yet.
    Reserved {
        /// The name of the member it is reserved for.
        holder: String,
        /// When the reservation was recorded (RFC 3339).
        since: String,
    },
}

/// The provenance page of an item, in `locale`, as a complete HTML5 document.
///
/// `page_url` is the page's own address (the item's Digital Link), used as its
/// canonical link; every other link is relative to the node serving it.
pub fn render(p: &Provenance, locale: &Locale, locales: &Locales, page_url: &str) -> String {
    let t = |key: &str| locale.text(key).to_owned();
    let title = format!("{} · {}", p.display_name(), t("site.name"));
    let body = html! {
        main {
            (item_header(p, locale))
            (warnings(p, locale))
            (photos(&p.passport, locale))
            (what_it_is(&p.passport, locale))
            (condition_and_origin(&p.passport, locale))
            (withheld(p, locale))
            (custody(p, locale))
            (attestations(p, locale))
            (environment_and_documents(&p.passport, locale))
            (verification(p, locale))
        }
    };
    document(locale, locales, &title, Some(page_url), body)
}

/// A helpful page for a GIAI that names no item or is not a GIAI at all.
pub fn render_not_found(giai_text: &str, reason: NotFound, locale: &Locale, locales: &Locales) -> String {
    let t = |key: &str| locale.text(key).to_owned();
    let (heading, explanation) = match &reason {
        NotFound::Unregistered => {
            (t("not_found.unregistered_heading"), locale.format("not_found.unregistered", &[("giai", giai_text)]))
        }
        NotFound::Malformed(error) => (t("not_found.malformed_heading"), malformed_reason(error, giai_text, locale)),
        NotFound::Reserved { holder, since } => (
            t("not_found.reserved_heading"),
            locale.format("not_found.reserved", &[("giai", giai_text), ("holder", holder), ("since", since)]),
        ),
    };
    let body = html! {
        main {
            section.notice aria-labelledby="not-found" {
                h1 #not-found { (heading) }
                p { (explanation) }
                @if !giai_text.is_empty() {
                    p { (t("not_found.you_asked")) " " code.giai { (giai_text) } }
                }
            }
            section aria-labelledby="giai-help" {
                h2 #giai-help { (t("not_found.what_is_giai_heading")) }
                p { (t("not_found.what_is_giai")) }
                p { (t("not_found.example")) " " code { "4750001BEAM-0001" } }
                p { (t("not_found.check_label")) }
            }
        }
    };
    document(locale, locales, &format!("{heading} · {}", t("site.name")), None, body)
}

/// How many audit conclusions the attestation panel shows, the latest; the earlier are counted.
const AUDITS_SHOWN: usize = 5;

/// The document frame: head, styles, site header with the language switch, footer.
fn document(locale: &Locale, locales: &Locales, title: &str, canonical: Option<&str>, body: Markup) -> String {
    let t = |key: &str| locale.text(key).to_owned();
    html! {
        (DOCTYPE)
        html lang=(locale.code()) {
            head {
                meta charset="utf-8";
                // Before the style sheet, which it governs.
                meta http-equiv="Content-Security-Policy" content=(CONTENT_SECURITY_POLICY);
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light";
                meta name="referrer" content="no-referrer";
                title { (title) }
                @if let Some(url) = canonical {
                    link rel="canonical" href=(url);
                }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header.site {
                    p.brand { (t("site.name")) }
                    nav aria-label=(t("language.switch")) {
                        ul.langs {
                            @for other in locales.iter() {
                                li {
                                    @if other.code() == locale.code() {
                                        a href={ "?lang=" (other.code()) } hreflang=(other.code()) lang=(other.code()) aria-current="page" { (other.name()) }
                                    } @else {
                                        a href={ "?lang=" (other.code()) } hreflang=(other.code()) lang=(other.code()) { (other.name()) }
                                    }
                                }
                            }
                        }
                    }
                }
                (body)
                footer.site {
                    p { (t("site.footer")) }
                }
            }
        }
    }
    .into_string()
}

fn item_header(p: &Provenance, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    let status_key = match p.status {
        ItemStatus::Available => "status.available",
        ItemStatus::Installed => "status.installed",
        ItemStatus::Split => "status.split",
        ItemStatus::Disposed => "status.disposed",
        ItemStatus::Reserved => "status.reserved",
    };
    html! {
        header.item {
            @if let Some(category) = &p.passport.category {
                p.kicker { (coded(locale, "category", category)) }
            }
            h1 { (p.display_name()) }
            p.giai { abbr title=(t("item.giai_long")) { "GIAI" } " " code { (p.giai.as_str()) } }
            p.status { (t("item.status")) ": " strong { (t(status_key)) } }
            p { (t("custody.current")) ": " strong { (p.custodian.name) } }
        }
    }
}

/// The fields the holder withheld, named in the reader's language where the
/// locale knows the field (its pointer otherwise); on a format-1 ledger, that
/// they were signed into its records in the clear.
fn withheld(p: &Provenance, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    let label = |place: &str| {
        let key = format!("withheld.fields.{}", place.trim_start_matches('/').replace('/', "_"));
        locale.lookup(&key).map(str::to_owned)
    };
    html! {
        @if !p.withheld.places.is_empty() {
            section aria-labelledby="withheld" {
                h2 #withheld { (t("withheld.heading")) }
                p { (t("withheld.explained")) }
                ul {
                    @for place in &p.withheld.places {
                        li {
                            @match label(place) {
                                Some(label) => { (label) " " code.small { (place) } }
                                None => { code { (place) } }
                            }
                        }
                    }
                }
                @if p.withheld.recorded_in_clear {
                    p.small { (t("withheld.recorded_in_clear")) }
                }
            }
        }
    }
}

/// Hazards, disposal, splitting and waste status: what a buyer must not miss.
fn warnings(p: &Provenance, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    let hazards = p.passport.hazards.as_ref().filter(|h| !h.substances.is_empty() || h.has_asbestos());
    html! {
        @if p.status == ItemStatus::Disposed {
            section.alert.stop aria-labelledby="disposed" {
                h2 #disposed { "⛔ " (t("warning.disposed_heading")) }
                p { (t("warning.disposed")) }
            }
        }
        @if let Some(hazards) = hazards {
            section.alert.hazard aria-labelledby="hazards" {
                h2 #hazards { "⚠ " (t("hazard.heading")) }
                @if hazards.has_asbestos() {
                    p { strong { (t("hazard.asbestos")) } }
                }
                @if !hazards.substances.is_empty() {
                    ul {
                        @for s in &hazards.substances {
                            li {
                                strong { (s.name) }
                                @if let Some(cas) = &s.cas { " (" abbr title=(t("hazard.cas_long")) { "CAS" } " " (cas) ")" }
                                @if let Some((value, unit)) = &s.concentration { ", " (number(*value, locale)) " " (unit) }
                                @if let Some(clp) = &s.clp_class { br; span.small { (t("hazard.clp")) ": " (clp) } }
                            }
                        }
                    }
                }
                @if let Some(survey) = &hazards.survey_reference {
                    p.small { (t("hazard.survey")) ": " (survey) }
                }
            }
        } @else if let Some(hazards) = &p.passport.hazards {
            @if hazards.asbestos_free == Some(true) {
                p.ok-note { "✓ " (t("hazard.asbestos_free")) @if let Some(survey) = &hazards.survey_reference { " (" (t("hazard.survey")) ": " (survey) ")" } }
            }
        }
        @if p.status == ItemStatus::Split {
            section.alert.info aria-labelledby="split" {
                h2 #split { (t("warning.split_heading")) }
                p { (t("warning.split")) }
                ul { @for part in &p.parts { li { a href=(percent_encode(part.as_str())) { code { (part.as_str()) } } } } }
            }
        }
        @if p.passport.legal_status.as_deref() == Some("waste") && p.status != ItemStatus::Disposed {
            section.alert.stop aria-labelledby="waste" {
                h2 #waste { (t("warning.waste_heading")) }
                p { (t("warning.waste")) @if let Some(code) = &p.passport.waste_code { " " (t("legal.waste_code")) ": " (code) } }
            }
        }
    }
}

/// The item's photos, each a thumbnail linking to the full image; one this node
/// has no thumbnail of (it does not hold the image yet) is a text link. They
/// come after the warnings, which must be read first, and before the details.
fn photos(passport: &PublicPassport, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    html! {
        @if !passport.photos.is_empty() {
            section aria-labelledby="photos" {
                h2 #photos { (t("photos.heading")) }
                ul.photos {
                    @for photo in &passport.photos {
                        li {
                            @if let Some((width, height)) = photo.thumbnail {
                                a href=(photo.href()) {
                                    img src=(photo.thumbnail_href()) alt=(photo.title) width=(width) height=(height) loading="lazy" decoding="async";
                                }
                            } @else {
                                a.no-thumb href=(photo.href()) {
                                    (photo.title)
                                    br;
                                    span.small { (t("photos.no_thumbnail")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn what_it_is(passport: &PublicPassport, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    html! {
        section aria-labelledby="what" {
            h2 #what { (t("item.heading")) }
            @if let Some(description) = &passport.description { p { (description) } }
            dl {
                @if !passport.materials.is_empty() {
                    dt { (t("item.materials")) }
                    dd {
                        ul.plain {
                            @for m in &passport.materials {
                                li {
                                    (m.name)
                                    @if let Some(f) = m.fraction { " — " (percent(f, locale)) }
                                    @if let Some(r) = m.recycled_content { " " span.small { "(" (locale.format("item.recycled", &[("share", &percent(r, locale))])) ")" } }
                                }
                            }
                        }
                    }
                }
                @if let Some(q) = &passport.quantity {
                    dt { (t("item.quantity")) }
                    dd { (number(q.value, locale)) " " (coded(locale, "unit", &q.unit)) }
                }
                @if let Some(mass) = passport.mass_kg {
                    dt { (t("item.mass")) }
                    dd { (number(mass, locale)) " kg" }
                }
                @if !passport.dimensions_mm.is_empty() {
                    dt { (t("item.dimensions")) }
                    dd {
                        @for (index, (name, value)) in passport.dimensions_mm.iter().enumerate() {
                            @if index > 0 { ", " }
                            (coded(locale, "dimension", name)) " " (number(*value, locale)) " mm"
                        }
                    }
                }
                @if let Some(status) = &passport.legal_status {
                    dt { (t("legal.heading")) }
                    dd { (coded(locale, "legal", status)) @if let Some(code) = &passport.waste_code { " (" (t("legal.waste_code")) " " (code) ")" } }
                }
                @if let Some(gtin) = &passport.gtin {
                    dt { abbr title=(t("item.gtin_long")) { "GTIN" } }
                    dd { code { (gtin) } }
                }
            }
        }
    }
}

fn condition_and_origin(passport: &PublicPassport, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    html! {
        @if let Some(condition) = &passport.condition {
            section aria-labelledby="condition" {
                h2 #condition { (t("condition.heading")) }
                dl {
                    @if let Some(grade) = &condition.grade {
                        dt { (t("condition.grade")) }
                        dd { strong.grade { (grade) } " — " (coded(locale, "grade", grade)) }
                    }
                    @if let Some(notes) = &condition.notes {
                        dt { (t("condition.notes")) }
                        dd { (notes) }
                    }
                }
            }
        }
        @if passport.origin.is_some() || passport.dismantling.is_some() {
            section aria-labelledby="origin" {
                h2 #origin { (t("origin.heading")) }
                dl {
                    @if let Some(o) = &passport.origin {
                        @if let Some(v) = &o.building { dt { (t("origin.building")) } dd { (v) } }
                        @if let Some(v) = &o.address { dt { (t("origin.address")) } dd { (v) } }
                        @if let Some(v) = &o.country { dt { (t("origin.country")) } dd { (v) } }
                        @if let Some(v) = o.year_built { dt { (t("origin.year_built")) } dd { (v) } }
                        @if let Some(v) = o.year_installed { dt { (t("origin.year_installed")) } dd { (v) } }
                        @if let Some(v) = &o.location { dt { (t("origin.location")) } dd { (v) } }
                    }
                    @if let Some(d) = &passport.dismantling {
                        @if let Some(v) = &d.date { dt { (t("dismantling.date")) } dd { (date(v, locale)) } }
                        @if let Some(v) = &d.method { dt { (t("dismantling.method")) } dd { (coded(locale, "method", v)) } }
                        @if let Some(v) = &d.contractor { dt { (t("dismantling.contractor")) } dd { (v) } }
                    }
                }
            }
        }
    }
}

fn custody(p: &Provenance, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    html! {
        section aria-labelledby="custody" {
            h2 #custody { (t("custody.heading")) }
            p { (t("custody.current")) ": " strong { (p.custodian.name) } }
            @if let Some(to) = &p.pending_transfer {
                p { (locale.format("custody.pending", &[("member", &to.name)])) }
            }
            @if let Some(parent) = &p.parent {
                p { (t("custody.parent")) ": " a href=(percent_encode(parent.as_str())) { code { (parent.as_str()) } } }
            }
            ol.timeline {
                @for step in &p.timeline {
                    li { (timeline_step(step, locale)) }
                }
            }
        }
    }
}

fn timeline_step(step: &TimelineStep, locale: &Locale) -> Markup {
    let member = names(&step.by);
    let text = match &step.event {
        Event::Registered => locale.format("timeline.registered", &[("member", &member)]),
        Event::Amended { version } => {
            locale.format("timeline.amended", &[("member", &member), ("version", &version.to_string())])
        }
        Event::TransferOffered { to } => {
            locale.format("timeline.transfer_offered", &[("member", &member), ("to", &to.name)])
        }
        Event::Received => locale.format("timeline.received", &[("member", &member)]),
        Event::TransferCancelled => locale.format("timeline.cancelled", &[("member", &member)]),
        Event::AttestationWithdrawn { record } => {
            locale.format("timeline.attestation_withdrawn", &[("member", &member), ("record", &record.to_string())])
        }
        Event::Attested { kind, result } => locale.format(
            "timeline.attested",
            &[
                ("member", &member),
                ("kind", &coded(locale, "attestation.type", kind)),
                ("result", &coded(locale, "attestation.result", result)),
            ],
        ),
        Event::Audited { flagged: false } => locale.format("timeline.audited", &[("member", &member)]),
        Event::Audited { flagged: true } => locale.format("timeline.audited_flagged", &[("member", &member)]),
        Event::SplitFrom { parent } => locale.format("timeline.split_from", &[("member", &member), ("parent", parent)]),
        Event::SplitInto { parts } => {
            locale.format("timeline.split_into", &[("member", &member), ("count", &parts.len().to_string())])
        }
        Event::Installed { building, country, location } => {
            let place = [building, location, country].into_iter().flatten().cloned().collect::<Vec<_>>().join(", ");
            locale.format("timeline.installed", &[("member", &member), ("place", &place)])
        }
        Event::Dismantled { reason } => {
            let text = locale.format("timeline.dismantled", &[("member", &member)]);
            reason.as_ref().map_or(text.clone(), |r| format!("{text} {r}"))
        }
        Event::Disposed { route, facility } => {
            let route = [route.as_deref().map(|r| coded(locale, "route", r)), facility.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ");
            locale.format("timeline.disposed", &[("member", &member), ("route", &route)])
        }
    };
    html! {
        time datetime=(step.accepted.as_str()) { (timestamp(&step.accepted, locale)) }
        " "
        span.event { (text) }
        " "
        span.small { "(" (locale.format("timeline.record", &[("position", &step.seq.to_string())])) ")" }
    }
}

fn attestations(p: &Provenance, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    html! {
        section aria-labelledby="attestations" {
            h2 #attestations { (t("attestation.heading")) }
            @if p.attestations.is_empty() {
                p { (t("attestation.none")) }
            }
            // What counts is the last attestation not withdrawn, whoever made it.
            @if let Some(last) = p.attestations.iter().rev().find(|a| a.withdrawn.is_none()) {
                p.last-inspection { (locale.format("attestation.last", &[("date", &timestamp(&last.accepted, locale)), ("issuer", &last.issuer.name)])) }
            }
            // The latest few: an item audited every month must not grow its page without end.
            @let shown = p.audits.len().saturating_sub(AUDITS_SHOWN);
            @if shown > 0 {
                p.earlier-audits { (locale.format("audit.earlier", &[("count", &shown.to_string())])) }
            }
            @for audit in p.audits.iter().skip(shown) {
                (audit_line(audit, locale))
            }
            @for a in &p.attestations {
                (attestation(a, p.passport_version, locale))
            }
        }
    }
}

/// A custody audit that judged the item's chain: who audited it, when, and whether the report
/// has a finding about this item; below, the checkpoint it read, the report's fingerprint
/// (shortened, in full on hover) and the verdict over everything it judged.
fn audit_line(audit: &AuditConclusion, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    let day = date(audit.accepted.as_str().get(..10).unwrap_or_default(), locale);
    let args = [("certifier", audit.certifier.name.as_str()), ("date", day.as_str())];
    let (class, line) = match audit.flagged {
        false => ("audit clean", locale.format("audit.clean", &args)),
        true => ("audit flagged", locale.format("audit.flagged", &args)),
    };
    let verdict = coded(locale, "audit.verdict", &audit.verdict);
    html! {
        div class=(class) {
            p { (line) }
            p.small {
                (locale.format("audit.checkpoint", &[("size", &audit.checkpoint_size.to_string())]))
                " · " (t("audit.report")) " " code.hash title=(audit.report_blake3) { (audit.report_short()) "…" }
                " · " (locale.format("audit.overall", &[("verdict", &verdict)]))
                " · " (locale.format("timeline.record", &[("position", &audit.seq.to_string())]))
            }
        }
    }
}

fn attestation(a: &Attestation, current_version: u64, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    let result_class = match a.result.as_str() {
        "pass" => "pass",
        "fail" => "fail",
        _ => "conditional",
    };
    html! {
        article.attestation.withdrawn[a.withdrawn.is_some()] {
            h3 {
                (coded(locale, "attestation.type", &a.kind)) ": " span class=(result_class) { (coded(locale, "attestation.result", &a.result)) }
                @if a.withdrawn.is_some() { " " span.status { "(" (t("attestation.status_withdrawn")) ")" } }
                @else if a.expired { " " span.status { "(" (t("attestation.status_expired")) ")" } }
            }
            @if let Some(withdrawal) = &a.withdrawn {
                p.notice { (locale.format("attestation.withdrawn", &[("date", &timestamp(&withdrawal.accepted, locale)), ("reason", &withdrawal.reason)])) }
            } @else if let (true, Some(last)) = (a.expired, &a.valid_until) {
                p.notice { (locale.format("attestation.expired", &[("date", &date(last, locale))])) }
            }
            dl {
                dt { (t("attestation.issuer")) } dd { (a.issuer.name) }
                dt { (t("attestation.date")) } dd { time datetime=(a.accepted.as_str()) { (timestamp(&a.accepted, locale)) } }
                @if let Some(v) = &a.grade { dt { (t("condition.grade")) } dd { (v) } }
                @if let Some(v) = &a.standard { dt { (t("attestation.standard")) } dd { (v) } }
                @if let Some(v) = &a.certificate_id { dt { (t("attestation.certificate")) } dd { (v) } }
                @if let Some(v) = &a.valid_until { dt { (t("attestation.valid_until")) } dd { (date(v, locale)) } }
                @if let Some(v) = &a.summary { dt { (t("attestation.summary")) } dd { (v) } }
                @if let Some(report) = &a.report { dt { (t("attestation.report")) } dd { (file_entry(report, locale)) } }
                @if !a.documents.is_empty() {
                    dt { (t("documents.heading")) }
                    dd { ul.files { @for d in &a.documents { li { (file_entry(d, locale)) } } } }
                }
            }
            @if a.passport_version != current_version {
                p.small { (locale.format("attestation.older_version", &[("version", &a.passport_version.to_string()), ("current", &current_version.to_string())])) }
            }
        }
    }
}

fn environment_and_documents(passport: &PublicPassport, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    html! {
        @if passport.co2e_avoided_kg.is_some() || passport.epd_reference.is_some() {
            section aria-labelledby="environment" {
                h2 #environment { (t("environment.heading")) }
                dl {
                    @if let Some(co2) = passport.co2e_avoided_kg { dt { (t("environment.co2e")) } dd { (number(co2, locale)) " kg CO₂e" } }
                    @if let Some(epd) = &passport.epd_reference { dt { (t("environment.epd")) } dd { (epd) } }
                }
            }
        }
        @if !passport.documents.is_empty() {
            section aria-labelledby="documents" {
                h2 #documents { (t("documents.heading")) }
                ul.files {
                    @for d in &passport.documents {
                        li { (file_entry(d, locale)) }
                    }
                }
            }
        }
    }
}

/// A document: its title, linked where a copy can be had (the node's, or the
/// address the statement gives), what kind of file it is and how large, who
/// attached it, and its fingerprint.
fn file_entry(d: &Document, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    let facts: Vec<String> =
        [d.media_type.as_deref().map(|m| media_type(m, locale)), d.size.map(|size| file_size(size, locale))]
            .into_iter()
            .flatten()
            .collect();
    html! {
        @match d.href() {
            // Another host's address: no credit for it from this page.
            Some(href) if d.links_elsewhere() => { a href=(href) rel="external nofollow noopener" { (d.title) } }
            Some(href) => { a href=(href) { (d.title) } }
            None => { (d.title) }
        }
        @if !facts.is_empty() { " " span.small { "(" (facts.join(", ")) ")" } }
        @if !d.attached_by.is_empty() { br; span.small { (t("documents.attached_by")) ": " (names(&d.attached_by)) } }
        @if let Some(hash) = &d.blake3 { br; span.small { (t("documents.hash")) ": " code.hash { (hash) } } }
    }
}

fn verification(p: &Provenance, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    let v = &p.verification;
    let position = v.latest_seq.to_string();
    let signed = v.signed_by.len().to_string();
    let encoded = percent_encode(p.giai.as_str());
    html! {
        section.verification aria-labelledby="verification" {
            h2 #verification { (t("verify.heading")) }
            p { (t("verify.explain")) }
            ul.checks {
                @if v.records_failed == 0 {
                    li.pass { "✓ " (locale.format("verify.signatures_ok", &[("signatures", &v.signatures_checked.to_string()), ("records", &v.records_checked.to_string())])) }
                } @else {
                    li.fail { "✗ " (locale.format("verify.signatures_failed", &[("failed", &v.records_failed.to_string()), ("records", &v.records_checked.to_string())])) }
                }
                @match &v.inclusion {
                    Inclusion::Verified => {
                        li.pass { "✓ " (locale.format("verify.included", &[("position", &position)])) }
                    }
                    Inclusion::AfterCheckpoint => {
                        li.pending { "… " (locale.format("verify.after_checkpoint", &[("position", &position)])) }
                    }
                    Inclusion::Failed(reason) => {
                        li.fail { "✗ " (locale.format("verify.not_included", &[("position", &position), ("reason", reason)])) }
                    }
                }
                @if v.signed_by.is_empty() {
                    li.fail { "✗ " (locale.format("verify.checkpoint_unsigned", &[("size", &v.checkpoint_size.to_string())])) }
                } @else {
                    li.pass {
                        "✓ " (locale.format("verify.checkpoint", &[("size", &v.checkpoint_size.to_string()), ("signed", &signed), ("operators", &v.operators.to_string())]))
                        " " span.small { "(" (names(&v.signed_by)) ")" }
                    }
                }
                @if v.bad_signatures > 0 {
                    li.fail { "✗ " (locale.format("verify.checkpoint_bad", &[("count", &v.bad_signatures.to_string())])) }
                }
                @if !v.checkpoint_origin_matches {
                    li.fail { "✗ " (t("verify.origin_mismatch")) }
                }
            }
            p { (t("verify.root")) ": " code.hash { (v.root_hex) } }
            p.small {
                a href={ "/v1/items/" (encoded) "/bundle" } { (t("verify.bundle")) }
                " · "
                a href={ "/v1/items/" (encoded) } { (t("verify.passport_json")) }
            }
        }
    }
}

/// A localised message for a malformed GIAI: what is wrong with it.
fn malformed_reason(error: &GiaiError, text: &str, locale: &Locale) -> String {
    match error {
        GiaiError::Length(_) => {
            locale.format("not_found.malformed_length", &[("length", &text.chars().count().to_string())])
        }
        GiaiError::CompanyPrefix(_) => locale.text("not_found.malformed_prefix").to_owned(),
        GiaiError::Character { character, position, .. } => locale.format(
            "not_found.malformed_character",
            &[("character", &character.escape_debug().to_string()), ("position", &position.to_string())],
        ),
        _ => locale.text("not_found.malformed").to_owned(),
    }
}

/// The whole style sheet: system fonts, one column that widens to 46 rem,
/// colours with at least 4.5:1 contrast against their backgrounds.
const STYLE: &str = "\
*{box-sizing:border-box}\
html{-webkit-text-size-adjust:100%}\
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;font-size:1.0625rem;line-height:1.5;color:#1b1b1b;background:#fff}\
header.site,main,footer.site{max-width:46rem;margin:0 auto;padding:0 1rem}\
header.site{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.5rem;padding-top:.75rem;padding-bottom:.75rem;border-bottom:1px solid #c4c4c4}\
.brand{margin:0;font-weight:700}\
.langs{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:0 .75rem}\
.langs a{display:inline-block;padding:.5rem .25rem;color:#0b4fa8}\
.langs a[aria-current]{color:#1b1b1b;font-weight:700;text-decoration:none}\
a{color:#0b4fa8}\
h1{font-size:1.6rem;line-height:1.25;margin:.25rem 0 .5rem;overflow-wrap:anywhere}\
h2{font-size:1.25rem;margin:0 0 .5rem}\
h3{font-size:1.05rem;margin:0 0 .5rem}\
section{margin:1.25rem 0;padding-top:.25rem}\
.kicker{margin:1rem 0 0;color:#4a4a4a;text-transform:uppercase;letter-spacing:.05em;font-size:.85rem}\
.giai,.status{margin:.25rem 0}\
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.95em;overflow-wrap:anywhere}\
.hash{word-break:break-all}\
.small{font-size:.9rem;color:#4a4a4a}\
dl{margin:0;display:grid;grid-template-columns:1fr;gap:.1rem 1rem}\
dt{font-weight:700;margin-top:.5rem}\
dd{margin:0}\
@media (min-width:36rem){dl{grid-template-columns:minmax(9rem,max-content) 1fr}dt{margin-top:0}}\
ul.plain{list-style:none;margin:0;padding:0}\
.alert{border-radius:.4rem;padding:.75rem 1rem;border:2px solid}\
.alert h2{margin-top:0}\
.hazard{background:#fff4e5;border-color:#b34700;color:#3d1800}\
.stop{background:#fdecec;border-color:#a50e0e;color:#4d0000}\
.info{background:#eef4fb;border-color:#0b4fa8}\
.hazard .small,.stop .small{color:inherit}\
.ok-note{color:#1e5b25}\
ol.timeline{margin:0;padding-left:1.5rem}\
ol.timeline li{margin:.5rem 0}\
time{font-weight:700;display:block}\
ul.photos{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.5rem}\
ul.photos a{display:block;border-radius:.4rem}\
ul.photos img{display:block;max-width:100%;height:auto;border-radius:.4rem;background:#f4f6f8}\
ul.photos .no-thumb{min-height:6rem;padding:.75rem;border:1px dashed #767676;overflow-wrap:anywhere}\
ul.files{padding-left:1.25rem}\
.files li{margin:.5rem 0}\
.files a{display:inline-block;padding:.3rem 0;overflow-wrap:anywhere}\
.attestation{border:1px solid #c4c4c4;border-radius:.4rem;padding:.75rem 1rem;margin:.75rem 0}\
.attestation .status,.attestation .notice{font-weight:600;color:#8a1c1c}.attestation.withdrawn h3 .pass{text-decoration:line-through}\
.audit{border-left:4px solid #1e5b25;padding:.25rem .75rem;margin:.75rem 0}.audit.flagged{border-color:#7a4b00}.audit p{margin:.25rem 0}\
.pass{color:#1e5b25}.fail{color:#a50e0e}.conditional,.pending{color:#7a4b00}\
.checks{list-style:none;padding:0}\
.checks li{margin:.5rem 0;font-weight:600}\
.verification{background:#f4f6f8;border-radius:.4rem;padding:.75rem 1rem}\
.notice h1{margin-top:1rem}\
footer.site{border-top:1px solid #c4c4c4;margin-top:2rem;padding-top:.75rem;padding-bottom:2rem;font-size:.9rem;color:#4a4a4a}\
";
