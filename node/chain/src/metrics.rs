//! What the services' Prometheus metrics are made of. Each service registers its own
//! (`cairn_provider::metrics`, `cairn_files::metrics`), all named `cairn_*`, on the node's
//! Prometheus endpoint beside Substrate's (`--prometheus-port`, 9615 by default). Without the
//! endpoint (`--no-prometheus`) they are kept in a registry nobody reads.
//!
//! `docs/METRICS.md` lists them, with the dashboard (`docs/grafana/cairn.json`) and the alert
//! rules (`docs/prometheus/cairn-alerts.yml`) built on them.

use cairn_runtime::{currency::UNITS, Balance};
use substrate_prometheus_endpoint::{
	register, Counter, CounterVec, Gauge, Opts, PrometheusError, Registry, F64, U64,
};

/// A balance in CAIRN, as metrics show it.
pub fn in_cairn(planck: Balance) -> f64 {
	planck as f64 / UNITS as f64
}

pub fn counter(
	registry: &Registry,
	name: &str,
	help: &str,
) -> Result<Counter<U64>, PrometheusError> {
	register(Counter::new(name, help)?, registry)
}

pub fn counter_f64(
	registry: &Registry,
	name: &str,
	help: &str,
) -> Result<Counter<F64>, PrometheusError> {
	register(Counter::new(name, help)?, registry)
}

/// A counter per value of `label`, each exported from 0 (an alert on `increase()` sees the
/// first one counted, and dashboards show the outcomes that never happened).
pub fn counters(
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

pub fn gauge(registry: &Registry, name: &str, help: &str) -> Result<Gauge<U64>, PrometheusError> {
	register(Gauge::new(name, help)?, registry)
}

pub fn gauge_f64(
	registry: &Registry,
	name: &str,
	help: &str,
) -> Result<Gauge<F64>, PrometheusError> {
	register(Gauge::new(name, help)?, registry)
}

/// The registry to register on: the node's endpoint's, or one of its own that nobody reads.
pub fn or_private(registry: Option<&Registry>) -> Registry {
	registry.cloned().unwrap_or_default()
}
