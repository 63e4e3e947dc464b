//! How likely a file is to outlive a year on the market, and the coding an upload gets when
//! its caller names none: the model of `docs/DURABILITY.md`.
//!
//! Each of a file's `n = k + m` shards is lost when its provider leaves with it, at a rate set
//! by the providers' churn; a lost shard is rebuilt from `k` others within the repair time. The
//! file is lost when `m + 1` of its shards are lost at once. With churn much slower than repair,
//! the rate of that is the product of the `m + 1` losses' rates over the repairs that race them:
//!
//! `rate = Π_{i=0..=m} (n − i)·λ / (m! · μ^m)`, and a year's loss is `1 − e^{−rate·year}`,
//!
//! where `λ` is a shard's loss rate and `μ` a repair's. (The docs check it against the exact
//! Markov chain: they agree within a tenth of a nine where it matters.)

/// What the model assumes of the network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assumptions {
	/// Share of providers that leave with their data in a month.
	pub churn_per_month: f64,
	/// Hours from a shard's loss to its rebuilt copy being stored elsewhere.
	pub repair_hours: f64,
}

/// What Cairn plans for: a tenth of the providers gone each month, and a day to repair (the
/// chain declares a dead provider's shard lost within five proving periods, five hours, and
/// the owner's node, which may be offline for part of a day, rebuilds it).
pub const PLANNED: Assumptions = Assumptions { churn_per_month: 0.10, repair_hours: 24.0 };

/// Nines of a year's survival an upload should reach under [`PLANNED`]; below it, the upload
/// says so.
pub const TARGET_NINES: f64 = 6.0;

/// The codings an upload picks from when its caller names none, widest first: the first one
/// the market has eligible providers for. Only the first two reach [`TARGET_NINES`].
pub const CODINGS: [(u8, u8); 4] = [(10, 6), (8, 4), (6, 3), (4, 2)];

const HOURS_PER_MONTH: f64 = 730.0;
const HOURS_PER_YEAR: f64 = 8_760.0;

/// The probability that a file coded `k + m` is lost within a year.
pub fn yearly_loss(k: u8, m: u8, assumptions: &Assumptions) -> f64 {
	let n = f64::from(k) + f64::from(m);
	// A provider that stays a month with probability `1 − churn` leaves at this rate.
	let lambda = -(1.0 - assumptions.churn_per_month).ln() / HOURS_PER_MONTH;
	let mu = 1.0 / assumptions.repair_hours;
	let mut rate = 1.0;
	for i in 0..=m {
		rate *= (n - f64::from(i)) * lambda;
	}
	for i in 1..=m {
		rate /= f64::from(i) * mu;
	}
	-(-rate * HOURS_PER_YEAR).exp_m1()
}

/// Nines of a year's survival of a file coded `k + m` (`−log10` of [`yearly_loss`]).
pub fn nines(k: u8, m: u8, assumptions: &Assumptions) -> f64 {
	-yearly_loss(k, m, assumptions).log10()
}

/// What an upload says of its coding: the nines it reaches under [`PLANNED`] and, below
/// [`TARGET_NINES`], a warning.
pub fn report(k: u8, m: u8) -> (f64, Option<String>) {
	let nines = nines(k, m, &PLANNED);
	let warning = (nines < TARGET_NINES).then(|| {
		format!(
			"{k}+{m} coding keeps a file through a year with {nines:.1} nines (a {:.2} % chance \
			 of loss) if a tenth of the providers leave each month and repairs take a day; \
			 {TARGET_NINES:.0} nines need a wider coding (8+4 or 10+6), which needs more \
			 providers",
			100.0 * yearly_loss(k, m, &PLANNED)
		)
	});
	(nines, warning)
}

#[cfg(test)]
mod tests {
	use super::*;

	/// The exact chance of loss within `hours`, from the Markov chain of lost-and-unrepaired
	/// shards (uniformized), to check the closed form against.
	fn exact_loss(k: u8, m: u8, assumptions: &Assumptions, hours: f64) -> f64 {
		let n = f64::from(k) + f64::from(m);
		let lambda = -(1.0 - assumptions.churn_per_month).ln() / HOURS_PER_MONTH;
		let mu = 1.0 / assumptions.repair_hours;
		let states = usize::from(m) + 2;
		let mut q = vec![vec![0.0; states]; states];
		for i in 0..=usize::from(m) {
			q[i][i + 1] += (n - i as f64) * lambda;
			q[i][i] -= (n - i as f64) * lambda;
			if i > 0 {
				q[i][i - 1] += i as f64 * mu;
				q[i][i] -= i as f64 * mu;
			}
		}
		let rate = (0..states).map(|i| -q[i][i]).fold(0.0, f64::max) * 1.01;
		let step = |v: &[f64]| -> Vec<f64> {
			(0..states)
				.map(|b| {
					(0..states)
						.map(|a| v[a] * (if a == b { 1.0 } else { 0.0 } + q[a][b] / rate))
						.sum()
				})
				.collect()
		};
		// Σ_j Poisson(j; mean) · P(absorbed after j steps), the weights in logarithms (e^−mean
		// alone underflows).
		let mean = rate * hours;
		let (mut v, mut log_weight, mut lost) = (vec![0.0; states], -mean, 0.0);
		v[0] = 1.0;
		let terms = (mean + 12.0 * mean.sqrt() + 50.0) as usize;
		for j in 1..=terms {
			lost += log_weight.exp() * v[states - 1];
			v = step(&v);
			log_weight += mean.ln() - (j as f64).ln();
		}
		lost
	}

	#[test]
	fn the_closed_form_agrees_with_the_chain() {
		for (k, m) in CODINGS {
			for repair_hours in [5.0, 24.0, 72.0] {
				let assumptions = Assumptions { churn_per_month: 0.10, repair_hours };
				let closed = -yearly_loss(k, m, &assumptions).log10();
				let exact = -exact_loss(k, m, &assumptions, HOURS_PER_YEAR).log10();
				assert!(
					(closed - exact).abs() < 0.25,
					"{k}+{m}, {repair_hours} h: {closed:.2} against {exact:.2} nines"
				);
			}
		}
	}

	#[test]
	fn wider_codings_and_faster_repairs_keep_more() {
		let by_coding: Vec<f64> = CODINGS.iter().map(|&(k, m)| nines(k, m, &PLANNED)).collect();
		assert!(by_coding.windows(2).all(|w| w[0] > w[1]), "{by_coding:?}");
		let fast = Assumptions { repair_hours: 5.0, ..PLANNED };
		assert!(nines(4, 2, &fast) > nines(4, 2, &PLANNED) + 1.0);
		// No parity: the first loss loses the file (about 1 − 0.9^(12·4) ≈ 99 % a year).
		assert!(yearly_loss(4, 0, &PLANNED) > 0.99);
	}

	#[test]
	fn only_the_wide_defaults_reach_the_target_and_the_others_warn() {
		let (wide, none) = report(10, 6);
		assert!(wide > 9.0 && none.is_none(), "{wide}");
		assert!(report(8, 4).1.is_none());
		let (narrow, warning) = report(4, 2);
		assert!((2.5..3.5).contains(&narrow), "{narrow}");
		assert!(warning.is_some_and(|w| w.contains("4+2") && w.contains("nines")));
		assert!(report(6, 3).1.is_some());
	}
}
