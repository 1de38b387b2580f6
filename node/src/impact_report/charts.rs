//! The impact report's two charts, as inline SVG: flows per month (grouped vertical bars)
//! and mass by category (horizontal bars). No script, no external asset; each chart has a
//! title and a description for screen readers, each bar a `<title>` with its value, and the
//! page puts a table of the same numbers beside it.

use maud::{Markup, html};
use salvage_ledger::impact::{CategoryMasses, MonthFlow};

use super::{category_name, kg, month_name, whole_kg};
use crate::provenance::Locale;

/// The three flows and their colours, dark enough for white text and a white background.
const FLOWS: [(&str, &str); 3] = [
    ("report.impact.registered", "#1f5f8b"),
    ("report.impact.installed", "#2e7d32"),
    ("report.impact.disposed", "#a63c12"),
];

/// The room each entry of the flows' legend takes.
const LEGEND: f64 = 190.0;

/// A chart's height for its bars, and the margins around them.
const PLOT_HEIGHT: f64 = 180.0;
const LEFT: f64 = 96.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 44.0;

/// The flows per month: for each month, three bars side by side.
pub(super) fn flows(flows: &[MonthFlow], locale: &Locale) -> Markup {
    let t = |key: &str| locale.text(key).to_owned();
    let values = |flow: &MonthFlow| [flow.registered_kg, flow.installed_kg, flow.disposed_kg];
    let top = nice_ceiling(flows.iter().flat_map(values).fold(0.0, f64::max));
    let group = 72.0;
    // Wide enough for the legend's three entries however few the months.
    let width = (LEFT + group * flows.len().max(1) as f64 + 16.0).max(LEFT + 3.0 * LEGEND);
    let height = TOP + PLOT_HEIGHT + BOTTOM;
    let y = |value: f64| TOP + PLOT_HEIGHT - value / top * PLOT_HEIGHT;
    html! {
        svg role="img" aria-labelledby="flows-title flows-desc" viewBox={ "0 0 " (width) " " (height) }
            width=(width) height=(height) xmlns="http://www.w3.org/2000/svg" {
            title id="flows-title" { (t("report.impact.flows_title")) }
            desc id="flows-desc" { (t("report.impact.chart_desc")) }
            (axis(top, width, locale, y))
            @for (index, flow) in flows.iter().enumerate() {
                @let x0 = LEFT + group * index as f64 + 8.0;
                @for (bar, ((key, colour), value)) in FLOWS.iter().zip(values(flow)).enumerate() {
                    @let x = x0 + 18.0 * bar as f64;
                    rect x=(x) y=(y(value)) width="16" height=(y(0.0) - y(value)) fill=(colour) {
                        title { (month_name(&flow.month, locale)) ", " (t(key)) ": " (kg(value, locale)) }
                    }
                }
                text x=(x0 + 26.0) y=(TOP + PLOT_HEIGHT + 16.0) text-anchor="middle" font-size="11" fill="#1b1b1b" {
                    (month_name(&flow.month, locale))
                }
            }
            @for (index, (key, colour)) in FLOWS.iter().enumerate() {
                @let x = LEFT + LEGEND * index as f64;
                rect x=(x) y=(height - 16.0) width="10" height="10" fill=(colour) {}
                text x=(x + 14.0) y=(height - 7.0) font-size="11" fill="#1b1b1b" { (t(key)) }
            }
        }
    }
}

/// The mass registered by category: one horizontal bar each, largest first.
pub(super) fn categories(categories: &[(&String, &CategoryMasses)], locale: &Locale) -> Markup {
    let top = nice_ceiling(categories.iter().map(|(_, masses)| masses.registered_kg).fold(0.0, f64::max));
    // The labels' column fits the longest name, at about 7 px a character of 12 px text.
    let longest = categories.iter().map(|(category, _)| category_name(category, locale).chars().count()).max();
    let label = (longest.unwrap_or(8) as f64 * 7.0 + 12.0).clamp(80.0, 280.0);
    let (bar_space, row) = (300.0, 26.0);
    let width = label + bar_space + 110.0;
    let height = TOP + row * categories.len().max(1) as f64 + 8.0;
    html! {
        svg role="img" aria-labelledby="categories-title categories-desc" viewBox={ "0 0 " (width) " " (height) }
            width=(width) height=(height) xmlns="http://www.w3.org/2000/svg" {
            title id="categories-title" { (locale.text("report.impact.categories_title")) }
            desc id="categories-desc" { (locale.text("report.impact.chart_desc")) }
            @for (index, (category, masses)) in categories.iter().enumerate() {
                @let y = TOP + row * index as f64;
                @let length = masses.registered_kg / top * bar_space;
                @let name = category_name(category, locale);
                text x=(label - 8.0) y=(y + 15.0) text-anchor="end" font-size="12" fill="#1b1b1b" { (name) }
                rect x=(label) y=(y + 3.0) width=(length.max(0.0)) height="16" fill="#1f5f8b" {
                    title { (name) ": " (kg(masses.registered_kg, locale)) }
                }
                text x=(label + length.max(0.0) + 6.0) y=(y + 15.0) font-size="12" fill="#1b1b1b" {
                    (kg(masses.registered_kg, locale))
                }
            }
        }
    }
}

/// The vertical axis of the flows: a line and three labelled ticks.
fn axis(top: f64, width: f64, locale: &Locale, y: impl Fn(f64) -> f64) -> Markup {
    html! {
        @for value in [0.0, top / 2.0, top] {
            line x1=(LEFT - 4.0) x2=(width - 8.0) y1=(y(value)) y2=(y(value)) stroke="#d0d0d0" stroke-width="1" {}
            text x=(LEFT - 8.0) y=(y(value) + 4.0) text-anchor="end" font-size="11" fill="#1b1b1b" { (whole_kg(value, locale)) }
        }
    }
}

/// A round number at or above `value` (1, 2 or 5 times a power of ten), so that the axis
/// reads easily; 1 for nothing, so that empty charts still draw.
fn nice_ceiling(value: f64) -> f64 {
    if !(value.is_finite() && value > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|step| step * power).find(|nice| *nice >= value).unwrap_or(10.0 * power)
}

#[cfg(test)]
mod tests {
    use super::nice_ceiling;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(f64::NAN), 1.0);
        assert_eq!(nice_ceiling(1.0), 1.0);
        assert_eq!(nice_ceiling(1.2), 2.0);
        assert_eq!(nice_ceiling(420.0), 500.0);
        assert_eq!(nice_ceiling(2775.5), 5000.0);
        assert_eq!(nice_ceiling(9000.0), 10000.0);
    }
}
