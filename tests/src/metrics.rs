//! A node's Prometheus metrics, scraped from its endpoint and parsed from the text format.

use anyhow::{ensure, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One scrape: every sample, with its labels.
#[derive(Debug, Default)]
pub struct Metrics {
	samples: Vec<Sample>,
}

#[derive(Debug)]
struct Sample {
	name: String,
	labels: Vec<(String, String)>,
	value: f64,
}

impl Metrics {
	/// Scrapes `http://127.0.0.1:{port}/metrics`.
	pub async fn scrape(port: u16) -> anyhow::Result<Self> {
		let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
			.await
			.with_context(|| format!("the Prometheus endpoint on port {port}"))?;
		let request =
			format!("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
		stream.write_all(request.as_bytes()).await?;
		let mut response = String::new();
		stream.read_to_string(&mut response).await?;
		let (head, body) = response.split_once("\r\n\r\n").context("no end of headers")?;
		ensure!(head.starts_with("HTTP/1.1 200"), "GET /metrics: {head}");
		Ok(Self::parse(body))
	}

	/// Parses the text format; lines that are not samples are skipped.
	pub fn parse(text: &str) -> Self {
		let samples = text
			.lines()
			.filter(|line| !line.starts_with('#'))
			.filter_map(|line| {
				let (series, value) = line.trim().rsplit_once(' ')?;
				let value = value.parse().ok()?;
				let (name, labels) = match series.split_once('{') {
					Some((name, labels)) => (name, labels.strip_suffix('}')?),
					None => (series, ""),
				};
				let labels = labels
					.split(',')
					.filter(|pair| !pair.is_empty())
					.filter_map(|pair| {
						let (key, value) = pair.split_once('=')?;
						Some((key.to_string(), value.trim_matches('"').to_string()))
					})
					.collect();
				Some(Sample { name: name.to_string(), labels, value })
			})
			.collect();
		Self { samples }
	}

	/// The sum of the samples of `name` that carry every label of `labels` (`None` when there
	/// is none).
	pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
		let matching: Vec<f64> = self
			.samples
			.iter()
			.filter(|sample| sample.name == name)
			.filter(|sample| {
				labels
					.iter()
					.all(|(key, value)| sample.labels.iter().any(|(k, v)| k == key && v == value))
			})
			.map(|sample| sample.value)
			.collect();
		(!matching.is_empty()).then(|| matching.iter().sum())
	}

	/// Like [`Self::get`], but 0 when absent.
	pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
		self.get(name, labels).unwrap_or(0.0)
	}

	/// Whether any sample is named `name`.
	pub fn has(&self, name: &str) -> bool {
		self.samples.iter().any(|sample| sample.name == name)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn samples_are_read_with_their_labels() {
		let metrics = Metrics::parse(
			"# HELP cairn_provider_proofs_total Proofs\n\
			 # TYPE cairn_provider_proofs_total counter\n\
			 cairn_provider_proofs_total{chain=\"local\",outcome=\"accepted\"} 3\n\
			 cairn_provider_proofs_total{chain=\"local\",outcome=\"made\"} 5\n\
			 cairn_provider_earned_cairn_total{chain=\"local\"} 0.25\n\
			 substrate_block_height{status=\"best\"} 12\n",
		);
		assert_eq!(
			metrics.get("cairn_provider_proofs_total", &[("outcome", "accepted")]),
			Some(3.0)
		);
		assert_eq!(metrics.get("cairn_provider_proofs_total", &[]), Some(8.0));
		assert_eq!(metrics.value("cairn_provider_earned_cairn_total", &[]), 0.25);
		assert_eq!(metrics.get("cairn_provider_proofs_total", &[("outcome", "late")]), None);
		assert!(metrics.has("substrate_block_height"));
	}
}
