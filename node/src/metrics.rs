//! The node's own Prometheus metrics, all named `cairn_*`, served on the node's Prometheus
//! endpoint beside Substrate's (`--prometheus-port`, 9615 by default). Without the endpoint
//! (`--no-prometheus`) they are kept in a registry nobody reads.
//!
//! `docs/METRICS.md` lists them, with the dashboard (`docs/grafana/cairn.json`) and the alert
//! rules (`docs/prometheus/alerts.yml`) built on them.

use cairn_runtime::{currency::UNITS, Balance};
use substrate_prometheus_endpoint::{
	exponential_buckets, register, Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramOpts,
	Opts, PrometheusError, Registry, F64, U64,
};

/// A balance in CAIRN, as metrics show it.
pub fn in_cairn(planck: Balance) -> f64 {
	planck as f64 / UNITS as f64
}

fn counter(registry: &Registry, name: &str, help: &str) -> Result<Counter<U64>, PrometheusError> {
	register(Counter::new(name, help)?, registry)
}

fn counter_f64(
	registry: &Registry,
	name: &str,
	help: &str,
) -> Result<Counter<F64>, PrometheusError> {
	register(Counter::new(name, help)?, registry)
}

/// A counter per value of `label`, each exported from 0 (an alert on `increase()` sees the
/// first one counted, and dashboards show the outcomes that never happened).
fn counters(
	registry: &Registry,
	name: &str,
	help: &str,
	label: &str,
	values: &[&str],
) -> Result<CounterVec<U64>, PrometheusError> {
	let counters = register(CounterVec::new(Opts::new(name, help), &[label])?, registry)?;
	for value in values {
		counters.with_label_values(&[value]);
	}
	Ok(counters)
}

fn gauge(registry: &Registry, name: &str, help: &str) -> Result<Gauge<U64>, PrometheusError> {
	register(Gauge::new(name, help)?, registry)
}

fn gauge_f64(registry: &Registry, name: &str, help: &str) -> Result<Gauge<F64>, PrometheusError> {
	register(Gauge::new(name, help)?, registry)
}

/// The registry to register on: the node's endpoint's, or one of its own that nobody reads.
fn or_private(registry: Option<&Registry>) -> Registry {
	registry.cloned().unwrap_or_default()
}

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

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn every_metric_is_registered_under_cairn_and_once() {
		let registry = Registry::new();
		ProviderMetrics::register(Some(&registry)).unwrap();
		ClientMetrics::register(Some(&registry)).unwrap();
		let families = registry.gather();
		// Labelled families appear once a label is used; the rest right away.
		assert!(families.len() >= 15, "{} families", families.len());
		for family in families {
			assert!(family.get_name().starts_with("cairn_"), "{}", family.get_name());
		}
		// A second service on the same registry is refused, not counted twice.
		assert!(ProviderMetrics::register(Some(&registry)).is_err());
	}

	#[test]
	fn every_outcome_is_exported_at_zero_before_it_first_happens() {
		let registry = Registry::new();
		ProviderMetrics::register(Some(&registry)).unwrap();
		ClientMetrics::register(Some(&registry)).unwrap();
		let outcomes = |name: &str| -> Vec<(String, f64)> {
			let family = registry.gather().into_iter().find(|f| f.get_name() == name).unwrap();
			family
				.get_metric()
				.iter()
				.map(|m| (m.get_label()[0].get_value().to_string(), m.get_counter().get_value()))
				.collect()
		};
		let proofs = outcomes("cairn_provider_proofs_total");
		assert_eq!(proofs.len(), 6, "{proofs:?}");
		assert!(proofs.iter().all(|(_, value)| *value == 0.0), "{proofs:?}");
		assert!(proofs.iter().any(|(outcome, _)| outcome == "passed_over"), "{proofs:?}");
		assert_eq!(outcomes("cairn_provider_scrub_shards_total").len(), 3);
		assert_eq!(outcomes("cairn_client_uploads_total").len(), 2);
		assert_eq!(outcomes("cairn_client_downloads_total").len(), 2);
		assert_eq!(outcomes("cairn_client_repairs_total").len(), 3);
	}

	/// The names of every series the node exports (a histogram's three among them).
	fn exported() -> std::collections::BTreeSet<String> {
		let registry = Registry::new();
		let provider = ProviderMetrics::register(Some(&registry)).unwrap();
		ClientMetrics::register(Some(&registry)).unwrap();
		// The labelled counters list their outcomes from the start; the shards gauge is listed
		// once it is set.
		provider.shards.with_label_values(&["active"]);
		let mut names = std::collections::BTreeSet::new();
		for family in registry.gather() {
			let name = family.get_name();
			if family.get_field_type()
				== substrate_prometheus_endpoint::prometheus::proto::MetricType::HISTOGRAM
			{
				for suffix in ["_bucket", "_sum", "_count"] {
					names.insert(format!("{name}{suffix}"));
				}
			} else {
				names.insert(name.to_string());
			}
		}
		names
	}

	/// Every `cairn_*` name in `text`.
	fn named_in(text: &str) -> Vec<String> {
		let mut names = Vec::new();
		let mut rest = text;
		while let Some(at) = rest.find("cairn_") {
			let before = text.len() - rest.len() + at;
			let word = &text[before..];
			let end = word
				.find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
				.unwrap_or(word.len());
			let glued = text[..before].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
			if !glued {
				names.push(word[..end].to_string());
			}
			rest = &word[end..];
		}
		names
	}

	#[test]
	fn the_dashboard_loads_and_shows_every_metric_the_node_exports() {
		let exported = exported();
		let dashboard: serde_json::Value =
			serde_json::from_str(include_str!("../../docs/grafana/cairn.json"))
				.expect("the dashboard is JSON");
		assert_eq!(dashboard["uid"], "cairn-node");
		assert!(dashboard["schemaVersion"].as_u64() >= Some(36));
		assert_eq!(dashboard["__inputs"][0]["pluginId"], "prometheus");
		let panels = dashboard["panels"].as_array().expect("panels");
		let mut ids = std::collections::HashSet::new();
		let mut shown = std::collections::BTreeSet::new();
		for panel in panels {
			let title = panel["title"].as_str().expect("every panel has a title");
			assert!(ids.insert(panel["id"].as_u64().expect("an id")), "{title}: id used twice");
			let grid = &panel["gridPos"];
			let (x, w) = (grid["x"].as_u64().expect("x"), grid["w"].as_u64().expect("w"));
			assert!(x + w <= 24 && grid["h"].as_u64() > Some(0), "{title}: off the grid");
			if panel["type"] == "row" {
				continue;
			}
			let targets = panel["targets"].as_array().expect("targets");
			assert!(!targets.is_empty(), "{title}: no query");
			for target in targets {
				let expr = target["expr"].as_str().expect("a query");
				for name in named_in(expr) {
					assert!(exported.contains(&name), "{title}: {name} is not exported");
					shown.insert(name.trim_end_matches("_bucket").to_string());
				}
			}
		}
		for name in &exported {
			let family = name.trim_end_matches("_bucket");
			let histogram_part = name.ends_with("_sum") || name.ends_with("_count");
			assert!(
				shown.contains(family) || histogram_part,
				"{name} is exported but not on the dashboard"
			);
		}
	}

	#[test]
	fn the_alert_rules_name_only_exported_metrics() {
		let exported = exported();
		let rules = include_str!("../../docs/prometheus/cairn-alerts.yml");
		let expressions: Vec<&str> =
			rules.lines().filter_map(|line| line.trim().strip_prefix("expr:")).collect();
		assert!(expressions.len() >= 6, "{} rules", expressions.len());
		for expr in expressions {
			let names = named_in(expr);
			assert!(!names.is_empty(), "{expr}: no Cairn metric");
			for name in names {
				assert!(exported.contains(&name), "{expr}: {name} is not exported");
			}
		}
	}
}
