//! The client service's metrics (`cairn_client_*`); `docs/METRICS.md` lists them.

use substrate_prometheus_endpoint::{
	Counter, CounterVec, Gauge, PrometheusError, Registry, F64, U64,
};

use cairn_chain::metrics::{counter, counters, gauge, gauge_f64, or_private};

/// What the buyer's service (uploads, downloads, repairs) does.
#[derive(Clone)]
pub struct ClientMetrics {
	/// Uploads by outcome (`sent`: contract made and shards sent; `failed`).
	pub uploads: CounterVec<U64>,
	/// File bytes of complete uploads.
	pub uploaded_bytes: Counter<U64>,
	/// Coded shard bytes pushed to providers (uploads and repairs).
	pub shard_bytes_sent: Counter<U64>,
	/// Downloads by outcome (`complete`, `failed`).
	pub downloads: CounterVec<U64>,
	/// File bytes downloaded.
	pub downloaded_bytes: Counter<U64>,
	/// Shards of our contracts waiting for repair (lost, unconfirmed past their deadline, or
	/// waiting for data a new provider must get), at the best block.
	pub repair_queue: Gauge<U64>,
	/// Repairs by outcome: `reassigned` (moved to a new provider), `sent` (rebuilt and sent),
	/// `failed` (not rebuilt yet; retried).
	pub repairs: CounterVec<U64>,
	/// Our open contracts at the best block.
	pub contracts: Gauge<U64>,
	/// Escrow held by our open contracts, in CAIRN.
	pub escrow: Gauge<F64>,
}

impl ClientMetrics {
	/// Registers the client's metrics on `registry` (none: on a private one).
	pub fn register(registry: Option<&Registry>) -> Result<Self, PrometheusError> {
		let r = &or_private(registry);
		Ok(Self {
			uploads: counters(
				r,
				"cairn_client_uploads_total",
				"Uploads by outcome",
				"outcome",
				&["sent", "failed"],
			)?,
			uploaded_bytes: counter(
				r,
				"cairn_client_uploaded_bytes_total",
				"File bytes of complete uploads",
			)?,
			shard_bytes_sent: counter(
				r,
				"cairn_client_shard_bytes_sent_total",
				"Shard bytes pushed to providers",
			)?,
			downloads: counters(
				r,
				"cairn_client_downloads_total",
				"Downloads by outcome",
				"outcome",
				&["complete", "failed"],
			)?,
			downloaded_bytes: counter(
				r,
				"cairn_client_downloaded_bytes_total",
				"File bytes downloaded",
			)?,
			repair_queue: gauge(
				r,
				"cairn_client_repair_queue",
				"Shards of our contracts waiting for repair",
			)?,
			repairs: counters(
				r,
				"cairn_client_repairs_total",
				"Repairs by outcome: reassigned, sent, failed",
				"outcome",
				&["reassigned", "sent", "failed"],
			)?,
			contracts: gauge(r, "cairn_client_contracts", "Our open contracts")?,
			escrow: gauge_f64(
				r,
				"cairn_client_escrow_cairn",
				"Escrow held by our open contracts, in CAIRN",
			)?,
		})
	}
}
