//! What a scenario measured, for people (`to_text`) and for scripts (`to_json`).

use std::fmt::Write;

use serde_json::json;

use crate::drive::{Plan, Tally};

/// The outcome of one scenario.
pub struct Report {
    scenario: &'static str,
    unit: &'static str,
    plan: Plan,
    tally: Tally,
    // How many units one expected answer stands for (entries per submission).
    per_answer: u64,
}

impl Report {
    /// The report of `scenario`, whose expected answers count as `unit` ("pages").
    pub fn new(scenario: &'static str, unit: &'static str, plan: &Plan, tally: Tally) -> Report {
        Report { scenario, unit, plan: plan.clone(), tally, per_answer: 1 }
    }

    /// The same report, counting `per_answer` units for every expected answer.
    pub fn counting(self, per_answer: u64) -> Report {
        Report { per_answer: per_answer.max(1), ..self }
    }

    /// Units in the expected answers of the measured window.
    fn units(&self) -> u64 {
        self.tally.expected * self.per_answer
    }

    /// How many answers were not what the scenario expects, warm-up included.
    pub fn unexpected_total(&self) -> u64 {
        self.tally.unexpected.values().map(|(count, _)| count).sum()
    }

    /// Expected answers per second of the measured window.
    pub fn per_second(&self) -> f64 {
        let seconds = self.tally.measured.as_secs_f64();
        if seconds > 0.0 { self.units() as f64 / seconds } else { 0.0 }
    }

    /// The latency at quantile `q` (0 to 1, nearest rank) in milliseconds.
    pub fn latency_ms(&self, q: f64) -> f64 {
        let sorted = &self.tally.latencies;
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
        sorted.get(rank).map_or(0.0, |nanos| *nanos as f64 / 1e6)
    }

    /// A few lines for a person.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let tally = &self.tally;
        let _ = writeln!(
            text,
            "{}: {} clients, {:.1} s measured after {:.1} s of warm-up{}",
            self.scenario,
            self.plan.clients,
            tally.measured.as_secs_f64(),
            self.plan.warmup.as_secs_f64(),
            if tally.exhausted { " (ended early: every prepared request was sent)" } else { "" },
        );
        let _ = writeln!(text, "  {}: {} = {:.0}/s", self.unit, self.units(), self.per_second());
        let _ = writeln!(
            text,
            "  latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} requests)",
            self.latency_ms(0.50),
            self.latency_ms(0.99),
            self.latency_ms(1.0),
            tally.latencies.len(),
        );
        if let (Some(node), Some(generator)) = (tally.node_cores, tally.generator_cores) {
            let machine = tally
                .machine_cores
                .map(|machine| format!(", whole machine {machine:.2} of {}", available_cores()))
                .unwrap_or_default();
            let _ = writeln!(text, "  cores used: node {node:.2}, generator {generator:.2}{machine}");
        }
        if tally.unexpected.is_empty() {
            let _ = writeln!(text, "  unexpected answers: none");
        }
        for (problem, (count, sample)) in &tally.unexpected {
            let _ = writeln!(text, "  UNEXPECTED: {count} answers with {problem}; the first said: {sample}");
        }
        text
    }

    /// One line of JSON.
    pub fn to_json(&self) -> String {
        let tally = &self.tally;
        let unexpected: serde_json::Map<String, serde_json::Value> = tally
            .unexpected
            .iter()
            .map(|(problem, (count, sample))| (problem.clone(), json!({"count": count, "sample": sample})))
            .collect();
        json!({
            "scenario": self.scenario,
            "clients": self.plan.clients,
            "warmup_s": self.plan.warmup.as_secs_f64(),
            "measured_s": hundredths(tally.measured.as_secs_f64()),
            "exhausted": tally.exhausted,
            "expected": self.units(),
            "per_answer": self.per_answer,
            "per_second": self.per_second().round(),
            "p50_ms": hundredths(self.latency_ms(0.50)),
            "p99_ms": hundredths(self.latency_ms(0.99)),
            "max_ms": hundredths(self.latency_ms(1.0)),
            "node_cores": tally.node_cores.map(hundredths),
            "generator_cores": tally.generator_cores.map(hundredths),
            "machine_cores": tally.machine_cores.map(hundredths),
            "cpus": available_cores(),
            "unexpected": unexpected,
        })
        .to_string()
    }
}

/// The cores this program may run on.
fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `value` rounded to two decimals, so the JSON line stays readable.
fn hundredths(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
