//! The results table, printed and written to docs/BENCHMARKS.md.

use std::fmt::Write as _;

/// Whether smaller or larger is better, and the bound.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    AtMost(f64),
    AtLeast(f64),
}

impl Goal {
    fn met(self, value: f64) -> bool {
        match self {
            Goal::AtMost(g) => value <= g,
            Goal::AtLeast(g) => value >= g,
        }
    }

    fn describe(self, unit: &str) -> String {
        match self {
            Goal::AtMost(g) => format!("≤ {} {unit}", num(g)),
            Goal::AtLeast(g) => format!("≥ {} {unit}", num(g)),
        }
    }
}

/// One measured figure with what it is compared with.
#[derive(Debug, Clone)]
pub struct Figure {
    pub section: &'static str,
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    pub baseline: Option<(String, f64)>,
    pub goal: Option<Goal>,
    pub note: String,
    /// Why this run's figure is no measurement (a quick run's span too short for it): its
    /// number is shown for the record but judged by no goal.
    pub unmeasurable: Option<String>,
}

impl Figure {
    pub fn new(
        section: &'static str,
        name: impl Into<String>,
        value: f64,
        unit: &'static str,
    ) -> Figure {
        Figure {
            section,
            name: name.into(),
            value,
            unit,
            baseline: None,
            goal: None,
            note: String::new(),
            unmeasurable: None,
        }
    }

    pub fn baseline(mut self, name: impl Into<String>, value: f64) -> Figure {
        self.baseline = Some((name.into(), value));
        self
    }

    pub fn goal(mut self, goal: Goal) -> Figure {
        self.goal = Some(goal);
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Figure {
        self.note = note.into();
        self
    }

    pub fn unmeasurable(mut self, why: impl Into<String>) -> Figure {
        self.unmeasurable = Some(why.into());
        self
    }

    fn ratio(&self) -> Option<f64> {
        self.baseline
            .as_ref()
            .map(|(_, b)| self.value / b)
            .filter(|r| r.is_finite())
    }

    fn verdict(&self) -> &'static str {
        if self.unmeasurable.is_some() {
            return "";
        }
        match self.goal {
            None => "",
            Some(g) if g.met(self.value) => "met",
            Some(_) => "MISSED",
        }
    }
}

pub fn num(v: f64) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if v.abs() >= 1000.0 {
        let s = format!("{:.0}", v);
        let bytes = s.as_bytes();
        let mut out = String::new();
        for (i, b) in bytes.iter().enumerate() {
            if i > 0 && (bytes.len() - i) % 3 == 0 && *b != b'-' {
                out.push(',');
            }
            out.push(*b as char);
        }
        out
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

pub fn print(figures: &[Figure]) {
    let mut section = "";
    for f in figures {
        if f.section != section {
            section = f.section;
            println!("\n{section}");
        }
        let baseline = f
            .baseline
            .as_ref()
            .map(|(n, b)| format!("{n}: {} {}", num(*b), f.unit))
            .unwrap_or_default();
        let ratio = f
            .ratio()
            .map(|r| format!("×{}", num(r)))
            .unwrap_or_default();
        let goal = match &f.unmeasurable {
            Some(why) => format!("not measurable here: {why}"),
            None => f
                .goal
                .map(|g| format!("{} {}", g.describe(f.unit), f.verdict()))
                .unwrap_or_default(),
        };
        println!(
            "  {:<52} {:>12} {:<7} {:<44} {:>8}  {goal}",
            f.name,
            num(f.value),
            f.unit,
            baseline,
            ratio
        );
    }
}

pub fn markdown(figures: &[Figure], command: &str, machine: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Produced by `{command}` on {machine}, {}.",
        chrono::Utc::now().format("%Y-%m-%d")
    );
    let _ = writeln!(
        out,
        "Every figure is a median of several runs (latency: percentiles over every sample) and sits beside a baseline\nmeasured in the same run, on the same machine, with the ratio between them: this machine is shared and noisy,\nso ratios travel better than absolute numbers. How each figure is measured is in `docs/benchmarks-method.md`;\nthe goals missed, their causes and what was done about them are at its end.\n"
    );
    let mut section = "";
    for f in figures {
        if f.section != section {
            section = f.section;
            let _ = writeln!(out, "\n## {section}\n");
            let _ = writeln!(
                out,
                "| figure | value | baseline (same run) | ratio | goal | |\n|---|---:|---|---:|---|---|"
            );
        }
        let baseline = f
            .baseline
            .as_ref()
            .map(|(n, b)| format!("{n}: {} {}", num(*b), f.unit))
            .unwrap_or_else(|| "—".into());
        let ratio = f
            .ratio()
            .map(|r| format!("×{}", num(r)))
            .unwrap_or_else(|| "—".into());
        let goal = f
            .goal
            .map(|g| g.describe(f.unit))
            .unwrap_or_else(|| "—".into());
        let verdict = match f.verdict() {
            "MISSED" => "**missed**",
            v => v,
        };
        let note = match &f.unmeasurable {
            Some(why) if f.note.is_empty() => format!("not measurable here: {why}"),
            Some(why) => format!("{}; not measurable here: {why}", f.note),
            None => f.note.clone(),
        };
        let name = if note.is_empty() {
            f.name.clone()
        } else {
            format!("{} <br><sub>{note}</sub>", f.name)
        };
        let _ = writeln!(
            out,
            "| {name} | {} {} | {baseline} | {ratio} | {goal} | {verdict} |",
            num(f.value),
            f.unit
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(1234567.0), "1,234,567");
        assert_eq!(num(12.345), "12.3");
        assert_eq!(num(1.2345), "1.23");
        assert_eq!(num(f64::NAN), "n/a");
    }

    #[test]
    fn verdicts_and_ratios() {
        let f = Figure::new("s", "x", 50.0, "ms")
            .baseline("b", 100.0)
            .goal(Goal::AtMost(60.0));
        assert_eq!((f.verdict(), f.ratio()), ("met", Some(0.5)));
        let md = markdown(
            &[
                f,
                Figure::new("s", "y", 10.0, "k/s").goal(Goal::AtLeast(20.0)),
            ],
            "cmd",
            "m",
        );
        assert!(
            md.contains("| x | 50.0 ms | b: 100.0 ms | ×0.50 | ≤ 60.0 ms | met |"),
            "{md}"
        );
        assert!(md.contains("**missed**"));
    }

    #[test]
    fn a_figure_its_span_cannot_measure_is_judged_by_no_goal() {
        let f = Figure::new("s", "w", 0.0, "/min")
            .goal(Goal::AtMost(30.0))
            .unmeasurable("a 5 s span");
        assert_eq!(f.verdict(), "");
        let md = markdown(&[f], "cmd", "m");
        assert!(md.contains("not measurable here: a 5 s span"), "{md}");
    }
}
