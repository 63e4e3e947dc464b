//! The node's own Prometheus metrics, all named `cairn_*`: the provider service's
//! ([`cairn_provider::metrics`]) and the client service's ([`cairn_files::metrics`]), served on
//! the node's Prometheus endpoint beside Substrate's. These tests hold them to the documents
//! built on them: `docs/METRICS.md`, the dashboard (`docs/grafana/cairn.json`) and the alert
//! rules (`docs/prometheus/cairn-alerts.yml`).

#[cfg(test)]
mod tests {
	use cairn_files::metrics::ClientMetrics;
	use cairn_provider::metrics::ProviderMetrics;
	use substrate_prometheus_endpoint::Registry;

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
