//! Proving: periods and their seeds, public inputs, accepted proofs, and the fault sweep.

use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	defensive, pallet_prelude::*, storage::with_storage_layer, traits::Randomness,
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_providers::ProviderRegistry;
use sp_runtime::{traits::Saturating, SaturatedConversion};

use crate::{
	pallet::{
		BalanceOf, Config, ContractOf, Contracts, CurrentPeriod, Error, Event, Pallet, Periods,
		ProofBatchOf, ProvingPeriod, ShardOf, Sweep, VerifyingKey,
	},
	ContractId, PeriodIndex, PeriodInfo, ProofVerifier, PublicInputs, ShardIndex, ShardStatus,
	SweepState, WeightInfo,
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
		let Some(through) = Self::last_due_period(contract.end, through) else { return };
		let owner = contract.owner.clone();
		for (index, shard) in contract.shards.iter_mut().enumerate() {
			Self::settle_shard(id, index as ShardIndex, shard, &owner, through);
		}
	}

	/// Settle one shard through `through` (already clamped to the contract's due periods): each
	/// unproven period after `settled_through` is one fault, slashed to the owner exactly once
	/// because `settled_through` moves past it; a shard reaching [`Config::MaxConsecutiveFaults`]
	/// is lost and its capacity freed.
	fn settle_shard(
		id: ContractId,
		index: ShardIndex,
		shard: &mut ShardOf<T>,
		owner: &T::AccountId,
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
		let slashed = Self::slash_faults(&shard.provider, missed, owner);
		Self::deposit_event(Event::ShardFaulted {
			contract: id,
			shard: index,
			provider: shard.provider.clone(),
			missed,
			through,
			slashed,
		});
		if shard.consecutive_faults >= T::MaxConsecutiveFaults::get() {
			Self::declare_lost(id, index, shard);
		}
	}

	/// Count `faults` against `provider` and slash [`Config::FaultSlash`] of its stake per fault
	/// to `owner`; returns what was slashed.
	fn slash_faults(provider: &T::AccountId, faults: u32, owner: &T::AccountId) -> BalanceOf<T> {
		T::Providers::record_fault(provider, faults);
		let slice = T::FaultSlash::get().mul_floor(T::Providers::stake(provider));
		T::Providers::slash(provider, slice.saturating_mul(faults.saturated_into()), owner)
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
		let owner = contract.owner.clone();
		let last_closed = Self::last_closed_period()
			.and_then(|through| Self::last_due_period(contract.end, through));
		let shard = Self::shard_mut(&mut contract, index)?;
		ensure!(shard.provider == provider, Error::<T>::NotShardProvider);
		ensure!(shard.status == ShardStatus::Active, Error::<T>::ShardNotActive);
		if let Some(through) = last_closed {
			Self::settle_shard(id, index, shard, &owner, through);
		}
		// Settling may already have lost it; otherwise the report costs one fault.
		if shard.status == ShardStatus::Active {
			let slashed = Self::slash_faults(&provider, 1, &owner);
			Self::deposit_event(Event::LossReported {
				contract: id,
				shard: index,
				provider: provider.clone(),
				slashed,
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

	/// Check that `provider` may prove `shard` of `contract` in `period` now, and compute the
	/// public inputs its proof must match.
	pub(crate) fn public_inputs_for(
		provider: &T::AccountId,
		id: ContractId,
		index: ShardIndex,
		period: PeriodIndex,
	) -> Result<PublicInputs, DispatchError> {
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
		ensure!(!VerifyingKey::<T>::get().is_empty(), Error::<T>::NoVerifyingKey);

		let provider_bytes = account_bytes(provider);
		let leaves = cairn_primitives::tree::leaf_count(shard.spec.bytes);
		Ok(PublicInputs {
			root: shard.spec.root,
			indices: cairn_primitives::challenge::challenge_indices(
				&info.seed,
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
			Self::settle_shard(id, index, shard, &owner, previous);
		}
		ensure!(shard.provider == *provider, Error::<T>::NotShardProvider);
		ensure!(shard.status == ShardStatus::Active, Error::<T>::ShardNotActive);
		ensure!(shard.last_proven != Some(period), Error::<T>::AlreadyProven);
		shard.last_proven = Some(period);
		shard.consecutive_faults = 0;
		shard.proofs = shard.proofs.saturating_add(1);
		let blocks = info.length.min(end.saturating_sub(info.start));
		let blocks: BalanceOf<T> = blocks.saturated_into::<u64>().saturated_into();
		let (price, bytes) = (shard.price_per_byte_block, shard.spec.bytes);
		let amount = Self::shard_cost(price, bytes, blocks)?;
		let payment = Self::pay_from_escrow(&mut contract, provider, amount)?;
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

/// The 32 bytes that stand for an account in the binding value: its SCALE encoding when that is
/// 32 bytes long (as for `AccountId32`), otherwise the BLAKE2-256 hash of it.
pub fn account_bytes<AccountId: Encode>(account: &AccountId) -> [u8; 32] {
	let encoded = account.encode();
	match <[u8; 32]>::try_from(encoded.as_slice()) {
		Ok(bytes) => bytes,
		Err(_) => sp_crypto_hashing::blake2_256(&encoded),
	}
}
