//! How many shards the provider can keep proven, and the capacity it offers the market.
//!
//! A proof costs the same for any shard (the circuit opens the same number of leaves of a tree
//! of fixed depth), so what a prover keeps proven is a number of shards: those it proves in
//! [`PROVING_SHARE`] of a period at the pace it measured. The other half is the margin. A
//! provider down for a whole period owes two periods' proofs in the next one, and the grace
//! window takes the late ones only if it can make twice its usual number; the pace is also
//! measured at one moment, and the machine may be busier later.
//!
//! The limit is kept in two ways:
//! - **on chain**, the capacity offered leaves room for no more shards than the limit allows:
//!   the bytes already used plus one largest shard for each shard still free (never more than
//!   the operator's `--provider-capacity`), so that buyers choose other providers once this one
//!   is full;
//! - **at assignment**, a pending shard beyond the limit (assigned before the chain's capacity
//!   caught up) is declined at once, so that its owner moves it elsewhere.
//!
//! Shards already active are never given up: if the pace drops below them, the prover proves
//! what it can, most urgent first ([`super::proving`]).

use std::time::{Duration, Instant};

use cairn_primitives::{
	field::fr_to_le_bytes,
	tree::{MemoryTree, MAX_SHARD_BYTES},
};
use cairn_prover::{prover::Prover, statement::ProofRequest, DEFAULT_CHALLENGES};
use cairn_runtime::BlockNumber;
use cairn_storage::store::ShardId;
use pallet_market::ShardStatus;
use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};

/// The share of a proving period the prover may be busy with the shards it takes.
pub(crate) const PROVING_SHARE: f64 = 0.5;

/// Shards proven in [`PROVING_SHARE`] of a period of `period_seconds` at `seconds` a proof.
pub(crate) fn provable_shards(seconds: f64, period_seconds: f64) -> u32 {
	if seconds <= 0.0 {
		return u32::MAX;
	}
	(period_seconds * PROVING_SHARE / seconds).floor().min(f64::from(u32::MAX)) as u32
}

/// The time `prover` takes for one proof, measured on a small shard made up for it (a proof
/// costs the same for any shard). Blocks for that time.
pub(crate) fn time_a_proof(prover: &Prover) -> Result<Duration, super::ProviderError> {
	let failed =
		|e: &dyn std::fmt::Display| super::ProviderError::Prover(format!("a timed proof: {e}"));
	let shard: Vec<u8> =
		(0..64 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
	let tree = MemoryTree::from_shard(&shard).map_err(|e| failed(&e))?;
	let request = ProofRequest {
		seed: [7; 32],
		provider: [0; 32],
		contract: 0,
		shard: 0,
		period: 0,
		root: fr_to_le_bytes(&tree.root()),
		shard_bytes: shard.len() as u64,
	};
	let statement = request.statement(DEFAULT_CHALLENGES).map_err(|e| failed(&e))?;
	let started = Instant::now();
	prover.prove(&tree, &statement, &mut ChaCha20Rng::from_entropy()).map_err(|e| failed(&e))?;
	Ok(started.elapsed())
}

/// Where the limit on the shards kept comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Limit {
	/// The operator's `--provider-max-shards`.
	Operator(u32),
	/// The pace measured here: `seconds` a proof, in periods of `period_blocks` blocks.
	Measured { shards: u32, seconds: f64, period_blocks: BlockNumber },
}

impl Limit {
	/// The limit of a prover taking `seconds` a proof, in periods of `period_blocks`.
	pub(crate) fn measured(seconds: f64, period_blocks: BlockNumber) -> Self {
		let block_seconds = cairn_runtime::time::MILLISECS_PER_BLOCK as f64 / 1000.0;
		let period_seconds = f64::from(period_blocks) * block_seconds;
		Self::Measured { shards: provable_shards(seconds, period_seconds), seconds, period_blocks }
	}

	pub(crate) fn shards(&self) -> u32 {
		match self {
			Self::Operator(shards) | Self::Measured { shards, .. } => *shards,
		}
	}

	/// Whether `other` says something new to the operator: another period, or a limit that
	/// moved by more than a tenth (the pace moves a little with every proof).
	pub(crate) fn differs(&self, other: &Self) -> bool {
		match (self, other) {
			(
				Self::Measured { shards: a, period_blocks: p, .. },
				Self::Measured { shards: b, period_blocks: q, .. },
			) => p != q || u64::from(a.abs_diff(*b)) * 10 > u64::from(*a),
			_ => self != other,
		}
	}
}

impl std::fmt::Display for Limit {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::Operator(shards) => write!(f, "{shards} shards (set by --provider-max-shards)"),
			Self::Measured { shards, seconds, period_blocks } => write!(
				f,
				"{shards} shards: a proof takes {seconds:.2} s here, and {:.0}% of a \
				 {period_blocks}-block proving period proves that many (the rest is the margin \
				 for catching up after downtime)",
				PROVING_SHARE * 100.0
			),
		}
	}
}

/// The capacity to offer on chain: `used` bytes and one largest shard for each of the `limit`
/// shards not yet `held`, at most `configured`, and never below `used` (which the chain
/// refuses) nor zero.
pub(crate) fn offered(configured: u64, limit: u32, held: usize, used: u64) -> u64 {
	let free = u64::from(limit).saturating_sub(held as u64);
	configured.min(used.saturating_add(free.saturating_mul(MAX_SHARD_BYTES))).max(used).max(1)
}

/// The capacity to set on chain, if `on_chain` is too far from `target`: above it by more than
/// the slack (buyers would assign shards the prover cannot keep; the slack, one largest shard or
/// an eighth, keeps the provider from sending a transaction for every shard it takes), or below
/// it by more than twice the slack (room freed by ended contracts).
pub(crate) fn update(on_chain: u64, target: u64) -> Option<u64> {
	let slack = MAX_SHARD_BYTES.max(target / 8);
	let too_high = on_chain > target.saturating_add(slack);
	let too_low = on_chain.saturating_add(2 * slack) < target;
	(too_high || too_low).then_some(target)
}

/// Our pending shards beyond `limit`, to decline: the active ones count first (they are never
/// given up), then the pending ones in the order of their contracts.
pub(crate) fn beyond(mine: &[super::OurShard], limit: u32) -> Vec<ShardId> {
	let active = mine.iter().filter(|(_, status)| *status == ShardStatus::Active).count();
	let mut pending: Vec<ShardId> = mine
		.iter()
		.filter(|(_, status)| matches!(status, ShardStatus::Pending { .. }))
		.map(|(id, _)| *id)
		.collect();
	pending.sort();
	let room = (limit as usize).saturating_sub(active);
	pending.into_iter().skip(room).collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	const GIB: u64 = 1 << 30;

	#[test]
	fn the_limit_is_the_shards_proven_in_half_a_period() {
		// 1.88 s a proof (the proving benchmark's figure), one-hour periods.
		assert_eq!(provable_shards(1.88, 3600.0), 957);
		// The test chain's 40 s periods at 12 s a proof: one shard.
		assert_eq!(provable_shards(12.0, 40.0), 1);
		assert_eq!(provable_shards(30.0, 40.0), 0);
		// Not measured yet: no limit from the pace.
		assert_eq!(provable_shards(0.0, 40.0), u32::MAX);
		let limit = Limit::measured(2.0, 600);
		assert_eq!(limit.shards(), 300);
		assert!(limit.to_string().starts_with("300 shards: a proof takes 2.00 s"), "{limit}");
		assert_eq!(Limit::Operator(7).shards(), 7);
		// 292 shards: not worth a line in the log; 240 or another period is.
		assert!(!limit.differs(&Limit::measured(2.05, 600)));
		assert!(limit.differs(&Limit::measured(2.5, 600)));
		assert!(limit.differs(&Limit::measured(2.0, 300)));
		assert!(Limit::measured(2.0, 6).differs(&Limit::measured(3.0, 6)));
	}

	#[test]
	fn the_offer_leaves_room_for_the_shards_the_prover_can_still_take() {
		// Far below the configured capacity: the limit decides.
		assert_eq!(offered(64 * GIB, 10, 0, 0), 10 * MAX_SHARD_BYTES);
		assert_eq!(offered(64 * GIB, 10, 4, 5 << 20), (5 << 20) + 6 * MAX_SHARD_BYTES);
		// The configured capacity is the most ever offered.
		assert_eq!(offered(GIB, 1000, 3, 1 << 20), GIB);
		// Full: only what is used, so that no buyer chooses it; never below the use, nor zero.
		assert_eq!(offered(64 * GIB, 8, 8, 512 << 10), 512 << 10);
		assert_eq!(offered(64 * GIB, 2, 8, 512 << 10), 512 << 10);
		assert_eq!(offered(64 * GIB, 0, 0, 0), 1);
	}

	#[test]
	fn the_chain_hears_of_the_offer_only_when_it_moved_by_more_than_the_slack() {
		// Up to eight largest shards, the slack is one of them.
		let target = 4 * MAX_SHARD_BYTES;
		assert_eq!(update(64 * GIB, target), Some(target));
		assert_eq!(update(target + MAX_SHARD_BYTES, target), None);
		assert_eq!(update(target + MAX_SHARD_BYTES + 1, target), Some(target));
		assert_eq!(update(target - 2 * MAX_SHARD_BYTES, target), None);
		assert_eq!(update(target - 2 * MAX_SHARD_BYTES - 1, target), Some(target));
		// Beyond, an eighth.
		let target = 80 * MAX_SHARD_BYTES;
		assert_eq!(update(target + 10 * MAX_SHARD_BYTES, target), None);
		assert_eq!(update(target + 11 * MAX_SHARD_BYTES, target), Some(target));
		// Full: one more largest shard of room on chain is tolerated, and declined if assigned.
		assert_eq!(update(MAX_SHARD_BYTES + 100, 100), None);
		assert_eq!(update(2 * MAX_SHARD_BYTES, 100), Some(100));
	}

	#[test]
	fn pending_shards_beyond_the_limit_are_declined_never_active_ones() {
		let id = ShardId::new;
		let pending = ShardStatus::Pending { deadline: 100 };
		let mine = vec![
			(id(9, 0), pending),
			(id(1, 2), ShardStatus::Active),
			(id(4, 1), pending),
			(id(2, 0), ShardStatus::Active),
			(id(3, 5), pending),
			(id(5, 0), ShardStatus::Vacant),
		];
		assert_eq!(beyond(&mine, 10), Vec::<ShardId>::new());
		assert_eq!(beyond(&mine, 4), vec![id(9, 0)]);
		assert_eq!(beyond(&mine, 3), vec![id(4, 1), id(9, 0)]);
		// Over the limit with active shards alone: every pending one goes, the active stay.
		assert_eq!(beyond(&mine, 1), vec![id(3, 5), id(4, 1), id(9, 0)]);
	}
}
