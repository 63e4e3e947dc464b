//! Tests of the market, by topic, with shared helpers and the invariants checked after each test.

mod admin;
mod contracts;
mod faults;
mod groth16;
mod priority;
mod proofs;
mod reads;
mod renewal;

use std::collections::BTreeMap;

use frame_support::{assert_ok, traits::fungible::InspectHold, BoundedVec};

use crate::{
	mock::*, proving::account_bytes, ContractId, Contracts, Event, HoldReason, PeriodIndex,
	Periods, PublicInputs, ShardIndex, ShardSpec, ShardStatus, VerifyingKey, GRACE_PERIODS,
};

/// The market's invariants, checked after every test: the pallets' own `try_state` checks
/// ([`crate::Pallet::do_try_state`], `pallet_providers::Pallet::do_try_state`), and what those
/// cannot see from their own records: no escrow is held from an account without contracts, and
/// no capacity stays reserved by a provider without shards.
pub fn assert_invariants() {
	Market::do_try_state().expect("the market's invariants hold");
	Providers::do_try_state().expect("the registry's invariants hold");
	let mut owners = BTreeMap::new();
	let mut assigned = BTreeMap::new();
	for (_, contract) in Contracts::<Test>::iter() {
		owners.insert(contract.owner, ());
		for shard in contract.shards.iter().filter(|shard| shard.status.holds_capacity()) {
			assigned.insert(shard.provider, ());
		}
	}
	for account in [BUYER, OTHER_BUYER, STRANGER, POOR_BUYER]
		.into_iter()
		.chain((0..PROVIDER_COUNT).map(provider))
		.filter(|account| !owners.contains_key(account))
	{
		for reason in [HoldReason::ContractEscrow, HoldReason::ContractDeposit] {
			assert_eq!(
				Balances::balance_on_hold(&reason.into(), &account),
				0,
				"{reason:?} held from {account}, which has no contract"
			);
		}
	}
	for (who, info) in pallet_providers::Providers::<Test>::iter() {
		if !assigned.contains_key(&who) {
			assert_eq!((info.used, info.shards), (0, 0), "capacity of provider {who}");
		}
	}
}

/// A root that is a valid field element (top byte clear), distinct per shard.
pub fn root(n: u8) -> [u8; 32] {
	let mut root = [n.wrapping_add(1); 32];
	root[31] = 0;
	root
}

/// `count` shards of `bytes` each.
pub fn specs(count: u8, bytes: u64) -> BoundedVec<ShardSpec, ConstU32Shards> {
	BoundedVec::truncate_from(
		(0..count).map(|n| ShardSpec { root: root(n), blake3: [n; 32], bytes }).collect(),
	)
}

/// Bound of a contract's shards in the mock.
pub type ConstU32Shards = frame_support::traits::ConstU32<8>;

/// Providers `first .. first + count`.
pub fn providers(first: u64, count: u64) -> BoundedVec<AccountId, ConstU32Shards> {
	BoundedVec::truncate_from((first..first + count).map(provider).collect())
}

/// Shard size used by most tests.
pub const SHARD_BYTES: u64 = 1_000;
/// Contract duration used by most tests.
pub const DURATION: u64 = 100;

/// Create a one-shard contract for `owner` on provider `index`; returns its id.
pub fn create_single_shard_contract(owner: AccountId, index: u64) -> ContractId {
	create_single_shard_contract_for(owner, index, DURATION)
}

/// Create a one-shard contract of `duration` blocks for `owner` on provider `index`; returns
/// its id.
pub fn create_single_shard_contract_for(owner: AccountId, index: u64, duration: u64) -> ContractId {
	let id = crate::NextContractId::<Test>::get();
	assert_ok!(Market::create_contract(
		RuntimeOrigin::signed(owner),
		specs(1, SHARD_BYTES),
		1,
		0,
		providers(index, 1),
		duration,
		PROVIDER_PRICE,
		BoundedVec::new()
	));
	id
}

/// Create a 2 + 1 contract for `BUYER` on providers 0, 1, 2; returns its id.
pub fn create_default_contract() -> ContractId {
	create_contract_with_manifest(BoundedVec::new())
}

/// Create the default contract with `manifest`; returns its id.
pub fn create_contract_with_manifest(manifest: crate::ManifestOf<Test>) -> ContractId {
	let id = crate::NextContractId::<Test>::get();
	assert_ok!(Market::create_contract(
		RuntimeOrigin::signed(BUYER),
		specs(3, SHARD_BYTES),
		2,
		1,
		providers(0, 3),
		DURATION,
		PROVIDER_PRICE,
		manifest
	));
	id
}

/// Create the default contract and confirm all its shards.
pub fn create_confirmed_contract() -> ContractId {
	let id = create_default_contract();
	for n in 0..3 {
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(n)), id, n as ShardIndex));
	}
	id
}

/// The first block of period `period` with the genesis period length (period 0 opens at 1).
pub fn period_start(period: PeriodIndex) -> u64 {
	1 + u64::from(period) * PROVING_PERIOD
}

/// The public inputs of a proof, computed here from the primitives (not through the pallet).
pub fn inputs_for(
	prover: AccountId,
	contract: ContractId,
	shard: ShardIndex,
	period: PeriodIndex,
) -> PublicInputs {
	let spec = Contracts::<Test>::get(contract).unwrap().shards[shard as usize].spec.clone();
	let seed = Periods::<Test>::get(period).expect("period is recorded").seed;
	PublicInputs {
		root: spec.root,
		indices: cairn_primitives::challenge::challenge_indices(
			&seed,
			contract,
			shard,
			period,
			CHALLENGES,
			cairn_primitives::tree::leaf_count(spec.bytes),
		),
		binding: cairn_primitives::challenge::binding(
			&account_bytes(&prover),
			contract,
			shard,
			period,
		),
	}
}

/// A proof the mock verifier accepts for these inputs under the current key.
pub fn proof_of(inputs: &PublicInputs) -> BoundedVec<u8, frame_support::traits::ConstU32<256>> {
	proof_under(&VerifyingKey::<Test>::get(), inputs)
}

/// A proof the mock verifier accepts for these inputs under `key`.
pub fn proof_under(
	key: &[u8],
	inputs: &PublicInputs,
) -> BoundedVec<u8, frame_support::traits::ConstU32<256>> {
	BoundedVec::truncate_from(MacVerifier::proof(key, inputs))
}

/// A valid proof by `prover` for `shard` of `contract` in `period`.
pub fn valid_proof(
	prover: AccountId,
	contract: ContractId,
	shard: ShardIndex,
	period: PeriodIndex,
) -> BoundedVec<u8, frame_support::traits::ConstU32<256>> {
	proof_under(&Market::verifying_key_for(period), &inputs_for(prover, contract, shard, period))
}

/// Submit a valid proof for the shard's own provider.
pub fn prove(contract: ContractId, shard: ShardIndex, period: PeriodIndex) {
	let prover = Contracts::<Test>::get(contract).unwrap().shards[shard as usize].provider;
	assert_ok!(Market::submit_proof(
		RuntimeOrigin::signed(prover),
		contract,
		shard,
		period,
		valid_proof(prover, contract, shard, period)
	));
}

/// The market's events so far.
pub fn market_events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Market(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// The providers pallet's slash events so far, as (provider, amount, beneficiary).
pub fn slashes() -> Vec<(AccountId, Balance, AccountId)> {
	slash_splits()
		.into_iter()
		.map(|(provider, amount, beneficiary, ..)| (provider, amount, beneficiary))
		.collect()
}

/// The providers pallet's slash events so far, as (provider, amount, beneficiary, compensation,
/// burned).
pub fn slash_splits() -> Vec<(AccountId, Balance, AccountId, Balance, Balance)> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Providers(pallet_providers::Event::ProviderSlashed {
				provider,
				amount,
				beneficiary,
				compensation,
				burned,
			}) => Some((provider, amount, beneficiary, compensation, burned)),
			_ => None,
		})
		.collect()
}

/// The recorded stake of a provider.
pub fn stake_of(who: AccountId) -> Balance {
	pallet_providers::Providers::<Test>::get(who).map_or(0, |info| info.stake)
}
