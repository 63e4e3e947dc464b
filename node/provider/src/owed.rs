//! What the provider owes the chain: a proof for every active shard of its own in the current
//! period and in each earlier period still in its grace window ([`GRACE_PERIODS`]) that the chain
//! has not seen proven, each a [`Job`] with a deadline, most urgent first. The rule is the
//! pallet's, read from the contracts as the runtime API gives them.

use cairn_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Hash, Runtime};
use cairn_storage::store::ShardId;
use pallet_market::{
	ContractOf, PeriodIndex, PeriodInfo, Shard, ShardSpec, ShardStatus, GRACE_PERIODS,
};

use super::shard_id;
use cairn_chain::market_state::{MarketClient, MarketState, Unreadable};

/// A proof due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Job {
	pub id: ShardId,
	pub period: PeriodIndex,
	/// The first block that no longer takes the proof.
	pub deadline: BlockNumber,
	/// The shard's faults since its last proof: the more, the nearer it is to being lost.
	pub faults: u32,
	pub spec: ShardSpec,
	pub seed: [u8; 32],
}

/// The periods a proof may be sent for at a block: the current one last, after those still in
/// their grace window.
pub struct Window {
	periods: Vec<(PeriodIndex, PeriodInfo<BlockNumber>)>,
}

impl Window {
	/// `periods`, oldest first, ending with the current one.
	fn new(periods: Vec<(PeriodIndex, PeriodInfo<BlockNumber>)>) -> Option<Self> {
		(!periods.is_empty()).then_some(Self { periods })
	}

	/// The periods proofs may be sent for at `at` (none before the first period opens).
	pub fn read<C, B>(state: &MarketState<C, B>, at: Hash) -> Result<Option<Self>, Unreadable>
	where
		C: MarketClient<B>,
		B: sc_client_api::Backend<Block> + Send + Sync + 'static,
	{
		let Some((current, info)) = state.current_period(at)? else { return Ok(None) };
		let mut periods = Vec::new();
		for period in current.saturating_sub(GRACE_PERIODS)..current {
			if let Some(info) = state.period(at, period)? {
				periods.push((period, info));
			}
		}
		periods.push((current, info));
		Ok(Self::new(periods))
	}

	/// The periods, oldest first, ending with the current one.
	pub fn periods(&self) -> &[(PeriodIndex, PeriodInfo<BlockNumber>)] {
		&self.periods
	}

	pub fn current(&self) -> PeriodIndex {
		self.periods.last().map_or(0, |(period, _)| *period)
	}

	pub(super) fn oldest(&self) -> PeriodIndex {
		self.periods.first().map_or(0, |(period, _)| *period)
	}

	/// The block that opens period `current + GRACE_PERIODS + 1 - (current - period)`, from
	/// which a proof of `period` is refused; later periods are taken to be as long as the
	/// current one.
	pub fn deadline(&self, period: PeriodIndex) -> BlockNumber {
		let Some((current, info)) = self.periods.last() else { return 0 };
		let periods_left = (period + GRACE_PERIODS + 1).saturating_sub(*current);
		info.start.saturating_add(info.length.saturating_mul(periods_left))
	}
}

/// The proofs `me` owes in `window`, most urgent first.
pub(super) fn plan(
	contracts: &[(u64, ContractOf<Runtime>)],
	me: &AccountId,
	window: &Window,
) -> Vec<Job> {
	let mut jobs = Vec::new();
	for (id, contract) in contracts {
		for (index, shard) in contract.shards.iter().enumerate() {
			for (period, info) in &window.periods {
				if owes(contract, shard, me, (*period, info), window.current()) {
					jobs.push(Job {
						id: shard_id(*id, index as u32),
						period: *period,
						deadline: window.deadline(*period),
						faults: shard.consecutive_faults,
						spec: shard.spec.clone(),
						seed: info.seed,
					});
				}
			}
		}
	}
	jobs.sort_by(|a, b| {
		(a.deadline, std::cmp::Reverse(a.faults), a.id).cmp(&(
			b.deadline,
			std::cmp::Reverse(b.faults),
			b.id,
		))
	});
	jobs
}

/// Whether `me` owes the chain, in period `current`, a proof of `period` for `shard` of
/// `contract`: the chain takes it ([`wanted`]), the period began before the contract's end, and
/// its proofs can be verified (a period without a verifying key is never faulted).
pub fn owes(
	contract: &ContractOf<Runtime>,
	shard: &Shard<AccountId, Balance, BlockNumber>,
	me: &AccountId,
	(period, info): (PeriodIndex, &PeriodInfo<BlockNumber>),
	current: PeriodIndex,
) -> bool {
	wanted(shard, me, period, current) && info.start < contract.end && info.verifiable
}

/// Whether the chain, in period `current`, takes a proof of `period` for `shard` from `me`: the
/// shard is `me`'s and active, the period is open and not proven or settled. (Checked again just
/// before a batch goes out: the pool refuses a batch whole for one proof it does not take.)
pub(super) fn wanted(
	shard: &Shard<AccountId, Balance, BlockNumber>,
	me: &AccountId,
	period: PeriodIndex,
	current: PeriodIndex,
) -> bool {
	shard.provider == *me
		&& shard.status == ShardStatus::Active
		&& !shard.is_proven(period)
		&& period > shard.settled_through
		&& period <= current
		&& period + GRACE_PERIODS >= current
}

#[cfg(test)]
mod tests {
	use super::*;
	use cairn_chain::fixtures::{contract, shard};
	use sp_runtime::AccountId32;

	fn info(start: BlockNumber) -> PeriodInfo<BlockNumber> {
		PeriodInfo { start, length: 20, seed: [start as u8; 32], verifiable: true }
	}

	#[test]
	fn the_oldest_period_and_the_most_faulted_shard_go_first() {
		let me = AccountId32::new([1; 32]);
		let other = AccountId32::new([2; 32]);
		// Period 4 (blocks 80..100) is in its grace; period 5 (100..120) is current.
		let window = Window::new(vec![(4, info(80)), (5, info(100))]).unwrap();
		assert_eq!(window.deadline(4), 120);
		assert_eq!(window.deadline(5), 140);
		let mut proven = shard(&me, 3, 0);
		proven.record_proof(4);
		let contracts = vec![
			(0, contract(vec![shard(&me, 3, 0), shard(&other, 3, 0), shard(&me, 3, 2)], 1_000)),
			// Confirmed in period 4: only period 5 is due.
			(1, contract(vec![shard(&me, 4, 0)], 1_000)),
			// Period 4 proven already.
			(2, contract(vec![proven], 1_000)),
			// Ends before period 5 opens.
			(3, contract(vec![shard(&me, 3, 0)], 100)),
		];
		let order: Vec<(u64, u32, PeriodIndex)> = plan(&contracts, &me, &window)
			.into_iter()
			.map(|job| (job.id.contract, job.id.index, job.period))
			.collect();
		assert_eq!(
			order,
			vec![(0, 2, 4), (0, 0, 4), (3, 0, 4), (0, 2, 5), (0, 0, 5), (1, 0, 5), (2, 0, 5)]
		);
	}

	#[test]
	fn a_period_without_a_key_or_a_lost_shard_is_not_proven() {
		let me = AccountId32::new([1; 32]);
		let mut keyless = info(100);
		keyless.verifiable = false;
		let window = Window::new(vec![(5, keyless)]).unwrap();
		let mut lost = shard(&me, 3, 0);
		lost.status = ShardStatus::Lost;
		let contracts = vec![(0, contract(vec![shard(&me, 3, 0)], 1_000))];
		assert!(plan(&contracts, &me, &window).is_empty());
		let window = Window::new(vec![(5, info(100))]).unwrap();
		assert!(plan(&[(0, contract(vec![lost], 1_000))], &me, &window).is_empty());
	}

	#[test]
	fn a_proof_the_chain_no_longer_takes_is_not_sent() {
		let me = AccountId32::new([1; 32]);
		let mut held = shard(&me, 0, 0);
		assert!(wanted(&held, &me, 5, 5) && wanted(&held, &me, 4, 5));
		// Its grace is over; not open yet; not ours.
		assert!(!wanted(&held, &me, 3, 5));
		assert!(!wanted(&held, &me, 6, 5));
		assert!(!wanted(&held, &AccountId32::new([2; 32]), 5, 5));
		// Proven already (by a batch sent after the round was planned).
		held.record_proof(5);
		assert!(!wanted(&held, &me, 5, 5) && wanted(&held, &me, 4, 5));
		held.status = ShardStatus::Lost;
		assert!(!wanted(&held, &me, 4, 5));
	}
}
