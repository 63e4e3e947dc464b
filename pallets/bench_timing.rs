// Native timing of FRAME v2 benchmarks in a pallet's mock runtime: the median of many runs of
// each benchmark's timed part, at the lowest and highest value of each component, printed next to
// a baseline call measured the same way in the same run. The pallets' `bench_timings` tests
// include this file (`include!`), so both use one harness.

use std::time::{Duration, Instant};

use frame_benchmarking::{BenchmarkParameter, BenchmarkingSetup, Recording};

/// A benchmark's name and how to select it (the selector is not `Copy`).
pub type Case<B> = (&'static str, fn() -> B);

/// Runs per measurement; the median is reported.
pub const RUNS: usize = 101;

/// Records the span between the benchmark's start and stop marks.
#[derive(Default)]
struct Timer {
	started: Option<Instant>,
	elapsed: Duration,
}

impl Recording for Timer {
	fn start(&mut self) {
		self.started = Some(Instant::now());
	}
	fn stop(&mut self) {
		if let Some(started) = self.started.take() {
			self.elapsed = started.elapsed();
		}
	}
}

/// Median of `measure` (nanoseconds) over [`RUNS`] fresh externalities from `ext`.
pub fn median_ns(ext: &impl Fn() -> sp_io::TestExternalities, measure: impl Fn() -> u128) -> u128 {
	let mut samples: Vec<u128> = (0..RUNS).map(|_| ext().execute_with(&measure)).collect();
	samples.sort_unstable();
	samples[samples.len() / 2]
}

/// Median time of one call of `call`, for the baseline.
pub fn call_ns(ext: &impl Fn() -> sp_io::TestExternalities, call: impl Fn()) -> u128 {
	median_ns(ext, || {
		let started = Instant::now();
		call();
		started.elapsed().as_nanos()
	})
}

/// Prints `benchmark | components | ns | baseline ns` for every case at its components' extremes.
pub fn print_timings<T, B: BenchmarkingSetup<T>>(
	ext: impl Fn() -> sp_io::TestExternalities,
	cases: &[Case<B>],
	baseline_name: &str,
	baseline: u128,
) {
	println!("benchmark | components | ns (median of {RUNS}) | baseline: {baseline_name} ns");
	for (name, select) in cases {
		let time = |components: &[(BenchmarkParameter, u32)]| {
			median_ns(&ext, || {
				let mut timer = Timer::default();
				select()
					.instance(&mut timer, components, true)
					.expect("the benchmark runs in the mock");
				timer.elapsed.as_nanos()
			})
		};
		let ranges = select().components();
		let low: Vec<_> = ranges.iter().map(|(param, low, _)| (*param, *low)).collect();
		println!("{name} | {low:?} | {} | {baseline}", time(&low));
		for (index, (param, _, high)) in ranges.iter().enumerate() {
			let mut at_high = low.clone();
			at_high[index] = (*param, *high);
			println!("{name} | {at_high:?} | {} | {baseline}", time(&at_high));
		}
	}
}
