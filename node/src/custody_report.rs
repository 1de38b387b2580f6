//! The certifier's custody-chain section of the audit report (`salvage audit --findings --html`):
//! scope, scheme, sample, verdict, every finding, and each chain in a table, in English or
//! Latvian (`[custody]` strings of `node/locales/`). Added to the self-contained page
//! `audit_report::html` makes; no script, nothing from elsewhere.

use maud::{Markup, html};
use salvage_ledger::findings::{Chain, CustodyAudit, Severity};

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
                            td { (finding.message) }
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
                (chain.status)
                @if let Some(building) = &chain.installed_in { ": " (building) }
                @if let Some(disposal) = &chain.disposal { ": " (disposal.route) @if let Some(code) = &disposal.waste_code { " (" (code) ")" } }
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

fn severity_class(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Ignore => "info",
    }
}
