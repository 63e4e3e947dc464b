//! Contracts: creation with escrow, confirmation, reassignment and the end.

use frame_support::{
	defensive,
	pallet_prelude::*,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
	},
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_providers::ProviderRegistry;
use sp_runtime::{
	traits::{CheckedAdd, CheckedMul, Saturating, Zero},
	SaturatedConversion,
};

use crate::{
	pallet::{
		BalanceOf, Config, ContractOf, Contracts, CurrentPeriod, Error, Event, ManifestOf,
		Manifests, NextContractId, Pallet, Periods, ProvidersOf, ShardSpecsOf,
	},
	Contract, ContractId, HoldReason, PeriodIndex, Shard, ShardIndex, ShardSpec, ShardStatus,
	GRACE_PERIODS,
};

impl<T: Config> Pallet<T> {
	#[allow(clippy::too_many_arguments)]
	pub(crate) fn do_create_contract(
		owner: T::AccountId,
		specs: ShardSpecsOf<T>,
		k: u8,
		m: u8,
		providers: ProvidersOf<T>,
		duration: BlockNumberFor<T>,
		max_price: BalanceOf<T>,
		manifest: ManifestOf<T>,
	) -> DispatchResult {
		ensure!(k > 0, Error::<T>::ZeroDataShards);
		ensure!(specs.len() == usize::from(k) + usize::from(m), Error::<T>::ShardCountMismatch);
		ensure!(providers.len() == specs.len(), Error::<T>::ProviderCountMismatch);
		ensure!(
			!duration.is_zero() && duration <= T::MaxContractDuration::get(),
			Error::<T>::InvalidDuration
		);
		for (position, provider) in providers.iter().enumerate() {
			ensure!(!providers[..position].contains(provider), Error::<T>::DuplicateProvider);
		}
		for spec in specs.iter() {
			Self::ensure_spec_valid(spec)?;
		}

		let now = frame_system::Pallet::<T>::block_number();
		let bytes = specs.iter().fold(0u64, |sum, spec| sum.saturating_add(spec.bytes));
		let deadline = Self::confirm_deadline(now, bytes);
		let blocks: BalanceOf<T> = duration.saturated_into::<u64>().saturated_into();
		let mut escrow = BalanceOf::<T>::zero();
		let mut shards = BoundedVec::new();
		for (spec, provider) in specs.into_iter().zip(providers) {
			let price = Self::eligible_price(&provider, max_price)?;
			escrow = escrow
				.checked_add(&Self::shard_cost(price, spec.bytes, blocks)?)
				.ok_or(Error::<T>::Overflow)?;
			T::Providers::reserve_capacity(&provider, spec.bytes)?;
			let shard = Shard {
				spec,
				provider,
				price_per_byte_block: price,
				status: ShardStatus::Pending { deadline },
				repair: false,
				settled_through: 0,
				last_proven: None,
				proven_before_last: 0,
				consecutive_faults: 0,
				proofs: 0,
				refundable: Zero::zero(),
			};
			shards.try_push(shard).map_err(|_| Error::<T>::ShardCountMismatch)?;
		}
		let manifest_deposit =
			T::ManifestByteDeposit::get().checked_mul(&(manifest.len() as u32).into());
		let deposit = T::ShardDeposit::get()
			.checked_mul(&(shards.len() as u32).into())
			.and_then(|shards| shards.checked_add(&T::ContractDeposit::get()))
			.zip(manifest_deposit)
			.and_then(|(record, manifest)| record.checked_add(&manifest))
			.ok_or(Error::<T>::Overflow)?;
		T::Currency::hold(&HoldReason::ContractEscrow.into(), &owner, escrow)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		T::Currency::hold(&HoldReason::ContractDeposit.into(), &owner, deposit)
			.map_err(|_| Error::<T>::InsufficientBalance)?;

		let id = NextContractId::<T>::get();
		NextContractId::<T>::put(id.checked_add(1).ok_or(Error::<T>::Overflow)?);
		let end = now.saturating_add(duration);
		for (index, shard) in shards.iter().enumerate() {
			Self::deposit_event(Event::ShardAssigned {
				contract: id,
				shard: index as ShardIndex,
				provider: shard.provider.clone(),
				deadline,
			});
		}
		Self::deposit_event(Event::ContractCreated {
			contract: id,
			owner: owner.clone(),
			shards: shards.len() as u32,
			escrow,
			deposit,
			end,
		});
		let contract =
			Contract { owner, k, m, start: now, end, escrow, deposit, paid: Zero::zero(), shards };
		Contracts::<T>::insert(id, contract);
		if !manifest.is_empty() {
			Manifests::<T>::insert(id, manifest);
		}
		Ok(())
	}

	pub(crate) fn do_confirm_shard(
		provider: T::AccountId,
		id: ContractId,
		index: ShardIndex,
	) -> DispatchResult {
		let current = CurrentPeriod::<T>::get().ok_or(Error::<T>::NoProvingPeriod)?;
		Contracts::<T>::try_mutate(id, |maybe_contract| -> DispatchResult {
			let contract = maybe_contract.as_mut().ok_or(Error::<T>::ContractNotFound)?;
			Self::check_confirmable(&provider, contract, index)?;
			let shard = Self::shard_mut(contract, index)?;
			shard.status = ShardStatus::Active;
			// Proven from the next period on: this one's seed is already public.
			shard.settled_through = current;
			shard.last_proven = None;
			shard.proven_before_last = 0;
			shard.consecutive_faults = 0;
			let repaired = core::mem::replace(&mut shard.repair, false);
			Self::deposit_event(Event::ShardConfirmed {
				contract: id,
				shard: index,
				provider: provider.clone(),
			});
			if repaired {
				Self::deposit_event(Event::ShardRepaired { contract: id, shard: index, provider });
			}
			Ok(())
		})
	}

	/// The last block in which shards assigned at `now`, `bytes` in all, may be confirmed: the
	/// confirmation window after the time a buyer takes to send them.
	pub(crate) fn confirm_deadline(now: BlockNumberFor<T>, bytes: u64) -> BlockNumberFor<T> {
		let sending: BlockNumberFor<T> =
			(bytes / T::ConfirmBytesPerBlock::get().max(1)).saturated_into();
		now.saturating_add(T::ConfirmWindow::get()).saturating_add(sending)
	}

	/// Check, from the contract alone, that `provider` may confirm shard `index` now: the
	/// contract runs, the shard is the provider's, pending, and within its deadline. Shared by
	/// dispatch and the transaction pool's [`crate::PrioritizeProofs`], so that a confirmation
	/// the pool prioritizes is one dispatch accepts.
	pub(crate) fn check_confirmable(
		provider: &T::AccountId,
		contract: &ContractOf<T>,
		index: ShardIndex,
	) -> Result<(), Error<T>> {
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < contract.end, Error::<T>::ContractExpired);
		let shard = contract.shards.get(index as usize).ok_or(Error::<T>::ShardNotFound)?;
		ensure!(shard.provider == *provider, Error::<T>::NotShardProvider);
		let ShardStatus::Pending { deadline } = shard.status else {
			return Err(Error::<T>::ShardNotPending);
		};
		ensure!(now <= deadline, Error::<T>::ConfirmationDeadlinePassed);
		Ok(())
	}

	pub(crate) fn do_reassign_shard(
		owner: T::AccountId,
		id: ContractId,
		index: ShardIndex,
		new_provider: T::AccountId,
	) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let mut contract = Contracts::<T>::get(id).ok_or(Error::<T>::ContractNotFound)?;
		ensure!(contract.owner == owner, Error::<T>::NotContractOwner);
		ensure!(now < contract.end, Error::<T>::ContractExpired);
		// A provider named only on shards it no longer holds (vacant or lost) may take another
		// one: otherwise every provider that once failed a contract would be shut out of it, and
		// a contract on a small network could run out of providers to repair to.
		ensure!(
			!contract
				.shards
				.iter()
				.any(|shard| shard.provider == new_provider && shard.status.holds_capacity()),
			Error::<T>::DuplicateProvider
		);
		let shard = Self::shard_mut(&mut contract, index)?;
		// A pending shard may move at any time: the owner, not the chain, can tell that its
		// provider does not answer, and a shard waiting out the confirmation window on a dead
		// provider is a shard nobody keeps.
		let was_lost = match shard.status {
			ShardStatus::Pending { .. } | ShardStatus::Vacant => false,
			ShardStatus::Lost => true,
			ShardStatus::Active => return Err(Error::<T>::ShardNotReassignable.into()),
		};
		let price = Self::eligible_price(&new_provider, shard.price_per_byte_block)?;
		T::Providers::reserve_capacity(&new_provider, shard.spec.bytes)?;
		// Lost and vacant shards' capacity was released when they became so.
		if shard.status.holds_capacity() {
			T::Providers::release_capacity(&shard.provider, shard.spec.bytes)?;
		}
		let from = core::mem::replace(&mut shard.provider, new_provider.clone());
		shard.price_per_byte_block = price;
		// The new provider's faults can give back only what is paid to it.
		shard.refundable = Zero::zero();
		let deadline = Self::confirm_deadline(now, shard.spec.bytes);
		shard.status = ShardStatus::Pending { deadline };
		shard.repair = was_lost || shard.repair;
		shard.last_proven = None;
		shard.proven_before_last = 0;
		shard.consecutive_faults = 0;
		Contracts::<T>::insert(id, contract);
		Self::deposit_event(Event::ShardReassigned {
			contract: id,
			shard: index,
			from,
			to: new_provider.clone(),
		});
		Self::deposit_event(Event::ShardAssigned {
			contract: id,
			shard: index,
			provider: new_provider,
			deadline,
		});
		Ok(())
	}

	/// Move the end of contract `id` by `blocks` and hold the escrow that pays for them.
	///
	/// Each assigned shard (pending or active) is priced at the higher of its agreed price and
	/// its provider's current ask, which must be at most `max_price`: a renewal never lowers
	/// what a provider agreed to, and pays a provider that raised its price what it asks now.
	/// A repriced shard pays its new price for every period not yet paid, so the top-up covers
	/// the difference over the rest of the old term too, from the oldest period a late proof may
	/// still be paid for. Lost and vacant shards keep their price: whoever takes them over asks
	/// no more. A provider whose stake a slash left short of its capacity takes no new shards
	/// but still keeps the ones it has, so it does not stop an extension; a provider that is
	/// leaving the market cannot be held past the end it agreed to: its shards must move first
	/// ([`Error::ProviderLeaving`]).
	pub(crate) fn do_extend_contract(
		owner: T::AccountId,
		id: ContractId,
		blocks: BlockNumberFor<T>,
		max_price: BalanceOf<T>,
	) -> Result<(BlockNumberFor<T>, BalanceOf<T>), DispatchError> {
		let now = frame_system::Pallet::<T>::block_number();
		let mut contract = Contracts::<T>::get(id).ok_or(Error::<T>::ContractNotFound)?;
		ensure!(contract.owner == owner, Error::<T>::NotContractOwner);
		ensure!(now < contract.end, Error::<T>::ContractExpired);
		let end = contract.end.checked_add(&blocks).ok_or(Error::<T>::Overflow)?;
		ensure!(
			!blocks.is_zero() && end.saturating_sub(now) <= T::MaxContractDuration::get(),
			Error::<T>::InvalidDuration
		);
		let added_blocks: BalanceOf<T> = blocks.saturated_into::<u64>().saturated_into();
		let unpaid_from = Self::oldest_payable_start().unwrap_or(contract.start);
		let repriced_blocks: BalanceOf<T> =
			contract.end.saturating_sub(unpaid_from).saturated_into::<u64>().saturated_into();
		let mut top_up = BalanceOf::<T>::zero();
		for shard in contract.shards.iter_mut() {
			let agreed = shard.price_per_byte_block;
			let price = if shard.status.holds_capacity() {
				ensure!(T::Providers::is_staying(&shard.provider), Error::<T>::ProviderLeaving);
				T::Providers::price_per_byte_block(&shard.provider)
					.ok_or(Error::<T>::ProviderLeaving)?
					.max(agreed)
			} else {
				agreed
			};
			ensure!(price <= max_price, Error::<T>::PriceAboveLimit);
			let bytes = shard.spec.bytes;
			let rise = price.saturating_sub(agreed);
			let cost = Self::shard_cost(price, bytes, added_blocks)?
				.checked_add(&Self::shard_cost(rise, bytes, repriced_blocks)?)
				.ok_or(Error::<T>::Overflow)?;
			shard.price_per_byte_block = price;
			top_up = top_up.checked_add(&cost).ok_or(Error::<T>::Overflow)?;
		}
		T::Currency::hold(&HoldReason::ContractEscrow.into(), &owner, top_up)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		contract.escrow = contract.escrow.checked_add(&top_up).ok_or(Error::<T>::Overflow)?;
		contract.end = end;
		Contracts::<T>::insert(id, contract);
		Self::deposit_event(Event::ContractExtended { contract: id, end, escrow: top_up });
		Ok((end, top_up))
	}

	/// The first block of the oldest period whose proofs may still be accepted and paid (the
	/// current one and the [`GRACE_PERIODS`] before it), when it is recorded.
	fn oldest_payable_start() -> Option<BlockNumberFor<T>> {
		let current = CurrentPeriod::<T>::get()?;
		let oldest: PeriodIndex = current.saturating_sub(GRACE_PERIODS);
		Periods::<T>::get(oldest).map(|period| period.start)
	}

	/// End contract `id`. `caller` is `None` for the sweep, which ends expired contracts only.
	pub(crate) fn do_end_contract(caller: Option<T::AccountId>, id: ContractId) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let mut contract = Contracts::<T>::get(id).ok_or(Error::<T>::ContractNotFound)?;
		let is_owner = caller.as_ref() == Some(&contract.owner);
		let finished = Self::all_due_periods_closed(&contract, now);
		ensure!(finished || is_owner, Error::<T>::ContractStillRunning);
		let early = !finished;

		if let Some(settleable) = Self::last_settleable_period() {
			Self::settle_contract(id, &mut contract, settleable);
		}
		for shard in contract.shards.iter() {
			if shard.status.holds_capacity() {
				if let Err(error) =
					T::Providers::release_capacity(&shard.provider, shard.spec.bytes)
				{
					defensive!(error, "an assigned shard's capacity is reserved");
				}
			}
		}
		let refunded = T::Currency::release(
			&HoldReason::ContractEscrow.into(),
			&contract.owner,
			contract.escrow,
			Precision::BestEffort,
		)?;
		T::Currency::release(
			&HoldReason::ContractDeposit.into(),
			&contract.owner,
			contract.deposit,
			Precision::BestEffort,
		)?;
		Contracts::<T>::remove(id);
		Manifests::<T>::remove(id);
		Self::deposit_event(Event::ContractEnded {
			contract: id,
			paid: contract.paid,
			refunded,
			early,
		});
		Ok(())
	}

	/// Whether nothing more can be proven or faulted: the contract's end has passed, and the
	/// current period and the [`GRACE_PERIODS`] before it (in which late proofs are still
	/// accepted) opened at or after it.
	pub(crate) fn all_due_periods_closed(contract: &ContractOf<T>, now: BlockNumberFor<T>) -> bool {
		if now < contract.end {
			return false;
		}
		let Some(current) = CurrentPeriod::<T>::get() else { return true };
		let oldest_open: PeriodIndex = current.saturating_sub(GRACE_PERIODS);
		Periods::<T>::get(oldest_open).is_none_or(|period| period.start >= contract.end)
	}

	/// A provider declines pending shard `index` of contract `id`: its capacity is freed and the
	/// shard waits for the owner to move it.
	pub(crate) fn do_decline_shard(
		provider: T::AccountId,
		id: ContractId,
		index: ShardIndex,
	) -> DispatchResult {
		Contracts::<T>::try_mutate(id, |maybe_contract| -> DispatchResult {
			let contract = maybe_contract.as_mut().ok_or(Error::<T>::ContractNotFound)?;
			let shard = Self::shard_mut(contract, index)?;
			ensure!(shard.provider == provider, Error::<T>::NotShardProvider);
			ensure!(
				matches!(shard.status, ShardStatus::Pending { .. }),
				Error::<T>::ShardNotPending
			);
			T::Providers::release_capacity(&provider, shard.spec.bytes)?;
			shard.status = ShardStatus::Vacant;
			Self::deposit_event(Event::ShardDeclined { contract: id, shard: index, provider });
			Ok(())
		})
	}

	/// Free the capacity of the contract's shards whose confirmation deadline passed before
	/// `now`: they become vacant. The caller stores the contract.
	pub(crate) fn vacate_unconfirmed(
		id: ContractId,
		contract: &mut ContractOf<T>,
		now: BlockNumberFor<T>,
	) {
		for (index, shard) in contract.shards.iter_mut().enumerate() {
			let ShardStatus::Pending { deadline } = shard.status else { continue };
			if now <= deadline {
				continue;
			}
			if let Err(error) = T::Providers::release_capacity(&shard.provider, shard.spec.bytes) {
				defensive!(error, "a pending shard's capacity is reserved");
			}
			shard.status = ShardStatus::Vacant;
			Self::deposit_event(Event::ShardUnconfirmed {
				contract: id,
				shard: index as ShardIndex,
				provider: shard.provider.clone(),
			});
		}
	}

	/// Pay `amount` of the contract's escrow to `provider`; returns what was paid (the escrow
	/// left, when less).
	pub(crate) fn pay_from_escrow(
		contract: &mut ContractOf<T>,
		provider: &T::AccountId,
		amount: BalanceOf<T>,
	) -> Result<BalanceOf<T>, DispatchError> {
		let amount = amount.min(contract.escrow);
		if amount.is_zero() {
			return Ok(amount);
		}
		T::Currency::transfer_on_hold(
			&HoldReason::ContractEscrow.into(),
			&contract.owner,
			provider,
			amount,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Polite,
		)
		.map_err(|_| Error::<T>::EscrowShortfall)?;
		contract.escrow = contract.escrow.saturating_sub(amount);
		contract.paid = contract.paid.saturating_add(amount);
		Ok(amount)
	}

	/// What keeping a shard of `bytes` at `price` per byte per block costs for `blocks` blocks:
	/// `price × bytes × blocks`, or [`Error::Overflow`]. Also what the node quotes and shows.
	pub fn shard_cost(
		price: BalanceOf<T>,
		bytes: u64,
		blocks: BalanceOf<T>,
	) -> Result<BalanceOf<T>, DispatchError> {
		let bytes: BalanceOf<T> = bytes.saturated_into();
		price
			.checked_mul(&bytes)
			.and_then(|cost| cost.checked_mul(&blocks))
			.ok_or_else(|| Error::<T>::Overflow.into())
	}

	pub(crate) fn shard_mut(
		contract: &mut ContractOf<T>,
		index: ShardIndex,
	) -> Result<&mut crate::pallet::ShardOf<T>, DispatchError> {
		contract.shards.get_mut(index as usize).ok_or_else(|| Error::<T>::ShardNotFound.into())
	}

	fn eligible_price(
		provider: &T::AccountId,
		limit: BalanceOf<T>,
	) -> Result<BalanceOf<T>, DispatchError> {
		ensure!(T::Providers::is_active(provider), Error::<T>::ProviderNotActive);
		let price =
			T::Providers::price_per_byte_block(provider).ok_or(Error::<T>::ProviderNotActive)?;
		ensure!(price <= limit, Error::<T>::PriceAboveLimit);
		Ok(price)
	}

	fn ensure_spec_valid(spec: &ShardSpec) -> DispatchResult {
		ensure!(spec.bytes > 0, Error::<T>::EmptyShard);
		ensure!(spec.bytes <= cairn_primitives::tree::MAX_SHARD_BYTES, Error::<T>::ShardTooLarge);
		ensure!(
			cairn_primitives::field::fr_from_le_bytes(&spec.root).is_ok(),
			Error::<T>::RootNotFieldElement
		);
		Ok(())
	}
}
