//! The impact report as one self-contained HTML page: for `salvage report impact --html FILE`
//! and the node's `GET /reports/impact`. No script, font, image or style sheet from
//! elsewhere; the two charts are inline SVG, each with a title, a description and a table of
//! the same numbers beside it. English and Latvian strings come from `node/locales/`
//! (`report.impact.*`). Masses are rounded to 0.1 kg here, and only here.

mod charts;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use salvage_ledger::impact::{CategoryMasses, DisposedClass, ImpactReport};

use crate::provenance::Locale;

/// What the page says of how it was made, beside the report itself.
#[derive(Debug, Clone, Default)]
pub struct PageContext {
    /// The tool and version, e.g. `salvage 0.1.0`.
    pub tool: String,
    /// When it was made (RFC 3339 UTC).
    pub generated_at: String,
    /// Where the records came from, e.g. a node's URL or a data directory.
    pub source: String,
    /// Other languages of the same page, as (language name, code, link); none in a file.
    pub languages: Vec<(String, String, String)>,
}

/// The report as a whole HTML document in `locale`'s language.
pub fn html(report: &ImpactReport, locale: &Locale, context: &PageContext) -> String {
    let t = |key: &str| locale.text(key).to_owned();
    let scope = if report.scope.is_empty() { t("report.impact.scope_all") } else { report.scope.join(" ∩ ") };
    let mut categories: Vec<(&String, &CategoryMasses)> = report.by_category.iter().collect();
    categories.sort_by(|a, b| b.1.registered_kg.total_cmp(&a.1.registered_kg).then(a.0.cmp(b.0)));
    let page: Markup = html! {
        (DOCTYPE)
        html lang=(locale.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(context.tool);
                // No icon to fetch: a browser would otherwise ask the node for /favicon.ico.
                link rel="icon" href="data:,";
                title { (t("report.impact.title")) ": " (scope) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                @if !context.languages.is_empty() {
                    nav aria-label=(t("language.switch")) {
                        @for (name, code, href) in &context.languages {
                            @if code == locale.code() {
                                a href=(href) hreflang=(code) lang=(code) aria-current="page" { (name) }
                            } @else {
                                a href=(href) hreflang=(code) lang=(code) { (name) }
                            }
                            " "
                        }
                    }
                }
                main {
                    h1 { (t("report.impact.title")) }
                    p.scope { (t("report.impact.scope")) ": " strong { (scope) } }
                    (ledger_table(report, locale, context))
                    (summary(report, locale))
                    (taxonomy(report, locale))
                    (co2e(report, locale))
                    (disposed(report, locale))
                    h2 { (t("report.impact.flows_heading")) }
                    div.chart {
                        (charts::flows(&report.flows, locale))
                        (flows_table(report, locale))
                    }
                    h2 { (t("report.impact.categories_heading")) }
                    div.chart {
                        (charts::categories(&categories, locale))
                        (categories_table(&categories, locale))
                    }
                }
                footer {
                    p { (t("report.impact.footer")) }
                    p { (context.tool) @if !context.generated_at.is_empty() { ", " (context.generated_at) } }
                }
            }
        }
    };
    page.into_string()
}

fn ledger_table(report: &ImpactReport, locale: &Locale, context: &PageContext) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    html! {
        div.scroll tabindex="0" { table.facts {
            @if let Some(id) = &report.ledger.ledger_id {
                tr { th scope="row" { (t("report.impact.ledger_id")) } td { code { (id) } } }
            }
            tr { th scope="row" { (t("report.impact.size")) } td { (report.ledger.size) } }
            tr { th scope="row" { (t("report.impact.root")) } td { code { (report.ledger.root) } } }
            @if !context.source.is_empty() {
                tr { th scope="row" { (t("report.impact.source")) } td { code { (context.source) } } }
            }
            tr { th scope="row" { (t("report.impact.items")) } td { (report.items.in_scope) } }
        } }
    }
}

fn summary(report: &ImpactReport, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    let m = &report.mass_kg;
    let unknown = &report.items.unknown_mass;
    html! {
        h2 { (t("report.impact.summary_heading")) }
        @if report.items.in_scope == 0 {
            p { (t("report.impact.no_items")) }
        }
        div.scroll tabindex="0" { table.figures {
            tr { th scope="row" { (t("report.impact.registered")) } td { (kg(m.registered, locale)) } }
            tr { th scope="row" { (t("report.impact.installed")) } td { (kg(m.installed, locale)) } }
            tr { th scope="row" { (t("report.impact.available")) } td { (kg(m.available, locale)) } }
            tr { th scope="row" { (t("report.impact.disposed")) } td { (kg(m.disposed, locale)) } }
            tr { th scope="row" { (t("report.impact.split_losses")) } td { (kg(m.split_losses, locale)) } }
            @if m.split_parts_outside_scope != 0.0 {
                tr { th scope="row" { (t("report.impact.split_outside")) } td { (kg(m.split_parts_outside_scope, locale)) } }
            }
        } }
        @if unknown.restricted + unknown.absent + report.items.splits_without_loss > 0 {
            p.note {
                (locale.format("report.impact.unknown_mass", &[
                    ("restricted", &unknown.restricted.to_string()),
                    ("absent", &unknown.absent.to_string()),
                    ("splits", &report.items.splits_without_loss.to_string()),
                ]))
            }
        }
    }
}

fn taxonomy(report: &ImpactReport, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    let x = &report.taxonomy;
    html! {
        h2 { (t("report.impact.taxonomy_heading")) }
        @match x.share {
            Some(share) => {
                p.verdict.(if x.meets_threshold == Some(true) { "clean" } else { "problems" }) {
                    (locale.format("report.impact.taxonomy_share", &[("share", &percent(share, locale))])) " "
                    @if x.meets_threshold == Some(true) { (t("report.impact.taxonomy_meets")) } @else { (t("report.impact.taxonomy_misses")) }
                }
            }
            None => { p { (t("report.impact.taxonomy_none")) } }
        }
        div.scroll tabindex="0" { table.figures {
            tr { th scope="row" { (t("report.impact.prepared")) } td { (kg(x.prepared_for_reuse_or_recycling_kg, locale)) } }
            tr { th scope="row" { " – " (t("report.impact.installed")) } td { (kg(x.reused_kg, locale)) } }
            tr { th scope="row" { " – " (t("report.impact.available")) } td { (kg(x.available_kg, locale)) } }
            tr { th scope="row" { " – " (t("report.impact.recycled")) } td { (kg(x.recycled_kg, locale)) } }
            tr { th scope="row" { (t("report.impact.non_hazardous")) } td { (kg(x.non_hazardous_kg, locale)) } }
            tr { th scope="row" { (t("report.impact.excluded_hazardous")) } td { (kg(x.excluded_hazardous_kg, locale)) } }
            tr { th scope="row" { (t("report.impact.excluded_soil")) } td { (kg(x.excluded_soil_and_stones_kg, locale)) } }
        } }
        p.note { (t("report.impact.taxonomy_definition")) }
    }
}

fn co2e(report: &ImpactReport, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    let (declared, estimated) = (&report.co2e.declared, &report.co2e.estimated);
    let table = &estimated.factor_table;
    html! {
        h2 { (t("report.impact.co2e_heading")) }
        div.scroll tabindex="0" { table.figures {
            tr { th {} th scope="col" { (t("report.impact.installed")) } th scope="col" { (t("report.impact.available")) } th scope="col" { (t("report.impact.total")) } }
            tr {
                th scope="row" { (t("report.impact.declared")) }
                td { (kg(declared.reused_kg, locale)) } td { (kg(declared.available_kg, locale)) } td { (kg(declared.total_kg, locale)) }
            }
            tr {
                th scope="row" { (t("report.impact.estimated")) }
                td { (kg(estimated.reused_kg, locale)) } td { (kg(estimated.available_kg, locale)) } td { (kg(estimated.total_kg, locale)) }
            }
        } }
        p.note {
            (locale.format("report.impact.declared_explain", &[
                ("declaring", &declared.items_declaring.to_string()),
                ("not_declaring", &declared.items_not_declaring.to_string()),
            ]))
        }
        p.note {
            (locale.format("report.impact.estimated_explain", &[
                ("table", &table.name), ("version", &table.version),
                ("without", &kg(estimated.mass_without_factor_kg, locale)),
            ]))
        }
        @if !estimated.by_category.is_empty() {
            div.scroll tabindex="0" { table.list {
                caption { (t("report.impact.estimate_caption")) }
                tr { th scope="col" { (t("report.impact.category")) } th scope="col" { (t("report.impact.mass")) } th scope="col" { (t("report.impact.factor")) } th scope="col" { (t("report.impact.co2e")) } }
                @for (category, estimate) in &estimated.by_category {
                    tr {
                        th scope="row" { (category_name(category, locale)) }
                        td { (kg(estimate.mass_kg, locale)) }
                        td { (decimal(estimate.factor, 3, locale)) }
                        td { (kg(estimate.co2e_kg, locale)) }
                    }
                }
            } }
        }
    }
}

fn disposed(report: &ImpactReport, locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    let class = |heading: &str, class: &DisposedClass| {
        html! {
            h3 { (t(heading)) ": " (kg(class.total_kg, locale)) }
            @if !class.by_route.is_empty() {
                div.pair {
                    div.scroll tabindex="0" { table.list {
                        tr { th scope="col" { (t("report.impact.route")) } th scope="col" { (t("report.impact.mass")) } }
                        @for (route, mass) in &class.by_route {
                            tr { td { (locale.lookup(&format!("route.{route}")).unwrap_or(route)) } td { (kg(*mass, locale)) } }
                        }
                    } }
                    div.scroll tabindex="0" { table.list {
                        tr { th scope="col" { (t("report.impact.waste_code")) } th scope="col" { (t("report.impact.mass")) } }
                        @for (code, mass) in &class.by_waste_code {
                            tr {
                                td { @if code == "none" { (t("report.impact.no_waste_code")) } @else { code { (code) } } }
                                td { (kg(*mass, locale)) }
                            }
                        }
                    } }
                }
            }
        }
    };
    html! {
        h2 { (t("report.impact.disposed_heading")) }
        (class("report.impact.non_hazardous_disposed", &report.disposed.non_hazardous))
        (class("report.impact.hazardous_disposed", &report.disposed.hazardous))
    }
}

fn flows_table(report: &ImpactReport, locale: &Locale) -> Markup {
    let rows = report
        .flows
        .iter()
        .map(|flow| (month_name(&flow.month, locale), vec![flow.registered_kg, flow.installed_kg, flow.disposed_kg]));
    mass_table(
        "report.impact.flows_title",
        &["report.impact.month", "report.impact.registered", "report.impact.installed", "report.impact.disposed"],
        rows,
        locale,
    )
}

fn categories_table(categories: &[(&String, &CategoryMasses)], locale: &Locale) -> Markup {
    let rows = categories.iter().map(|(category, masses)| {
        let masses = vec![masses.registered_kg, masses.installed_kg, masses.available_kg, masses.disposed_kg];
        (category_name(category, locale), masses)
    });
    mass_table(
        "report.impact.categories_title",
        &[
            "report.impact.category",
            "report.impact.registered",
            "report.impact.installed",
            "report.impact.available",
            "report.impact.disposed",
        ],
        rows,
        locale,
    )
}

/// The chart's data as a table: a row heading and masses in kilograms per row, for screen
/// readers and for reading exact values; `columns` are the locale keys of the headings.
fn mass_table(
    caption: &str,
    columns: &[&str],
    rows: impl Iterator<Item = (String, Vec<f64>)>,
    locale: &Locale,
) -> Markup {
    html! {
        div.scroll tabindex="0" { table.list {
            caption { (locale.text(caption)) }
            tr { @for column in columns { th scope="col" { (locale.text(column)) } } }
            @for (heading, masses) in rows {
                tr {
                    th scope="row" { (heading) }
                    @for mass in masses { td { (kg(mass, locale)) } }
                }
            }
        } }
    }
}

/// A category in the locale's words, or as written when it has none.
fn category_name(category: &str, locale: &Locale) -> String {
    locale.lookup(&format!("category.{category}")).unwrap_or(category).to_owned()
}

/// `YYYY-MM` as the month's name, abbreviated, and the year.
fn month_name(month: &str, locale: &Locale) -> String {
    let (year, number) = month.split_once('-').unwrap_or((month, ""));
    let number = number.trim_start_matches('0');
    match locale.lookup(&format!("month.{number}")) {
        Some(name) => format!("{} {year}", name.chars().take(3).collect::<String>()),
        None => month.to_owned(),
    }
}

/// A mass rounded to 0.1 kg, thousands apart, with the unit.
pub fn kg(value: f64, locale: &Locale) -> String {
    format!("{}\u{a0}kg", decimal(value, 1, locale))
}

/// `value` with `places` decimals, the locale's decimal separator and a narrow space between
/// thousands (as SI writes them, in every language).
fn decimal(value: f64, places: usize, locale: &Locale) -> String {
    // Rounding must never print "-0.0".
    let value = if value.abs() < 0.5 * 10f64.powi(-(places as i32)) { 0.0 } else { value };
    let text = format!("{:.*}", places, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push('\u{202f}');
        }
        grouped.push(digit);
    }
    let sign = if value < 0.0 { "-" } else { "" };
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}{}{fraction}", locale.text("number.decimal_separator"))
    }
}

/// A share from 0 to 1 as a percentage with one decimal, cut rather than rounded: a share
/// just under 70 % (or 100 %) must not read as 70.0 % (or 100.0 %).
fn percent(share: f64, locale: &Locale) -> String {
    format!("{}\u{a0}%", decimal((share * 1000.0).floor() / 10.0, 1, locale))
}

/// A mass rounded to the kilogram, for a chart's axis.
fn whole_kg(value: f64, locale: &Locale) -> String {
    format!("{}\u{a0}kg", decimal(value, 0, locale))
}

/// The style of the page, inline so that it stands alone.
const STYLE: &str = "
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 64rem; padding: 0 1rem; color: #1b1b1b; line-height: 1.4; }
nav { text-align: right; font-size: 0.9rem; }
nav a { color: #1f5f8b; margin-left: 0.6rem; }
nav a[aria-current] { font-weight: bold; color: #1b1b1b; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.05rem; }
.verdict { padding: 0.8rem 1rem; border-radius: 4px; font-weight: bold; }
.clean { background: #e3f4e1; border: 1px solid #2e7d32; }
.problems { background: #fdeee7; border: 1px solid #a63c12; }
table { border-collapse: collapse; margin-bottom: 1rem; }
th, td { text-align: left; vertical-align: top; padding: 0.25rem 0.6rem; border-bottom: 1px solid #ddd; }
table.figures td, table.list td { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.list th { background: #f4f4f4; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
code { font-family: ui-monospace, monospace; word-break: break-all; }
.note { color: #444; font-size: 0.92rem; }
.chart { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
.chart svg { max-width: 100%; height: auto; }
.scroll { overflow-x: auto; max-width: 100%; }
.pair { display: flex; flex-wrap: wrap; gap: 1.5rem; }
footer { color: #555; font-size: 0.85rem; margin-top: 2rem; border-top: 1px solid #ccc; }
";

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests;
