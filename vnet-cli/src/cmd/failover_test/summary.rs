//! The runs of each case summed up: min, median and max outage, how many runs did not
//! recover within the cap, and whether every run met the outage goal; the matrix as a
//! table for people.

use serde::Serialize;

use super::case::{word, Case};
use super::run::RunReport;

/// The runs of one case and their figures.
#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    /// The case.
    #[serde(flatten)]
    pub case: Case,
    /// Every run.
    pub runs: Vec<RunReport>,
    /// The shortest outage, in milliseconds.
    pub min_ms: f64,
    /// The median outage (the mean of the middle two for an even count).
    pub median_ms: f64,
    /// The longest outage (the cap when a run did not recover).
    pub max_ms: f64,
    /// Runs without steady replies within the cap.
    pub unrecovered: usize,
    /// Every run recovered with an outage of at most the goal.
    pub met: bool,
}

impl CaseReport {
    /// Sums up `runs` of `case` against the goal `max_outage_ms`.
    pub fn new(case: Case, runs: Vec<RunReport>, max_outage_ms: f64) -> CaseReport {
        let mut o: Vec<f64> = runs.iter().map(|r| r.outage_ms).collect();
        o.sort_by(f64::total_cmp);
        let median = match o.len() {
            0 => 0.0,
            n if n % 2 == 1 => o[n / 2],
            n => (o[n / 2 - 1] + o[n / 2]) / 2.0,
        };
        let unrecovered = runs.iter().filter(|r| !r.recovered).count();
        CaseReport {
            case,
            min_ms: o.first().copied().unwrap_or(0.0),
            median_ms: median,
            max_ms: o.last().copied().unwrap_or(0.0),
            unrecovered,
            met: unrecovered == 0 && o.iter().all(|&ms| ms <= max_outage_ms),
            runs,
        }
    }
}

/// The cases as a table: one row per case with min/median/max outage in ms.
pub fn table(cases: &[CaseReport]) -> String {
    let mut out = format!(
        "{:<6} {:<10} {:<9} {:>4} {:>9} {:>9} {:>9} {:>11}  goal\n",
        "m1", "uplink MAC", "observer", "runs", "min ms", "median ms", "max ms", "no recovery"
    );
    for c in cases {
        out.push_str(&format!(
            "{:<6} {:<10} {:<9} {:>4} {:>9.1} {:>9.1} {:>9.1} {:>11}  {}\n",
            word(c.case.fail),
            word(c.case.uplink_mac),
            word(c.case.observer),
            c.runs.len(),
            c.min_ms,
            c.median_ms,
            c.max_ms,
            c.unrecovered,
            if c.met { "met" } else { "MISSED" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::case::{FailMode, Observer, UplinkMac};
    use super::*;

    fn run(outage_ms: f64, recovered: bool) -> RunReport {
        RunReport {
            run: 1,
            outage_ms,
            recovered,
            send_gap_ms: 10.0,
            sent: 100,
            lost: 5,
            prepare_ms: 20,
            move_ms: 50,
            fail_ms: 10,
            start_ms: vec![],
            started: vec![],
            announcements: Some(0),
            stop_ms: None,
            observer_neighbours: vec![],
        }
    }

    const CASE: Case = Case {
        fail: FailMode::Hung,
        uplink_mac: UplinkMac::Changed,
        observer: Observer::Sticky,
    };

    #[test]
    fn min_median_max_and_the_goal() {
        let c = CaseReport::new(
            CASE,
            vec![
                run(90.0, true),
                run(70.0, true),
                run(120.0, true),
                run(80.0, true),
            ],
            200.0,
        );
        assert_eq!((c.min_ms, c.median_ms, c.max_ms), (70.0, 85.0, 120.0));
        assert!(c.met);
        let odd = CaseReport::new(
            CASE,
            vec![run(90.0, true), run(70.0, true), run(300.0, true)],
            200.0,
        );
        assert_eq!(odd.median_ms, 90.0);
        assert!(!odd.met, "300 ms is over the goal");
        let capped = CaseReport::new(CASE, vec![run(150.0, false)], 200.0);
        assert_eq!(capped.unrecovered, 1);
        assert!(!capped.met, "no recovery never meets the goal");
        let t = table(&[c, capped]);
        assert!(t.contains("hung   changed    sticky"), "{t}");
        assert!(t.lines().nth(1).unwrap().ends_with("met"), "{t}");
        assert!(t.lines().nth(2).unwrap().ends_with("MISSED"), "{t}");
    }
}
