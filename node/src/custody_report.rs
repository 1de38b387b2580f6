//! The certifier's custody-chain section of the audit report (`salvage audit --findings --html`):
//! scope, scheme, sample, verdict, every finding, and each chain in a table, in English or
//! Latvian (`[custody_audit]` strings of `node/locales/`). Added to the self-contained page
//! `audit_report::html` makes; no script, nothing from elsewhere. Also each finding's message in
//! the report's language ([`message`]), which the CLI's text and CSV reports use too.

use maud::{Markup, html};
use salvage_ledger::findings::{Chain, CustodyAudit, Finding, Severity};

use crate::provenance::Locale;

/// Puts the custody section into an audit report page, before its footer.
pub fn add_custody(page: &mut String, audit: &CustodyAudit, locale: &Locale) {
    let section = section(audit, locale).into_string();
    let at = page.rfind("<footer>").or_else(|| page.rfind("</body>")).unwrap_or(page.len());
    page.insert_str(at, &section);
}

fn section(audit: &CustodyAudit, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    let scope = if audit.scope.is_empty() { t("custody_audit.scope_all") } else { audit.scope.join(" ∩ ") };
    html! {
        section lang=(locale.code()) {
            h2 { (t("custody_audit.heading")) }
            @if audit.verdict == "pass" {
                p.verdict.clean { (locale.format("custody_audit.pass", &[("warnings", &audit.warnings.to_string())])) }
            } @else {
                p.verdict.problems { (locale.format("custody_audit.fail", &[("errors", &audit.errors.to_string())])) }
            }
            table {
                tr { th { (t("custody_audit.scope")) } td { (scope) } }
                tr { th { (t("custody_audit.scheme")) } td { (audit.scheme.name) " (" (audit.scheme.version) ")" } }
                tr { th { (t("custody_audit.as_of")) } td { (audit.as_of) } }
                tr { th { (t("custody_audit.items")) } td { (audit.items_in_scope) } }
                @if let Some(sample) = &audit.sample {
                    tr { th { (t("custody_audit.sample")) } td {
                        (locale.format("custody_audit.sample_drawn", &[("k", &sample.items.len().to_string()), ("size", &sample.checkpoint_size.to_string())]))
                        " " code { (sample.checkpoint_root) } ". " (sample.method) "."
                    } }
                }
            }
            @if !audit.findings.is_empty() {
                h3 { (t("custody_audit.findings")) }
                table.list {
                    tr { th { (t("custody_audit.severity")) } th { (t("custody_audit.item")) } th { (t("custody_audit.record")) } th { (t("custody_audit.code")) } th { (t("custody_audit.what")) } }
                    @for finding in &audit.findings {
                        tr class=(severity_class(finding.severity)) {
                            td { (t(&format!("custody_audit.level.{}", finding.severity.as_str()))) }
                            td { code { (finding.giai) } }
                            td { @if let Some(seq) = finding.seq { (seq) } }
                            td { code { (finding.code.as_str()) } }
                            td { (message(finding, locale)) }
                        }
                    }
                }
            }
            h3 { (t("custody_audit.chains")) }
            @for chain in &audit.chains { (chain_table(chain, locale)) }
        }
    }
}

fn chain_table(chain: &Chain, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    html! {
        h4 { code { (chain.giai) } " " (chain.name) }
        table {
            tr { th { (t("custody_audit.status")) } td {
                (coded(locale, "custody_audit.chain_status", chain.status))
                @if let Some(building) = &chain.installed_in { ": " (building) }
                @if let Some(disposal) = &chain.disposal { ": " (coded(locale, "custody_audit.route", &disposal.route)) @if let Some(code) = &disposal.waste_code { " (" (code) ")" } }
                @if chain.hazardous { " · " strong { (t("custody_audit.hazardous")) } } @else if chain.waste { " · " strong { (t("custody_audit.waste")) } }
            } }
            tr { th { (t("custody_audit.custodians")) } td { ol { @for hold in &chain.custody {
                li { (hold.member) " — " (locale.format("custody_audit.held", &[("days", &hold.days.to_string()), ("since", &hold.from.to_string())])) }
            } } } }
            @if let Some(offer) = &chain.pending {
                tr { th { (t("custody_audit.pending")) } td { (offer.to) " (" (t("custody_audit.record")) " " (offer.seq) ")" } }
            }
            tr { th { (t("custody_audit.passports")) } td { @for (n, version) in chain.passports.iter().enumerate() {
                @if n > 0 { ", " } "v" (version.version) " (" (t("custody_audit.record")) " " (version.seq) ")"
            } } }
            tr { th { (t("custody_audit.attestations")) } td {
                @if chain.attestations.is_empty() { (t("custody_audit.none")) }
                ul { @for a in &chain.attestations {
                    li {
                        (a.examination) ": " (a.result) " · v" (a.passport_version)
                        @if let Some(certifier) = &a.certifier { " · " (certifier) }
                        @if let Some(until) = &a.valid_until { " · " (t("custody_audit.valid_until")) " " (until) }
                        @if a.withdrawn.is_some() { " · " strong { (t("custody_audit.withdrawn")) } }
                        @else if a.expired { " · " strong { (t("custody_audit.expired")) } }
                    }
                } }
            } }
        }
    }
}

/// A finding's message in `locale`'s words: its template (`custody_audit.finding.<template>`)
/// filled with its params, codes and numbers put into the locale's words. English gives the
/// finding's own `message`; a locale without the template (none, as every locale has English's
/// keys) gives it too.
pub fn message(finding: &Finding, locale: &Locale) -> String {
    let key = format!("custody_audit.finding.{}", finding.template);
    if locale.lookup(&key).is_none() {
        return finding.message.clone();
    }
    let values: Vec<(&str, String)> =
        finding.params.iter().map(|(name, value)| (*name, param(name, value, locale))).collect();
    let args: Vec<(&str, &str)> = values.iter().map(|(name, value)| (*name, value.as_str())).collect();
    locale.format(&key, &args)
}

/// A param of a finding in `locale`'s words.
fn param(name: &str, value: &str, locale: &Locale) -> String {
    match name {
        "marks" => marks(value, locale),
        "route" => coded(locale, "custody_audit.route", value),
        "status" => coded(locale, "custody_audit.chain_status", value),
        "kg" | "parts_kg" | "percent" => value.replace('.', locale.text("number.decimal_separator")),
        _ => value.to_owned(),
    }
}

/// Why an item is waste, from the code list of a finding's `marks` (`waste 17 06 05*`,
/// `asbestos`): asbestos first, as it makes any item waste, else the List of Waste code.
fn marks(codes: &str, locale: &Locale) -> String {
    let all: Vec<&str> = codes.split(", ").collect();
    if all.contains(&"asbestos") {
        return locale.text("custody_audit.marks.asbestos").to_owned();
    }
    match all.iter().find_map(|code| code.strip_prefix("waste ")) {
        Some(code) => locale.format("custody_audit.marks.coded", &[("code", code)]),
        None => locale.text("custody_audit.marks.waste").to_owned(),
    }
}

/// A code (a route, a status) in the words of `group`, or as written when `group` lacks it.
fn coded(locale: &Locale, group: &str, code: &str) -> String {
    locale.lookup(&format!("{group}.{code}")).unwrap_or(code).to_owned()
}

fn severity_class(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Ignore => "info",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use std::collections::BTreeSet;

    use salvage_ledger::findings::{FindingCode, examples};

    use super::*;
    use crate::provenance::Locales;
    use crate::provenance::locale::placeholders;

    #[test]
    fn every_finding_reads_as_its_message_in_english_and_fully_in_latvian() {
        let locales = Locales::embedded().unwrap();
        let (en, lv) = (locales.get("en").unwrap(), locales.get("lv").unwrap());
        let audits = examples::audits();
        let mut seen = BTreeSet::new();
        for finding in audits.iter().flat_map(|audit| &audit.findings) {
            seen.insert(finding.template);
            let key = format!("custody_audit.finding.{}", finding.template);
            for name in placeholders(en.text(&key)) {
                assert!(finding.params.contains_key(name.as_str()), "{key}: no param {name} in {finding:?}");
            }
            assert_eq!(message(finding, en), finding.message, "{key}");
            let latvian = message(finding, lv);
            assert!(!latvian.contains(['{', '}']), "{key}: {latvian}");
            assert_ne!(latvian, finding.message, "{key}");
        }
        let every: BTreeSet<&str> = FindingCode::ALL.iter().flat_map(|code| code.templates()).copied().collect();
        assert_eq!(seen, every, "the examples raise every template");

        let latvian = |giai: &str, template: &str| {
            let finding = audits
                .iter()
                .flat_map(|audit| &audit.findings)
                .find(|f| f.giai.as_str() == giai && f.template == template)
                .unwrap();
            message(finding, lv)
        };
        assert_eq!(
            latvian(examples::SHEET, "waste_installed"),
            "4750002ROOF-0001 ir azbestu saturoši atkritumi, taču tika iebūvēts ēkā Jelgava kindergarten Pasaciņa"
        );
        assert_eq!(
            latvian(examples::STORED_SHEET, "hazard_not_disposed_still"),
            "4750002ROOF-0002 ir azbestu saturoši atkritumi, taču joprojām ir pieejams atkārtotai izmantošanai \
             un nav nodots pārstrādei vai apglabāšanai"
        );
        assert_eq!(
            latvian(examples::SLUDGE, "hazard_not_disposed"),
            "4750002PAINT-0001 ir atkritumi (atkritumu saraksta kods 08 01 11*), taču tā apstrādes veids bija \
             apglabāšana poligonā"
        );
        assert_eq!(
            latvian(examples::BEAM, "split_mass_loss"),
            "4750001BEAM-0001 svēra 180,5 kg, bet tā daļas (skaits: 2) kopā sver 160 kg: neuzskaitītais \
             materiāla zudums ir 11,4 %"
        );
    }

    #[test]
    fn marks_read_asbestos_first_then_the_list_of_waste_code() {
        let locales = Locales::embedded().unwrap();
        let (en, lv) = (locales.get("en").unwrap(), locales.get("lv").unwrap());
        assert_eq!(marks("waste 17 06 05*, asbestos", en), "asbestos waste");
        assert_eq!(marks("asbestos", lv), "azbestu saturoši atkritumi");
        assert_eq!(marks("waste 17 04 05", en), "waste (List of Waste code 17 04 05)");
        assert_eq!(marks("waste 17 04 05", lv), "atkritumi (atkritumu saraksta kods 17 04 05)");
        assert_eq!((marks("waste", en).as_str(), marks("waste", lv).as_str()), ("waste", "atkritumi"));
    }

    #[test]
    fn the_html_section_says_each_finding_in_the_report_language() {
        let locales = Locales::embedded().unwrap();
        let audit = &examples::audits()[0];
        let mut page = String::from("<html><body><footer></footer></body></html>");
        add_custody(&mut page, audit, locales.get("lv").unwrap());
        assert!(page.contains("taču tika piedāvāts dalībniekam timber-builders"), "{page}");
        assert!(!page.contains("which is no waste handler"), "{page}");
        assert!(page.contains("iebūvēts ēkā: Jelgava kindergarten Pasaciņa"), "{page}");
        let mut page = String::from("<html><body><footer></footer></body></html>");
        add_custody(&mut page, audit, locales.get("en").unwrap());
        assert!(page.contains("offered to timber-builders, which is no waste handler"), "{page}");
    }
}
