//! The provider service's metrics (`cairn_provider_*`); `docs/METRICS.md` lists them.

use substrate_prometheus_endpoint::{
	exponential_buckets, register, Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramOpts,
	Opts, PrometheusError, Registry, F64, U64,
};

use cairn_chain::metrics::{counter, counter_f64, counters, gauge, gauge_f64, or_private};

/// What the provider service does, and what it earns.
#[derive(Clone)]
pub struct ProviderMetrics {
	/// Our shards on chain at the best block, by status (`pending`, `active`).
	pub shards: GaugeVec<U64>,
	/// Shard bytes in the store (with puts in progress).
	pub stored_bytes: Gauge<U64>,
	/// Bytes the store may hold.
	pub capacity_bytes: Gauge<U64>,
	/// Bytes free on the file system that holds the store.
	pub disk_free_bytes: Gauge<U64>,
	/// Shards the prover can keep proven (from its measured pace, or the operator's limit).
	pub shard_limit: Gauge<U64>,
	/// Proofs by what became of them: `made`, `submitted`, `passed_over` (not makeable in
	/// time), `failed` (the data could not be read or proven); and, from finalized blocks,
	/// `accepted` and `rejected`.
	pub proofs: CounterVec<U64>,
	/// Periods of our shards that went unproven (each one slashed), from finalized blocks.
	pub missed_periods: Counter<U64>,
	/// Seconds one proof takes, from its data to its bytes.
	pub proving_seconds: Histogram,
	/// CAIRN paid to us for accepted proofs, from finalized blocks.
	pub earned: Counter<F64>,
	/// CAIRN of our stake slashed (missed periods and losses reported), from finalized blocks.
	pub slashed: Counter<F64>,
	/// Our stake on chain, in CAIRN.
	pub stake: Gauge<F64>,
	/// The stake our offered capacity requires, in CAIRN.
	pub stake_required: Gauge<F64>,
	/// Shard bytes read and checked by the scrub.
	pub scrub_bytes: Counter<U64>,
	/// Shards checked by the scrub, by result (`ok`, `damaged`, `unreadable`).
	pub scrub_shards: CounterVec<U64>,
	/// Shards reported lost by us.
	pub lost: Counter<U64>,
	/// Shard bytes received from buyers and stored.
	pub received_bytes: Counter<U64>,
	/// Shard bytes served to readers (`Get`).
	pub served_bytes: Counter<U64>,
}

impl ProviderMetrics {
	/// Registers the provider's metrics on `registry` (none: on a private one).
	pub fn register(registry: Option<&Registry>) -> Result<Self, PrometheusError> {
		let r = &or_private(registry);
		Ok(Self {
			shards: register(
				GaugeVec::new(
					Opts::new("cairn_provider_shards", "Our shards on chain, by status"),
					&["status"],
				)?,
				r,
			)?,
			stored_bytes: gauge(r, "cairn_provider_stored_bytes", "Shard bytes in the store")?,
			capacity_bytes: gauge(
				r,
				"cairn_provider_capacity_bytes",
				"Shard bytes the store may hold",
			)?,
			disk_free_bytes: gauge(
				r,
				"cairn_provider_disk_free_bytes",
				"Bytes free on the file system of the store",
			)?,
			shard_limit: gauge(
				r,
				"cairn_provider_shard_limit",
				"Shards the prover can keep proven, from its measured pace",
			)?,
			proofs: counters(
				r,
				"cairn_provider_proofs_total",
				"Proofs by outcome: made, submitted, passed_over, failed, accepted, rejected",
				"outcome",
				&["made", "submitted", "passed_over", "failed", "accepted", "rejected"],
			)?,
			missed_periods: counter(
				r,
				"cairn_provider_missed_periods_total",
				"Shard periods left unproven and slashed",
			)?,
			proving_seconds: register(
				Histogram::with_opts(
					HistogramOpts::new("cairn_provider_proving_seconds", "Seconds per proof")
						.buckets(exponential_buckets(0.25, 2.0, 10)?),
				)?,
				r,
			)?,
			earned: counter_f64(r, "cairn_provider_earned_cairn_total", "CAIRN earned by proofs")?,
			slashed: counter_f64(
				r,
				"cairn_provider_slashed_cairn_total",
				"CAIRN of stake slashed",
			)?,
			stake: gauge_f64(r, "cairn_provider_stake_cairn", "Stake on chain, in CAIRN")?,
			stake_required: gauge_f64(
				r,
				"cairn_provider_stake_required_cairn",
				"Stake the offered capacity requires, in CAIRN",
			)?,
			scrub_bytes: counter(r, "cairn_provider_scrub_bytes_total", "Bytes the scrub checked")?,
			scrub_shards: counters(
				r,
				"cairn_provider_scrub_shards_total",
				"Shards the scrub checked, by result: ok, damaged, unreadable",
				"result",
				&["ok", "damaged", "unreadable"],
			)?,
			lost: counter(r, "cairn_provider_lost_shards_total", "Shards reported lost")?,
			received_bytes: counter(
				r,
				"cairn_provider_received_bytes_total",
				"Shard bytes received and stored",
			)?,
			served_bytes: counter(
				r,
				"cairn_provider_served_bytes_total",
				"Shard bytes served to readers",
			)?,
		})
	}
}
