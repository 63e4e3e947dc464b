//! Proving: periods and their seeds, public inputs, accepted proofs, and the fault sweep.

use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	defensive, pallet_prelude::*, storage::with_storage_layer, traits::Randomness,
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_providers::{ProviderRegistry, Slashed};
use sp_runtime::{
	traits::{Bounded, Saturating, Zero},
	SaturatedConversion,
};

use crate::{
	pallet::{
		BalanceOf, Config, ContractOf, Contracts, CurrentPeriod, Error, Event, NextVerifyingKey,
		Pallet, Periods, PreviousVerifyingKey, ProofBatchOf, ProvingPeriod, ShardOf, Sweep,
		VerifyingKey, VerifyingKeyOf, VerifyingKeySince,
	},
	ContractId, PeriodIndex, PeriodInfo, ProofVerifier, PublicInputs, ShardIndex, ShardSpec,
	ShardStatus, SweepState, WeightInfo, GRACE_PERIODS, MAX_COMPENSATION_SHARE,
};

/// Subject mixed into the randomness that seeds a period's challenges.
const SEED_SUBJECT: &[u8] = b"cairn/challenge-seed";

impl<T: Config> Pallet<T> {
	/// Open the next proving period if the current one is over (or none is open yet).
	pub(crate) fn open_period_if_due(now: BlockNumberFor<T>) -> Weight {
		let next = match CurrentPeriod::<T>::get() {
			None => 0,
			Some(current) => {
				let due = Periods::<T>::get(current)
					.is_none_or(|info| now >= info.start.saturating_add(info.length));
				if !due {
					return T::DbWeight::get().reads(2);
				}
				current.saturating_add(1)
			}
		};
		let length = ProvingPeriod::<T>::get().max(1u32.into());
		let (seed, _) = T::Randomness::random(SEED_SUBJECT);
		// A key root set during the last period takes effect with this one.
		if let Some(key) = NextVerifyingKey::<T>::take() {
			PreviousVerifyingKey::<T>::put(VerifyingKey::<T>::get());
			VerifyingKey::<T>::put(key);
			VerifyingKeySince::<T>::put(next);
		}
		let verifiable = VerifyingKey::<T>::decode_len().unwrap_or(0) > 0;
		let info = PeriodInfo { start: now, length, seed: seed.0, verifiable };
		Periods::<T>::insert(next, info);
		if let Some(old) = next.checked_sub(T::PeriodHistory::get()) {
			Periods::<T>::remove(old);
		}
		CurrentPeriod::<T>::put(next);
		if next > 0 && Sweep::<T>::get().is_none() {
			Sweep::<T>::put(SweepState::new(next, now));
		}
		Self::deposit_event(Event::PeriodOpened { period: next, start: now, length, seed: seed.0 });
		T::WeightInfo::open_period()
	}

	/// Visit up to [`Config::SweepContractsPerBlock`] contracts: settle their periods whose grace
	/// is over, free the capacity of shards not confirmed by their deadline, and end the expired
	/// contracts.
	pub(crate) fn sweep_step(now: BlockNumberFor<T>, budget: u32) -> Weight {
		let Some(mut state) = Sweep::<T>::get() else { return T::DbWeight::get().reads(1) };
		let Some(current) = CurrentPeriod::<T>::get() else { return T::DbWeight::get().reads(2) };
		let ids: Vec<ContractId> = match state.last_visited {
			Some(last) => Contracts::<T>::iter_keys_from(Contracts::<T>::hashed_key_for(last)),
			None => Contracts::<T>::iter_keys(),
		}
		.take(budget as usize)
		.collect();
		let visited = ids.len() as u32;
		let settleable = Self::last_settleable_period();
		for id in ids.iter().copied() {
			let Some(mut contract) = Contracts::<T>::get(id) else { continue };
			if Self::all_due_periods_closed(&contract, now) {
				if let Err(error) = with_storage_layer(|| Self::do_end_contract(None, id)) {
					defensive!(error, "an expired contract can always be ended");
				}
			} else {
				if let Some(through) = settleable {
					Self::settle_contract(id, &mut contract, through);
				}
				Self::vacate_unconfirmed(id, &mut contract, now);
				Contracts::<T>::insert(id, contract);
			}
		}
		state.visited = state.visited.saturating_add(visited);
		if visited < budget {
			// This pass saw every contract. Start over if another period finished meanwhile.
			Self::deposit_event(Event::SweepFinished {
				period: state.started_in,
				contracts: state.visited,
				blocks: now.saturating_sub(state.started_at),
			});
			if current > state.started_in {
				Sweep::<T>::put(SweepState::new(current, now));
			} else {
				Sweep::<T>::kill();
			}
		} else {
			state.last_visited = ids.last().copied();
			Sweep::<T>::put(state);
		}
		T::WeightInfo::sweep_contracts(visited)
	}

	/// Most contracts one `on_idle` sweep step visits, however much weight is left: a bound on
	/// the keys it collects at once.
	const IDLE_SWEEP_MAX: u32 = 1_024;

	/// Sweep on in `on_idle`: as many contracts (at their worst, every shard faulted) as fit in
	/// `remaining`. Returns the weight used.
	pub(crate) fn sweep_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
		let check = T::DbWeight::get().reads(1);
		if !remaining.all_gte(check) || !Sweep::<T>::exists() {
			return check.min(remaining);
		}
		let base = T::WeightInfo::sweep_contracts(0);
		let per_contract = T::WeightInfo::sweep_contracts(1).saturating_sub(base);
		let spare = remaining.saturating_sub(check).saturating_sub(base);
		let fit = |spare: u64, per: u64| spare.checked_div(per).unwrap_or(u64::MAX);
		let count = fit(spare.ref_time(), per_contract.ref_time())
			.min(fit(spare.proof_size(), per_contract.proof_size()))
			.min(u64::from(Self::IDLE_SWEEP_MAX)) as u32;
		if count == 0 {
			return check;
		}
		check.saturating_add(Self::sweep_step(now, count))
	}

	/// Settle every active shard of the contract through period `through` (clamped to the last
	/// period that opened before the contract's end). The caller stores the contract.
	pub(crate) fn settle_contract(
		id: ContractId,
		contract: &mut ContractOf<T>,
		through: PeriodIndex,
	) {
		let end = contract.end;
		let Some(through) = Self::last_due_period(end, through) else { return };
		let owner = contract.owner.clone();
		for (index, shard) in contract.shards.iter_mut().enumerate() {
			Self::settle_shard(id, index as ShardIndex, shard, &owner, end, through);
		}
	}

	/// Settle one shard of a contract ending at `end` through `through` (already clamped to the
	/// contract's due periods, and past their grace): each unproven period after
	/// `settled_through` that had a verifying key is one fault, slashed exactly once because
	/// `settled_through` moves past it; a shard reaching [`Config::MaxConsecutiveFaults`] is lost
	/// and its capacity freed.
	fn settle_shard(
		id: ContractId,
		index: ShardIndex,
		shard: &mut ShardOf<T>,
		owner: &T::AccountId,
		end: BlockNumberFor<T>,
		through: PeriodIndex,
	) {
		if shard.status != ShardStatus::Active || through <= shard.settled_through {
			return;
		}
		let after = shard.settled_through;
		let span = through.saturating_sub(after);
		// Newest first: the first is the latest proven period of the span.
		let mut proven = shard.proven_in(after, through);
		let latest_proven = proven.next();
		let proven = latest_proven.map_or(0, |_| 1 + proven.count() as u32);
		// Nobody could prove a period without a key: it is no fault.
		let unverifiable = Self::unverifiable_periods(after, through);
		let missed = span.saturating_sub(proven).saturating_sub(unverifiable.len() as u32);
		shard.consecutive_faults = match (latest_proven, shard.last_proven) {
			// A proof after `through` (of a later period, accepted while these were in their
			// grace) ends any run of faults: none of these is in a row with the present.
			(_, Some(last)) if last > through => 0,
			(Some(latest), _) => {
				let unverifiable_since = unverifiable.iter().filter(|p| **p > latest).count();
				through.saturating_sub(latest).saturating_sub(unverifiable_since as u32)
			}
			(None, _) => shard.consecutive_faults.saturating_add(missed),
		};
		shard.settled_through = through;
		if missed == 0 {
			return;
		}
		// Every missed period is valued at the price of `through`, the last one: the periods of
		// one settlement share their length unless root changed it in between, and only the
		// contract's last period is cut short.
		let period_cost = Self::period_cost(shard, end, through);
		let slashed = Self::slash_faults(shard, missed, owner, period_cost);
		Self::deposit_event(Event::ShardFaulted {
			contract: id,
			shard: index,
			provider: shard.provider.clone(),
			missed,
			through,
			slashed: slashed.total(),
			compensation: slashed.compensation,
		});
		if shard.consecutive_faults >= T::MaxConsecutiveFaults::get() {
			Self::declare_lost(id, index, shard);
		}
	}

	/// Count `faults` of `shard` against its provider and slash the provider for them:
	/// [`Config::FaultSlash`] of the stake that backs the shard, per fault. The owner is
	/// compensated from the slash with the least of `period_cost` per fault (what a period of
	/// the shard is worth), the shard's `refundable` (what it paid this provider and has not got
	/// back) and [`MAX_COMPENSATION_SHARE`] of the slash; the rest is burned. Returns the split.
	fn slash_faults(
		shard: &mut ShardOf<T>,
		faults: u32,
		owner: &T::AccountId,
		period_cost: BalanceOf<T>,
	) -> Slashed<BalanceOf<T>> {
		let provider = &shard.provider;
		T::Providers::record_fault(provider, faults);
		let faults: BalanceOf<T> = faults.saturated_into();
		// The shard's share of the stake, not the whole stake: a provider pays for a missed
		// period in proportion to what it stores, however many shards that is cut into.
		let backing = T::Providers::stake_backing(provider, shard.spec.bytes);
		let amount = T::FaultSlash::get()
			.mul_floor(backing)
			.saturating_mul(faults)
			.min(T::Providers::stake(provider));
		let compensation = period_cost
			.saturating_mul(faults)
			.min(shard.refundable)
			.min(MAX_COMPENSATION_SHARE.mul_floor(amount));
		let slashed = T::Providers::slash(provider, amount, owner, compensation);
		shard.refundable = shard.refundable.saturating_sub(slashed.compensation);
		slashed
	}

	/// What one period of `shard` is worth, as a proof of it pays ([`Self::accept_proof`]):
	/// `price × bytes × blocks`, the blocks of `period` cut short by the contract's `end` (zero
	/// when the period is no longer recorded, the largest balance when the product overflows).
	fn period_cost(
		shard: &ShardOf<T>,
		end: BlockNumberFor<T>,
		period: PeriodIndex,
	) -> BalanceOf<T> {
		let Some(info) = Periods::<T>::get(period) else { return Zero::zero() };
		let blocks = Self::paid_blocks(&info, end);
		Self::shard_cost(shard.price_per_byte_block, shard.spec.bytes, blocks)
			.unwrap_or_else(|_| BalanceOf::<T>::max_value())
	}

	/// The blocks of a period a proof pays for: the period's length, cut short by the
	/// contract's `end`.
	fn paid_blocks(info: &PeriodInfo<BlockNumberFor<T>>, end: BlockNumberFor<T>) -> BalanceOf<T> {
		let blocks = info.length.min(end.saturating_sub(info.start));
		blocks.saturated_into::<u64>().saturated_into()
	}

	/// The periods of `after + 1 ..= through` that had no verifying key, of those still
	/// recorded (at most [`Config::PeriodHistory`] are looked at).
	fn unverifiable_periods(after: PeriodIndex, through: PeriodIndex) -> Vec<PeriodIndex> {
		let recorded = through.saturating_sub(after).min(T::PeriodHistory::get());
		(0..recorded)
			.filter_map(|back| through.checked_sub(back))
			.filter(|period| Periods::<T>::get(period).is_some_and(|info| !info.verifiable))
			.collect()
	}

	/// Mark an active shard lost and free its provider's capacity for it.
	fn declare_lost(id: ContractId, index: ShardIndex, shard: &mut ShardOf<T>) {
		shard.status = ShardStatus::Lost;
		if let Err(error) = T::Providers::release_capacity(&shard.provider, shard.spec.bytes) {
			defensive!(error, "an active shard's capacity is reserved");
		}
		Self::deposit_event(Event::ShardLost {
			contract: id,
			shard: index,
			provider: shard.provider.clone(),
		});
	}

	/// A provider reports that it no longer holds active shard `index` of contract `id`: the
	/// finished periods are settled, then one more fault is slashed and the shard is lost.
	pub(crate) fn do_report_lost(
		provider: T::AccountId,
		id: ContractId,
		index: ShardIndex,
	) -> DispatchResult {
		let mut contract = Contracts::<T>::get(id).ok_or(Error::<T>::ContractNotFound)?;
		let (owner, end) = (contract.owner.clone(), contract.end);
		let last_closed =
			Self::last_settleable_period().and_then(|through| Self::last_due_period(end, through));
		let shard = Self::shard_mut(&mut contract, index)?;
		ensure!(shard.provider == provider, Error::<T>::NotShardProvider);
		ensure!(shard.status == ShardStatus::Active, Error::<T>::ShardNotActive);
		if let Some(through) = last_closed {
			Self::settle_shard(id, index, shard, &owner, end, through);
		}
		// Settling may already have lost it; otherwise the report costs one fault, in the
		// current period.
		if shard.status == ShardStatus::Active {
			let period_cost = match CurrentPeriod::<T>::get() {
				Some(current) => Self::period_cost(shard, end, current),
				None => Zero::zero(),
			};
			let slashed = Self::slash_faults(shard, 1, &owner, period_cost);
			Self::deposit_event(Event::LossReported {
				contract: id,
				shard: index,
				provider: provider.clone(),
				slashed: slashed.total(),
				compensation: slashed.compensation,
			});
			Self::declare_lost(id, index, shard);
		}
		Contracts::<T>::insert(id, contract);
		Ok(())
	}

	/// The latest period whose grace window is over: no proof of it can be accepted any more,
	/// so its faults can be counted.
	pub(crate) fn last_settleable_period() -> Option<PeriodIndex> {
		CurrentPeriod::<T>::get().and_then(|current| current.checked_sub(1 + GRACE_PERIODS))
	}

	/// The key proofs of `period` are verified against: the one in force when it opened.
	pub(crate) fn verifying_key_for(period: PeriodIndex) -> VerifyingKeyOf<T> {
		if period >= VerifyingKeySince::<T>::get() {
			VerifyingKey::<T>::get()
		} else {
			PreviousVerifyingKey::<T>::get()
		}
	}

	/// The last period at or before `through` that opened before `end`. Beyond the recorded
	/// history (a contract settled long after its end), it is counted back from the oldest
	/// recorded period at that period's length: exact unless root changed the length in
	/// between, so that a contract is settled however late it is swept.
	fn last_due_period(end: BlockNumberFor<T>, through: PeriodIndex) -> Option<PeriodIndex> {
		let mut period = through;
		let mut oldest = None;
		for _ in 0..T::PeriodHistory::get() {
			let Some(info) = Periods::<T>::get(period) else { break };
			if info.start < end {
				return Some(period);
			}
			oldest = Some((period, info));
			period = period.checked_sub(1)?;
		}
		let (period, info) = oldest?;
		let length = info.length.max(1u32.into());
		let behind: u32 = (info.start.saturating_sub(end) / length).saturated_into();
		period.checked_sub(behind.saturating_add(1))
	}

	/// Check, from storage alone and without looking at the proof, that `provider` may prove
	/// `shard` of `contract` in `period` now: the shard exists, is the provider's and active,
	/// `period` is the current period or one still in its grace window ([`GRACE_PERIODS`]), due
	/// for the shard and not proven yet, and had a verifying key. Returns what the proof's public
	/// inputs are computed from.
	///
	/// Shared by dispatch ([`Self::public_inputs_for`]) and the transaction pool's
	/// [`crate::PrioritizeProofs`], so that a proof the pool prioritizes is one dispatch would
	/// verify. Reads four storage items and decodes no verifying key.
	pub(crate) fn check_proof_due(
		provider: &T::AccountId,
		id: ContractId,
		index: ShardIndex,
		period: PeriodIndex,
	) -> Result<DueProof, Error<T>> {
		let contract = Contracts::<T>::get(id).ok_or(Error::<T>::ContractNotFound)?;
		let shard = contract.shards.get(index as usize).ok_or(Error::<T>::ShardNotFound)?;
		ensure!(shard.provider == *provider, Error::<T>::NotShardProvider);
		ensure!(shard.status == ShardStatus::Active, Error::<T>::ShardNotActive);
		let current = CurrentPeriod::<T>::get().ok_or(Error::<T>::NoProvingPeriod)?;
		ensure!(period.saturating_add(GRACE_PERIODS) >= current, Error::<T>::ProofTooLate);
		ensure!(period <= current, Error::<T>::PeriodNotOpen);
		ensure!(!shard.is_proven(period), Error::<T>::AlreadyProven);
		ensure!(period > shard.settled_through, Error::<T>::ShardNotDueYet);
		let info = Periods::<T>::get(period).ok_or(Error::<T>::NoProvingPeriod)?;
		ensure!(info.start < contract.end, Error::<T>::PeriodAfterContractEnd);
		ensure!(info.verifiable, Error::<T>::NoVerifyingKey);
		Ok(DueProof { spec: shard.spec.clone(), seed: info.seed })
	}

	/// Check that `provider` may prove `shard` of `contract` in `period` now, and compute the
	/// public inputs its proof must match.
	pub(crate) fn public_inputs_for(
		provider: &T::AccountId,
		id: ContractId,
		index: ShardIndex,
		period: PeriodIndex,
	) -> Result<PublicInputs, DispatchError> {
		let DueProof { spec, seed } = Self::check_proof_due(provider, id, index, period)?;
		let provider_bytes = account_bytes(provider);
		let leaves = cairn_primitives::tree::leaf_count(spec.bytes);
		Ok(PublicInputs {
			root: spec.root,
			indices: cairn_primitives::challenge::challenge_indices(
				&seed,
				id,
				index,
				period,
				T::ChallengeCount::get(),
				leaves,
			),
			binding: cairn_primitives::challenge::binding(&provider_bytes, id, index, period),
		})
	}

	/// Record a verified proof and pay for it. Re-checks the shard's state, so that a proof is
	/// paid at most once per period even inside one batch.
	pub(crate) fn accept_proof(
		provider: &T::AccountId,
		id: ContractId,
		index: ShardIndex,
		period: PeriodIndex,
	) -> Result<BalanceOf<T>, DispatchError> {
		let mut contract = Contracts::<T>::get(id).ok_or(Error::<T>::ContractNotFound)?;
		let info = Periods::<T>::get(period).ok_or(Error::<T>::NoProvingPeriod)?;
		let owner = contract.owner.clone();
		let end = contract.end;
		let shard = Self::shard_mut(&mut contract, index)?;
		// Settle the periods whose grace is over before marking this one proven: a proof of
		// the current period must not look like one of a period still waiting for its own.
		if let Some(settleable) =
			Self::last_settleable_period().and_then(|through| Self::last_due_period(end, through))
		{
			Self::settle_shard(id, index, shard, &owner, end, settleable);
		}
		ensure!(shard.provider == *provider, Error::<T>::NotShardProvider);
		ensure!(shard.status == ShardStatus::Active, Error::<T>::ShardNotActive);
		ensure!(!shard.is_proven(period), Error::<T>::AlreadyProven);
		ensure!(period > shard.settled_through, Error::<T>::ShardNotDueYet);
		shard.record_proof(period);
		shard.consecutive_faults = 0;
		shard.proofs = shard.proofs.saturating_add(1);
		let blocks = Self::paid_blocks(&info, end);
		let (price, bytes) = (shard.price_per_byte_block, shard.spec.bytes);
		let amount = Self::shard_cost(price, bytes, blocks)?;
		let payment = Self::pay_from_escrow(&mut contract, provider, amount)?;
		// What the owner paid this provider is what the provider's later faults may give back.
		let shard = Self::shard_mut(&mut contract, index)?;
		shard.refundable = shard.refundable.saturating_add(payment);
		Contracts::<T>::insert(id, contract);
		Self::deposit_event(Event::ProofAccepted {
			contract: id,
			shard: index,
			period,
			provider: provider.clone(),
			payment,
		});
		Ok(payment)
	}

	pub(crate) fn do_submit_proofs(provider: T::AccountId, proofs: ProofBatchOf<T>) {
		let mut prepared = Vec::with_capacity(proofs.len());
		for submission in proofs.iter() {
			match Self::public_inputs_for(
				&provider,
				submission.contract,
				submission.shard,
				submission.period,
			) {
				Ok(inputs) => prepared.push((submission, inputs)),
				Err(reason) => Self::reject(
					&provider,
					submission.contract,
					submission.shard,
					submission.period,
					reason,
				),
			}
		}
		let verdicts = Self::verify_by_key(&prepared);
		for (position, (submission, _)) in prepared.iter().enumerate() {
			let (contract, shard, period) =
				(submission.contract, submission.shard, submission.period);
			let outcome = if verdicts.get(position).copied().unwrap_or(false) {
				// All or nothing per proof: a failed acceptance leaves no partial settlement.
				with_storage_layer(|| Self::accept_proof(&provider, contract, shard, period))
					.map(|_| ())
			} else {
				Err(Error::<T>::InvalidProof.into())
			};
			if let Err(reason) = outcome {
				Self::reject(&provider, contract, shard, period, reason);
			}
		}
	}

	/// The verdicts on `prepared` proofs, in order: those of one key (one period's, or a late
	/// proof's period's before a key change) are verified in one batch.
	fn verify_by_key(
		prepared: &[(&crate::ProofSubmission<T::MaxProofLen>, PublicInputs)],
	) -> Vec<bool> {
		let since = VerifyingKeySince::<T>::get();
		let mut verdicts = alloc::vec![false; prepared.len()];
		for older in [false, true] {
			let positions: Vec<usize> = (0..prepared.len())
				.filter(|position| (prepared[*position].0.period < since) == older)
				.collect();
			if positions.is_empty() {
				continue;
			}
			let key =
				if older { PreviousVerifyingKey::<T>::get() } else { VerifyingKey::<T>::get() };
			let batch: Vec<(PublicInputs, &[u8])> = positions
				.iter()
				.map(|position| {
					let (submission, inputs) = &prepared[*position];
					(inputs.clone(), submission.proof.as_slice())
				})
				.collect();
			// A verifier that returned fewer verdicts than proofs accepted none of the rest.
			let group = T::ProofVerifier::verify_batch(&key, &batch);
			for (position, verdict) in positions.into_iter().zip(group) {
				verdicts[position] = verdict;
			}
		}
		verdicts
	}

	fn reject(
		provider: &T::AccountId,
		contract: ContractId,
		shard: ShardIndex,
		period: PeriodIndex,
		reason: DispatchError,
	) {
		Self::deposit_event(Event::ProofRejected {
			contract,
			shard,
			period,
			provider: provider.clone(),
			reason,
		});
	}
}

/// What a due proof's public inputs are computed from: the shard's commitment and the period's
/// challenge seed.
pub(crate) struct DueProof {
	/// The shard as the buyer committed to it.
	pub spec: ShardSpec,
	/// The challenge seed of the proof's period.
	pub seed: [u8; 32],
}

/// The 32 bytes that stand for an account in the binding value: its SCALE encoding when that is
/// 32 bytes long (as for `AccountId32`), otherwise the BLAKE2-256 hash of it.
pub fn account_bytes<AccountId: Encode>(account: &AccountId) -> [u8; 32] {
	let encoded = account.encode();
	match <[u8; 32]>::try_from(encoded.as_slice()) {
		Ok(bytes) => bytes,
		Err(_) => sp_crypto_hashing::blake2_256(&encoded),
	}
}
