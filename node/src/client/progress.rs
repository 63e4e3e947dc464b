//! Progress on standard error while a file moves: a bar with the bytes done, the rate and the time
//! left while bytes move, the stage in words between transfers (indicatif). It is drawn only when
//! standard error is a terminal: a script or a pipe sees none of it.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

/// What one progress update shows.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Shown {
	/// Bytes of a known total moved in `stage` (`sending`, `receiving`, …).
	Bytes { stage: String, done: u64, total: u64 },
	/// A stage without a byte count, in words.
	Words(String),
}

impl Shown {
	/// Reads an update as the node sends it (`cairn_upload`'s and `cairn_download`'s
	/// subscriptions) or as the HTTP client makes it: `stage`, with `sent` or `received` of
	/// `total` bytes, or `confirmed` of `shards`; of which `segment` of `segments` if the file
	/// is cut into several.
	pub(super) fn of(update: &Value) -> Self {
		let stage = update["stage"].as_str().unwrap_or("working");
		// A file cut into segments is stored one segment after the other.
		let stage = match (update["segment"].as_u64(), update["segments"].as_u64()) {
			(Some(segment), Some(segments)) => format!("{stage} {}/{segments}", segment + 1),
			_ => stage.to_string(),
		};
		let done = update["sent"].as_u64().or_else(|| update["received"].as_u64());
		match (done, update["total"].as_u64()) {
			(Some(done), Some(total)) if total > 0 => {
				Self::Bytes { stage, done: done.min(total), total }
			}
			_ => match (update["confirmed"].as_u64(), update["shards"].as_u64()) {
				(Some(confirmed), Some(shards)) => Self::Words(format!(
					"{stage}: {confirmed} of {shards} shards confirmed on chain"
				)),
				_ => Self::Words(stage),
			},
		}
	}
}

/// The bar of a transfer.
const BYTES: &str =
	"{msg:10} [{bar:30}] {percent:>3}% {bytes:>10} / {total_bytes:<10} {binary_bytes_per_sec:>12}, {eta} left";

/// A stage without a byte count.
const WORDS: &str = "{spinner} {msg} ({elapsed})";

/// Progress on standard error, hidden when it is not a terminal.
pub(super) struct Progress {
	bar: ProgressBar,
	/// What the bar shows now: a new stage starts a new rate and time left.
	showing: Option<Shown>,
}

impl Progress {
	pub(super) fn new() -> Self {
		Self::to(ProgressDrawTarget::stderr())
	}

	fn to(target: ProgressDrawTarget) -> Self {
		Self { bar: ProgressBar::with_draw_target(None, target), showing: None }
	}

	pub(super) fn show(&mut self, update: &Value) {
		let shown = Shown::of(update);
		match (&shown, &self.showing) {
			(
				Shown::Bytes { stage, total, done },
				Some(Shown::Bytes { stage: was, total: was_total, .. }),
			) if stage == was && total == was_total => {
				self.bar.set_position(*done);
				return;
			}
			(Shown::Bytes { stage, done, total }, _) => {
				self.bar.disable_steady_tick();
				self.bar.reset();
				self.bar.set_style(style(BYTES).progress_chars("#> "));
				self.bar.set_length(*total);
				self.bar.set_message(stage.clone());
				self.bar.set_position(*done);
			}
			(Shown::Words(words), _) => {
				self.bar.reset();
				self.bar.set_style(style(WORDS));
				self.bar.set_message(words.clone());
				self.bar.enable_steady_tick(Duration::from_millis(200));
			}
		}
		self.showing = Some(shown);
	}

	/// Clears the bar; what follows is printed on a clean line.
	pub(super) fn finish(&mut self) {
		self.bar.finish_and_clear();
		self.showing = None;
	}
}

impl Drop for Progress {
	fn drop(&mut self) {
		self.bar.finish_and_clear();
	}
}

fn style(template: &str) -> ProgressStyle {
	ProgressStyle::with_template(template).expect("the templates are checked by the tests")
}

#[cfg(test)]
mod tests {
	use super::*;
	use serde_json::json;

	#[test]
	fn updates_read_as_bytes_or_words() {
		let sending = Shown::of(&json!({ "stage": "sending", "sent": 512, "total": 1024 }));
		assert_eq!(sending, Shown::Bytes { stage: "sending".into(), done: 512, total: 1024 });
		let received = Shown::of(&json!({ "stage": "receiving", "received": 9, "total": 4 }));
		assert_eq!(received, Shown::Bytes { stage: "receiving".into(), done: 4, total: 4 });
		let confirming = Shown::of(&json!({ "stage": "confirming", "confirmed": 4, "shards": 6 }));
		assert_eq!(confirming, Shown::Words("confirming: 4 of 6 shards confirmed on chain".into()));
		assert_eq!(Shown::of(&json!({ "stage": "encoding" })), Shown::Words("encoding".into()));
		// A size not known yet (a body from standard input) has no bar.
		let unknown = Shown::of(&json!({ "stage": "sending", "sent": 5, "total": null }));
		assert_eq!(unknown, Shown::Words("sending".into()));
		let segment =
			json!({ "stage": "sending", "sent": 1, "total": 2, "segment": 1, "segments": 3 });
		let segment = Shown::of(&segment);
		assert_eq!(segment, Shown::Bytes { stage: "sending 2/3".into(), done: 1, total: 2 });
	}

	#[test]
	fn the_bar_shows_rate_and_time_left_and_clears() {
		for template in [BYTES, WORDS] {
			ProgressStyle::with_template(template).expect("a valid template");
		}
		let term = indicatif::InMemoryTerm::new(4, 120);
		let mut progress = Progress::to(ProgressDrawTarget::term_like(Box::new(term.clone())));
		progress.show(&json!({ "stage": "sending", "sent": 3u64 << 20, "total": 12u64 << 20 }));
		progress.bar.tick();
		let line = term.contents();
		assert!(line.starts_with("sending    [#######>"), "{line}");
		assert!(line.contains(" 25% ") && line.contains(" 3.00 MiB / 12.00 MiB "), "{line}");
		assert!(line.contains("/s, ") && line.ends_with(" left"), "{line}");
		progress.show(&json!({ "stage": "storing" }));
		progress.bar.tick();
		assert!(term.contents().contains("storing ("), "{}", term.contents());
		progress.finish();
		assert_eq!(term.contents(), "");
	}
}
