//! What the finalized chain says of this provider: proofs accepted and refused, periods missed,
//! losses reported, payments and slashes, counted in the provider's metrics. Only finalized
//! blocks count, each once, so that a reorganisation never counts a payment twice.

use std::sync::Arc;

use cairn_runtime::{AccountId, RuntimeEvent};
use futures::StreamExt;
use pallet_market::Event;
use sc_client_api::BlockchainEvents;

use super::Provider;
use {crate::metrics::ProviderMetrics, cairn_chain::metrics::in_cairn};

impl Provider {
	/// Counts the events of every finalized block, for as long as the node runs.
	pub(super) async fn follow_finalized(self: Arc<Self>) {
		let me = self.signer.account();
		let mut finalized = self.state.client().finality_notification_stream();
		while let Some(notification) = finalized.next().await {
			// The blocks finalized along with this one, oldest first, then this one.
			for hash in notification.tree_route.iter().chain([&notification.hash]) {
				match self.state.events(*hash) {
					Ok(records) => {
						count(&self.metrics, &me, records.iter().map(|record| &record.event))
					}
					Err(error) => {
						log::warn!(target: "cairn-provider", "events of block {hash:?}: {error}")
					}
				}
			}
		}
	}
}

/// Counts in `metrics` the market events of `events` that concern provider `me`.
fn count<'a>(
	metrics: &ProviderMetrics,
	me: &AccountId,
	events: impl Iterator<Item = &'a RuntimeEvent>,
) {
	for event in events {
		let RuntimeEvent::Market(event) = event else { continue };
		match event {
			Event::ProofAccepted { provider, payment, .. } if provider == me => {
				metrics.proofs.with_label_values(&["accepted"]).inc();
				metrics.earned.inc_by(in_cairn(*payment));
			}
			Event::ProofRejected { provider, .. } if provider == me => {
				metrics.proofs.with_label_values(&["rejected"]).inc();
			}
			Event::ShardFaulted { provider, missed, slashed, .. } if provider == me => {
				metrics.missed_periods.inc_by(u64::from(*missed));
				metrics.slashed.inc_by(in_cairn(*slashed));
			}
			Event::LossReported { provider, slashed, .. } if provider == me => {
				metrics.lost.inc();
				metrics.slashed.inc_by(in_cairn(*slashed));
			}
			_ => {}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use cairn_runtime::currency::UNITS;
	use sp_runtime::DispatchError;

	#[test]
	fn only_our_proofs_payments_and_slashes_count() {
		let metrics = ProviderMetrics::register(None).unwrap();
		let (me, other) = (AccountId::from([1; 32]), AccountId::from([2; 32]));
		let accepted = |provider: &AccountId, payment| {
			RuntimeEvent::Market(Event::ProofAccepted {
				contract: 1,
				shard: 0,
				period: 3,
				provider: provider.clone(),
				payment,
			})
		};
		let events = [
			accepted(&me, UNITS / 2),
			accepted(&me, UNITS),
			accepted(&other, 7 * UNITS),
			RuntimeEvent::Market(Event::ProofRejected {
				contract: 1,
				shard: 1,
				period: 3,
				provider: me.clone(),
				reason: DispatchError::Other("stale"),
			}),
			RuntimeEvent::Market(Event::ShardFaulted {
				contract: 2,
				shard: 0,
				provider: me.clone(),
				missed: 2,
				through: 3,
				slashed: UNITS / 4,
				compensation: 0,
			}),
			RuntimeEvent::Market(Event::ShardFaulted {
				contract: 2,
				shard: 1,
				provider: other.clone(),
				missed: 5,
				through: 3,
				slashed: UNITS,
				compensation: 0,
			}),
			RuntimeEvent::Market(Event::LossReported {
				contract: 4,
				shard: 2,
				provider: me.clone(),
				slashed: UNITS / 4,
				compensation: 0,
			}),
		];
		count(&metrics, &me, events.iter());
		assert_eq!(metrics.proofs.with_label_values(&["accepted"]).get(), 2);
		assert_eq!(metrics.proofs.with_label_values(&["rejected"]).get(), 1);
		assert_eq!(metrics.earned.get(), 1.5);
		assert_eq!(metrics.missed_periods.get(), 2);
		assert_eq!(metrics.lost.get(), 1);
		assert_eq!(metrics.slashed.get(), 0.5);
	}
}
