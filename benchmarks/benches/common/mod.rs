//! What every bench shares: the criterion configuration (full or quick), a recorder that
//! keeps criterion's own samples so that the ratios printed at the end come from the same run,
//! the typical token's claims, and a tiny executor for axum futures that never wait.

// Each bench uses a different part of this module.
#![allow(dead_code)]

#[path = "fixture.rs"]
mod fixture;
#[allow(unused_imports)] // Some benches use none of it.
pub(crate) use fixture::*;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::Criterion;

/// `JWTGUARD_BENCH_QUICK=1`: short warm-up and measurement, for development and CI smoke runs.
pub(crate) fn quick_env() -> bool {
    std::env::var_os("JWTGUARD_BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0")
}

/// criterion's own `--quick` (after `cargo bench --bench NAME --`).
fn quick_flag() -> bool {
    std::env::args().any(|a| a == "--quick")
}

/// Whether this run is a short one (either quick mode).
pub(crate) fn quick() -> bool {
    quick_env() || quick_flag()
}

/// Whether this run measures: criterion's rule, `--bench` (what `cargo bench` passes) and
/// neither `--test` (`cargo test --benches` passes no `--bench`), `--list` nor `--profile-time`.
pub(crate) fn measuring() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| {
        args.iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
    };
    has("--bench") && !has("--test") && !has("--list") && !has("--profile-time")
}

/// Per benchmark name, every call criterion made: (iterations, time).
type Samples = Rc<RefCell<BTreeMap<String, Vec<(u64, Duration)>>>>;

/// A registered benchmark: group, name, routine.
type Routine<'a> = (String, String, Box<dyn FnMut() + 'a>);

/// One interleaved round: nanoseconds per call, by benchmark name.
type Round = BTreeMap<String, f64>;

/// A statistic over the interleaved rounds: median and quartiles.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spread {
    pub(crate) median: f64,
    pub(crate) low: f64,
    pub(crate) high: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let at = |q: f64| {
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let i = ((values.len() - 1) as f64 * q).round() as usize;
            values[i]
        };
        Some(Self {
            median: at(0.5),
            low: at(0.25),
            high: at(0.75),
        })
    }
}

/// Formats a ratio with its interquartile range over the rounds.
pub(crate) fn spread(value: Option<Spread>) -> String {
    value.map_or_else(
        || "n/a".to_owned(),
        |s| format!("{:.2}× ({:.2}–{:.2})", s.median, s.low, s.high),
    )
}

/// criterion plus a copy of every sample it measured, then interleaved rounds.
///
/// The machines this runs on are shared: their speed drifts by tens of percent within a
/// minute, and criterion measures one benchmark after the other. So after criterion, every
/// benchmark runs again in interleaved rounds (a batch of about `BATCH` of each, in turn,
/// `rounds` times), and ratios are the median of the per-round ratios: drift between rounds
/// cancels out. Times shown are criterion's.
pub(crate) struct Lab<'a> {
    criterion: Criterion,
    samples: Samples,
    measured: usize,
    routines: Vec<Routine<'a>>,
    rounds: Vec<Round>,
    round_count: usize,
}

/// The time of one benchmark's batch in an interleaved round.
const BATCH: Duration = Duration::from_millis(20);

impl<'a> Lab<'a> {
    /// Full mode: 60 samples over 4 s per benchmark after a 2 s warm-up, then 40 interleaved
    /// rounds. Quick mode (`JWTGUARD_BENCH_QUICK=1`): 10 samples over about a second, 10
    /// rounds. criterion's own `--quick` also works (and keeps 10 rounds).
    pub(crate) fn new() -> Self {
        let base = Criterion::default().without_plots();
        let (base, sample_size) = if quick_env() {
            (
                base.sample_size(10)
                    .warm_up_time(Duration::from_millis(300))
                    .measurement_time(Duration::from_secs(1)),
                10,
            )
        } else {
            (
                base.sample_size(60)
                    .warm_up_time(Duration::from_secs(2))
                    .measurement_time(Duration::from_secs(4)),
                60,
            )
        };
        // criterion's `--quick` keeps only its last two samples (n and 2n iterations).
        let measured = if quick_flag() { 2 } else { sample_size };
        Self {
            criterion: base.configure_from_args(),
            samples: Rc::default(),
            measured,
            routines: Vec::new(),
            rounds: Vec::new(),
            round_count: if quick() { 10 } else { 40 },
        }
    }

    /// Registers `routine` as `group/name`.
    pub(crate) fn add<O>(&mut self, group: &str, name: &str, mut routine: impl FnMut() -> O + 'a) {
        self.routines.push((
            group.to_owned(),
            name.to_owned(),
            Box::new(move || {
                black_box(routine());
            }),
        ));
    }

    /// Runs criterion over every registered benchmark (its filters apply), then, when
    /// measuring, the interleaved rounds over those criterion ran.
    pub(crate) fn run(&mut self) {
        for (group, name, routine) in &mut self.routines {
            let samples = Rc::clone(&self.samples);
            let mut g = self.criterion.benchmark_group(group.as_str());
            g.bench_function(name.as_str(), |b| {
                // Timed here rather than with `Bencher::iter` so that the samples can be
                // kept; the same loop.
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        routine();
                    }
                    let elapsed = start.elapsed();
                    samples
                        .borrow_mut()
                        .entry(name.clone())
                        .or_default()
                        .push((iters, elapsed));
                    elapsed
                });
            });
            g.finish();
        }
        self.criterion.final_summary();
        if !measuring() {
            return;
        }
        let ran: Vec<usize> = (0..self.routines.len())
            .filter(|&i| self.samples.borrow().contains_key(&self.routines[i].1))
            .collect();
        let batches: Vec<u64> = ran
            .iter()
            .map(|&i| {
                let ns = self.ns(&self.routines[i].1).unwrap_or(1e3).max(1.0);
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let n = (BATCH.as_secs_f64() * 1e9 / ns).ceil() as u64;
                n.max(1)
            })
            .collect();
        eprintln!(
            "interleaved: {} rounds of {} benchmarks, about {:?} each",
            self.round_count,
            ran.len(),
            BATCH
        );
        for round in 0..self.round_count {
            let mut times = Round::new();
            // Alternate the order so that no benchmark always follows the same one.
            let order: Vec<usize> = if round % 2 == 0 {
                (0..ran.len()).collect()
            } else {
                (0..ran.len()).rev().collect()
            };
            for k in order {
                let (_, name, routine) = &mut self.routines[ran[k]];
                let start = Instant::now();
                for _ in 0..batches[k] {
                    routine();
                }
                #[allow(clippy::cast_precision_loss)]
                let ns = start.elapsed().as_secs_f64() * 1e9 / batches[k] as f64;
                times.insert(name.clone(), ns);
            }
            self.rounds.push(times);
        }
    }

    /// criterion's median time per iteration over its measurement samples (its warm-up calls
    /// come first and are left out), in nanoseconds; `None` when the benchmark did not run.
    pub(crate) fn ns(&self, name: &str) -> Option<f64> {
        let samples = self.samples.borrow();
        let all = samples.get(name)?;
        let measured = &all[all.len().saturating_sub(self.measured)..];
        #[allow(clippy::cast_precision_loss)]
        let per_iter: Vec<f64> = measured
            .iter()
            .filter(|(iters, _)| *iters > 0)
            .map(|(iters, time)| time.as_secs_f64() * 1e9 / *iters as f64)
            .collect();
        Spread::of(per_iter).map(|s| s.median)
    }

    /// A statistic computed in each interleaved round from that round's times (`t(name)`),
    /// summarised over the rounds.
    pub(crate) fn per_round(
        &self,
        stat: impl Fn(&dyn Fn(&str) -> Option<f64>) -> Option<f64>,
    ) -> Option<Spread> {
        Spread::of(
            self.rounds
                .iter()
                .filter_map(|round| stat(&|name: &str| round.get(name).copied()))
                .collect(),
        )
    }

    /// `a / b` over the interleaved rounds.
    pub(crate) fn ratio(&self, a: &str, b: &str) -> Option<Spread> {
        self.per_round(|t| Some(t(a)? / t(b)?))
    }

    /// `a / b` from criterion's medians.
    pub(crate) fn criterion_ratio(&self, a: &str, b: &str) -> Option<f64> {
        Some(self.ns(a)? / self.ns(b)?)
    }
}

/// Formats a time in ns with a sensible unit.
pub(crate) fn time(ns: Option<f64>) -> String {
    match ns {
        None => "n/a".to_owned(),
        Some(ns) if ns >= 1e6 => format!("{:.2} ms", ns / 1e6),
        Some(ns) if ns >= 1e3 => format!("{:.2} µs", ns / 1e3),
        Some(ns) => format!("{ns:.0} ns"),
    }
}

/// Formats a ratio.
pub(crate) fn times(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "n/a".to_owned(), |r| format!("{r:.2}×"))
}
