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
		BalanceOf, Config, ContractOf, Contracts, CurrentPeriod, Error, Event, Pallet, Periods,
		ProofBatchOf, ProvingPeriod, ShardOf, Sweep, VerifyingKey,
	},
	ContractId, PeriodIndex, PeriodInfo, ProofVerifier, PublicInputs, ShardIndex, ShardSpec,
	ShardStatus, SweepState, WeightInfo, MAX_COMPENSATION_SHARE,
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
		let info = PeriodInfo { start: now, length, seed: seed.0 };
		Periods::<T>::insert(next, info);
		if let Some(old) = next.checked_sub(T::PeriodHistory::get()) {
			Periods::<T>::remove(old);
		}
		CurrentPeriod::<T>::put(next);
		if next > 0 && Sweep::<T>::get().is_none() {
			Sweep::<T>::put(SweepState { started_in: next, last_visited: None });
		}
		Self::deposit_event(Event::PeriodOpened { period: next, start: now, length, seed: seed.0 });
		T::WeightInfo::open_period()
	}

	/// Visit up to [`Config::SweepContractsPerBlock`] contracts: settle their finished periods,
	/// and end the expired ones.
	pub(crate) fn sweep_step(now: BlockNumberFor<T>) -> Weight {
		let Some(mut state) = Sweep::<T>::get() else { return T::DbWeight::get().reads(1) };
		let Some(current) = CurrentPeriod::<T>::get() else { return T::DbWeight::get().reads(2) };
		let budget = T::SweepContractsPerBlock::get();
		let ids: Vec<ContractId> = match state.last_visited {
			Some(last) => Contracts::<T>::iter_keys_from(Contracts::<T>::hashed_key_for(last)),
			None => Contracts::<T>::iter_keys(),
		}
		.take(budget as usize)
		.collect();
		let visited = ids.len() as u32;
		let last_closed = current.checked_sub(1);
		for id in ids.iter().copied() {
			let Some(mut contract) = Contracts::<T>::get(id) else { continue };
			if Self::all_due_periods_closed(&contract, now) {
				if let Err(error) = with_storage_layer(|| Self::do_end_contract(None, id)) {
					defensive!(error, "an expired contract can always be ended");
				}
			} else if let Some(through) = last_closed {
				Self::settle_contract(id, &mut contract, through);
				Contracts::<T>::insert(id, contract);
			}
		}
		if visited < budget {
			// This pass saw every contract. Start over if another period finished meanwhile.
			if current > state.started_in {
				Sweep::<T>::put(SweepState { started_in: current, last_visited: None });
			} else {
				Sweep::<T>::kill();
			}
		} else {
			state.last_visited = ids.last().copied();
			Sweep::<T>::put(state);
		}
		T::WeightInfo::sweep_contracts(visited, T::MaxShards::get())
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
	/// contract's due periods): each unproven period after `settled_through` is one fault,
	/// slashed exactly once because `settled_through` moves past it; a shard reaching
	/// [`Config::MaxConsecutiveFaults`] is lost and its capacity freed.
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
		let span = through.saturating_sub(shard.settled_through);
		// Proofs are accepted only in their own period and settle the periods before it, so
		// at most one proven period lies after `settled_through`: the latest.
		let proven_in_span = shard
			.last_proven
			.filter(|proven| *proven > shard.settled_through && *proven <= through);
		let missed = span.saturating_sub(u32::from(proven_in_span.is_some()));
		shard.consecutive_faults = match proven_in_span {
			Some(proven) => through.saturating_sub(proven),
			None => shard.consecutive_faults.saturating_add(missed),
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
			Self::last_closed_period().and_then(|through| Self::last_due_period(end, through));
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

	/// The period before the current one: the latest that is over.
	pub(crate) fn last_closed_period() -> Option<PeriodIndex> {
		CurrentPeriod::<T>::get().and_then(|current| current.checked_sub(1))
	}

	/// The last period at or before `through` that opened before `end`, if still recorded.
	fn last_due_period(end: BlockNumberFor<T>, through: PeriodIndex) -> Option<PeriodIndex> {
		let mut period = through;
		for _ in 0..T::PeriodHistory::get() {
			let info = Periods::<T>::get(period)?;
			if info.start < end {
				return Some(period);
			}
			period = period.checked_sub(1)?;
		}
		None
	}

	/// Check, from storage alone and without looking at the proof, that `provider` may prove
	/// `shard` of `contract` in `period` now: the shard exists, is the provider's and active,
	/// `period` is the current period, due for the shard and not proven yet, and a verifying key
	/// is set. Returns what the proof's public inputs are computed from.
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
		ensure!(period >= current, Error::<T>::ProofTooLate);
		ensure!(period <= current, Error::<T>::PeriodNotOpen);
		ensure!(shard.last_proven != Some(period), Error::<T>::AlreadyProven);
		ensure!(period > shard.settled_through, Error::<T>::ShardNotDueYet);
		let info = Periods::<T>::get(period).ok_or(Error::<T>::NoProvingPeriod)?;
		ensure!(info.start < contract.end, Error::<T>::PeriodAfterContractEnd);
		// The key's length prefix is enough; the key itself is up to `MaxVerifyingKeyLen` bytes.
		let key_len = VerifyingKey::<T>::decode_len().unwrap_or(0);
		ensure!(key_len > 0, Error::<T>::NoVerifyingKey);
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
		// Settle the periods this proof skipped over before marking it proven.
		if let Some(previous) = period.checked_sub(1).and_then(|p| Self::last_due_period(end, p)) {
			Self::settle_shard(id, index, shard, &owner, end, previous);
		}
		ensure!(shard.provider == *provider, Error::<T>::NotShardProvider);
		ensure!(shard.status == ShardStatus::Active, Error::<T>::ShardNotActive);
		ensure!(shard.last_proven != Some(period), Error::<T>::AlreadyProven);
		shard.last_proven = Some(period);
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
		let key = VerifyingKey::<T>::get();
		let batch: Vec<(PublicInputs, &[u8])> = prepared
			.iter()
			.map(|(submission, inputs)| (inputs.clone(), submission.proof.as_slice()))
			.collect();
		let verdicts = T::ProofVerifier::verify_batch(&key, &batch);
		for (position, (submission, _)) in prepared.iter().enumerate() {
			let (contract, shard, period) =
				(submission.contract, submission.shard, submission.period);
			// A verifier that returned fewer verdicts than proofs accepted none of the rest.
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
