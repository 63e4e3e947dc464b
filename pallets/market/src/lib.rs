//! # Market pallet
//!
//! Cairn's storage market: a buyer opens a contract for the `k + m` erasure-coded shards of a file,
//! each kept by a distinct provider from `pallet-providers`; the full price is held in escrow from
//! the buyer (a balance hold, [`HoldReason::ContractEscrow`]) and paid out to providers one proof
//! at a time.
//!
//! ## Life of a contract
//! 1. [`Pallet::create_contract`]: shard roots, BLAKE3 digests and sizes, the providers, the
//!    duration and the highest acceptable price. Each shard is priced at its provider's asked price;
//!    `price × bytes × duration` of every shard is held from the buyer and the providers' capacity is
//!    reserved.
//! 2. [`Pallet::confirm_shard`]: each provider confirms, within [`Config::ConfirmWindow`] blocks
//!    and the time the contract's bytes take to send ([`Config::ConfirmBytesPerBlock`]), that it
//!    received the shard and checked its root. A provider may refuse a shard instead
//!    ([`Pallet::decline_shard`]); one not confirmed in time is freed by the sweep
//!    ([`Event::ShardUnconfirmed`]). Either way the provider's capacity is released at once, so a
//!    buyer that never sends its data cannot hold a provider's space or its exit hostage, and
//!    the owner moves the shard to another provider with [`Pallet::reassign_shard`].
//! 3. Every proving period of [`ProvingPeriod`] blocks, each confirmed shard is challenged: the
//!    seed is the randomness ([`Config::Randomness`]) taken at the block that opens the period, and
//!    the challenged leaves and the binding value come from `cairn_primitives::challenge`, the same
//!    functions the prover runs off chain. [`Pallet::submit_proof`] (or the batch
//!    [`Pallet::submit_proofs`]) checks the proof through [`Config::ProofVerifier`] against
//!    the key in force for the period and pays `price × bytes × P` from escrow to the provider
//!    (less for a period cut short by the contract's end). A proof of period `p` is accepted
//!    until the end of period `p + `[`GRACE_PERIODS`], so that a provider that was slow or kept
//!    out of a few blocks is not faulted. Both calls are `Operational`, and the transaction
//!    extension [`PrioritizeProofs`] gives a due proof ([`PROOF_PRIORITY`]) precedence in the pool
//!    over anything a tip can buy, so that proofs are not crowded out of blocks.
//! 4. A shard without a valid proof of a period whose grace is over is a fault (unless the
//!    period had no verifying key: nobody could prove it): the sweep in `on_initialize`
//!    (bounded to [`Config::SweepContractsPerBlock`] contracts per block) slashes the provider
//!    once per missed period, [`Config::FaultSlash`] of the stake that backs the shard (the stake's
//!    share for the shard's bytes, see `pallet_providers::Pallet::stake_for`). After
//!    [`Config::MaxConsecutiveFaults`] faults in a row the shard is lost; the buyer repairs it with
//!    [`Pallet::reassign_shard`], and the new provider is paid from the remaining escrow. A
//!    provider that finds its copy damaged or gone says so with [`Pallet::report_lost`]: the
//!    shard is lost at once, for the cost of one fault, so that repair need not wait.
//!
//!    Part of a slash compensates the buyer, the rest is burned. The compensation for a fault is
//!    at most the shard's price for the missed period, at most what the buyer has paid the
//!    shard's provider for it and not yet got back, and at most [`MAX_COMPENSATION_SHARE`] of
//!    the slash. A missed period's escrow is not paid out (it returns to the buyer at the end), so
//!    the buyer never gets back more than it paid, and a provider that opens contracts with
//!    itself (through a buyer account it controls) and faults on them burns at least as much of
//!    its stake as it moves out that way, around unbonding.
//! 5. At the end (or earlier, by the owner) [`Pallet::end_contract`] settles the finished periods,
//!    frees the providers' capacity and returns the unspent escrow to the buyer. The sweep ends
//!    expired contracts by itself.
//!
//! ```ignore
//! let shards = BoundedVec::truncate_from(vec![ShardSpec { root, blake3, bytes: 1 << 20 }; 6]);
//! Market::create_contract(buyer, shards, 4, 2, providers, 10_000, max_price)?;
//! Market::confirm_shard(provider, contract, 0)?;
//! // In each period, once its seed is known:
//! Market::submit_proof(provider, contract, 0, period, proof)?;
//! ```

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use groth16::Groth16Verifier;
pub use host::HostGroth16Verifier;
pub use pallet::*;
pub use priority::{InvalidProofCode, PrioritizeProofs, PROOF_PRIORITY};
pub use types::*;
pub use weights::WeightInfo;

#[cfg(any(test, feature = "benchmark-prover"))]
pub mod bench_prover;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod contracts;
mod groth16;
pub mod host;
mod invariants;
#[cfg(feature = "upgrade-test")]
pub mod migrations;
#[cfg(test)]
mod mock;
mod priority;
mod proving;
pub mod runtime_api;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

/// Periods after its own in which a proof is still accepted: a proof for period `p` is accepted
/// until the end of period `p + GRACE_PERIODS`, and period `p` is settled (its faults counted)
/// only after that, so that a provider that was slow or briefly kept out of blocks is not
/// faulted.
pub const GRACE_PERIODS: PeriodIndex = 1;

/// How a contract's id makes its storage key. Nothing outside the runtime depends on it: the node
/// reads contracts through [`runtime_api::MarketApi`]. A runtime built with the `upgrade-test`
/// feature keys them otherwise and moves them on upgrade ([`migrations::RekeyContracts`]), so
/// that a test can upgrade a chain to a storage layout the node was not built with.
#[cfg(not(feature = "upgrade-test"))]
pub type ContractsHasher = frame_support::Twox64Concat;
/// How a contract's id makes its storage key: otherwise than in the released runtime, for the
/// upgrade test.
#[cfg(feature = "upgrade-test")]
pub type ContractsHasher = frame_support::Blake2_128Concat;

/// Proving period of a genesis that does not set one, in blocks.
pub const DEFAULT_PROVING_PERIOD: u32 = 100;

/// The largest part of a slash that may compensate the buyer; the rest, at least as much, is
/// burned. So a provider that is its own buyer burns at least one unit of stake for each unit a
/// fault moves to its buyer account.
pub const MAX_COMPENSATION_SHARE: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(50);

/// What benchmarks need from the runtime: a verifying key and proofs that the configured
/// [`ProofVerifier`] accepts.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper {
	/// A verifying key to install.
	fn verifying_key() -> alloc::vec::Vec<u8>;
	/// The root of the benchmark's shard number `index` of `bytes` bytes, whose data
	/// [`Self::valid_proof`] can open.
	fn shard_root(index: u32, bytes: u64) -> [u8; 32];
	/// A proof of `public_inputs` valid under `verifying_key`.
	fn valid_proof(verifying_key: &[u8], public_inputs: &PublicInputs) -> alloc::vec::Vec<u8>;
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, Mutate, MutateHold},
			Randomness,
		},
	};
	use frame_system::pallet_prelude::*;
	use pallet_providers::ProviderRegistry;
	use sp_core::H256;
	use sp_runtime::{traits::Zero, Perbill};

	/// The balance type of the escrow currency.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A shard as stored.
	pub type ShardOf<T> =
		Shard<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	/// The shards of a contract.
	pub type ShardsOf<T> = BoundedVec<ShardOf<T>, <T as Config>::MaxShards>;
	/// A contract as stored.
	pub type ContractOf<T> = Contract<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		ShardsOf<T>,
	>;
	/// The shard specifications of a new contract.
	pub type ShardSpecsOf<T> = BoundedVec<ShardSpec, <T as Config>::MaxShards>;
	/// A contract's sealed manifest.
	pub type ManifestOf<T> = BoundedVec<u8, <T as Config>::MaxManifestBytes>;
	/// The providers of a new contract, one per shard.
	pub type ProvidersOf<T> =
		BoundedVec<<T as frame_system::Config>::AccountId, <T as Config>::MaxShards>;
	/// The bytes of one proof.
	pub type ProofOf<T> = BoundedVec<u8, <T as Config>::MaxProofLen>;
	/// A batch of proofs.
	pub type ProofBatchOf<T> =
		BoundedVec<ProofSubmission<<T as Config>::MaxProofLen>, <T as Config>::MaxProofsPerBatch>;
	/// A verifying key's bytes.
	pub type VerifyingKeyOf<T> = BoundedVec<u8, <T as Config>::MaxVerifyingKeyLen>;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Configuration of the market pallet.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency whose balance holds keep the buyers' escrow.
		type Currency: Inspect<Self::AccountId>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The runtime's hold reasons, of which [`HoldReason`] is a part.
		type RuntimeHoldReason: From<HoldReason>;
		/// The provider registry: eligibility, prices, capacity, faults and slashing.
		type Providers: ProviderRegistry<Self::AccountId, BalanceOf<Self>>;
		/// Source of the challenge seeds (BABE VRF randomness in the runtime).
		type Randomness: Randomness<H256, BlockNumberFor<Self>>;
		/// Checks proofs of storage against [`VerifyingKey`].
		type ProofVerifier: ProofVerifier;
		/// Challenged leaves per shard and period; must equal the proving circuit's count.
		#[pallet::constant]
		type ChallengeCount: Get<u32>;
		/// Most shards (`k + m`) in one contract.
		#[pallet::constant]
		type MaxShards: Get<u32>;
		/// Longest contract, in blocks.
		#[pallet::constant]
		type MaxContractDuration: Get<BlockNumberFor<Self>>;
		/// Longest proving period root may set. A provider that stops proving can be slashed for
		/// `MaxConsecutiveFaults + 1 + GRACE_PERIODS` periods (and the sweep's lag) after its
		/// last proof, so its stake must stay held that long: the runtime keeps this times that
		/// count within the providers' unbonding period.
		#[pallet::constant]
		type MaxProvingPeriod: Get<BlockNumberFor<Self>>;
		/// Blocks a provider has to confirm an assigned shard, besides the time the buyer takes
		/// to send it ([`Config::ConfirmBytesPerBlock`]).
		#[pallet::constant]
		type ConfirmWindow: Get<BlockNumberFor<Self>>;
		/// Bytes a buyer is counted on to send per block. Shards assigned together (all of a new
		/// contract's, or the one reassigned) must be confirmed [`Config::ConfirmWindow`] blocks
		/// after their assignment and one more block for every this many bytes among them: the
		/// buyer sends them over one link, so that a large contract from an ordinary uplink is
		/// not lost to the clock while a small one is still settled in minutes.
		#[pallet::constant]
		type ConfirmBytesPerBlock: Get<u64>;
		/// Share of the stake that backs a shard (the provider's stake × the shard's bytes / the
		/// provider's capacity) slashed for each missed period of the shard. Part of it
		/// compensates the buyer, the rest is burned.
		#[pallet::constant]
		type FaultSlash: Get<Perbill>;
		/// Consecutive missed periods after which a shard is declared lost.
		#[pallet::constant]
		type MaxConsecutiveFaults: Get<u32>;
		/// Contracts the fault sweep visits in every block, whatever else the block holds; it
		/// visits more in `on_idle`, as many as the block's unused weight allows.
		#[pallet::constant]
		type SweepContractsPerBlock: Get<u32>;
		/// Held from a buyer per contract for the state it occupies (returned at the end), so
		/// that contracts opened to slow the sweep down cost their opener.
		#[pallet::constant]
		type ContractDeposit: Get<BalanceOf<Self>>;
		/// Held from a buyer per shard of a contract, on top of [`Config::ContractDeposit`].
		#[pallet::constant]
		type ShardDeposit: Get<BalanceOf<Self>>;
		/// Largest manifest a contract may carry ([`Manifests`]).
		#[pallet::constant]
		type MaxManifestBytes: Get<u32>;
		/// Held from a buyer per byte of a contract's manifest, with its deposit.
		#[pallet::constant]
		type ManifestByteDeposit: Get<BalanceOf<Self>>;
		/// Proving periods whose seeds and bounds are kept.
		#[pallet::constant]
		type PeriodHistory: Get<u32>;
		/// Longest proof, in bytes.
		#[pallet::constant]
		type MaxProofLen: Get<u32>;
		/// Most proofs in one [`Pallet::submit_proofs`] call.
		#[pallet::constant]
		type MaxProofsPerBatch: Get<u32>;
		/// Longest verifying key, in bytes.
		#[pallet::constant]
		type MaxVerifyingKeyLen: Get<u32>;
		/// Weights of this pallet's calls and hooks, from its benchmarks.
		type WeightInfo: WeightInfo;
		/// Verifying key and proofs for benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A buyer's escrow for its storage contracts, paid out per accepted proof.
		ContractEscrow,
		/// A buyer's deposit for the state its contracts occupy, returned at their end.
		ContractDeposit,
	}

	/// The id the next contract gets.
	#[pallet::storage]
	pub type NextContractId<T> = StorageValue<_, ContractId, ValueQuery>;

	/// Every open contract, keyed by [`ContractsHasher`].
	#[pallet::storage]
	pub type Contracts<T: Config> = StorageMap<_, ContractsHasher, ContractId, ContractOf<T>>;

	/// The manifests of open contracts that carry one: bytes sealed by the owner (opaque to the
	/// chain) that tell a machine holding the owner's secret how to find and decode the
	/// contract's file from the chain alone. Paid by deposit, removed at the contract's end.
	#[pallet::storage]
	pub type Manifests<T: Config> = StorageMap<_, Twox64Concat, ContractId, ManifestOf<T>>;

	/// Length in blocks of the proving periods opened from now on.
	#[pallet::storage]
	pub type ProvingPeriod<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// The key proofs of periods from [`VerifyingKeySince`] on are verified against (empty: none
	/// is set, and no period counts faults).
	#[pallet::storage]
	pub type VerifyingKey<T: Config> = StorageValue<_, VerifyingKeyOf<T>, ValueQuery>;

	/// The first period [`VerifyingKey`] is in force for.
	#[pallet::storage]
	pub type VerifyingKeySince<T> = StorageValue<_, PeriodIndex, ValueQuery>;

	/// The key that was in force before [`VerifyingKey`]: late proofs of the period before
	/// [`VerifyingKeySince`] are verified against it.
	#[pallet::storage]
	pub type PreviousVerifyingKey<T: Config> = StorageValue<_, VerifyingKeyOf<T>, ValueQuery>;

	/// A key set by root, in force from the next period on.
	#[pallet::storage]
	pub type NextVerifyingKey<T: Config> = StorageValue<_, VerifyingKeyOf<T>, OptionQuery>;

	/// The current proving period (none before the first block).
	#[pallet::storage]
	pub type CurrentPeriod<T> = StorageValue<_, PeriodIndex, OptionQuery>;

	/// The latest [`Config::PeriodHistory`] proving periods: bounds and challenge seeds.
	#[pallet::storage]
	pub type Periods<T: Config> =
		StorageMap<_, Twox64Concat, PeriodIndex, PeriodInfo<BlockNumberFor<T>>>;

	/// The fault sweep in progress, if any.
	#[pallet::storage]
	pub type Sweep<T: Config> = StorageValue<_, SweepState<BlockNumberFor<T>>, OptionQuery>;

	/// Genesis: the proving period and the verifying key.
	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// Length of a proving period in blocks (more than zero).
		pub proving_period: BlockNumberFor<T>,
		/// The verifying key's bytes (empty: no proof is accepted until root sets one).
		pub verifying_key: Vec<u8>,
	}

	impl<T: Config> Default for GenesisConfig<T> {
		/// [`DEFAULT_PROVING_PERIOD`] blocks and no verifying key.
		fn default() -> Self {
			Self { proving_period: DEFAULT_PROVING_PERIOD.into(), verifying_key: Vec::new() }
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			assert!(!self.proving_period.is_zero(), "the genesis proving period must be positive");
			assert!(
				self.proving_period <= T::MaxProvingPeriod::get(),
				"the genesis proving period must be at most MaxProvingPeriod"
			);
			let key = VerifyingKeyOf::<T>::try_from(self.verifying_key.clone())
				.expect("the genesis verifying key must fit MaxVerifyingKeyLen");
			ProvingPeriod::<T>::put(self.proving_period);
			VerifyingKey::<T>::put(key);
		}
	}

	/// Events of the market pallet.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A contract was opened and its escrow held.
		ContractCreated {
			/// The new contract.
			contract: ContractId,
			/// The buyer.
			owner: T::AccountId,
			/// Number of shards.
			shards: u32,
			/// Escrow held.
			escrow: BalanceOf<T>,
			/// Deposit held, returned at the end.
			deposit: BalanceOf<T>,
			/// First block after the contract.
			end: BlockNumberFor<T>,
		},
		/// A shard was assigned to a provider, which must confirm it by `deadline`.
		ShardAssigned {
			/// The contract.
			contract: ContractId,
			/// The shard.
			shard: ShardIndex,
			/// The provider.
			provider: T::AccountId,
			/// Last block to confirm.
			deadline: BlockNumberFor<T>,
		},
		/// A provider confirmed that it stores a shard; it is proven from the next period on.
		ShardConfirmed {
			/// The contract.
			contract: ContractId,
			/// The shard.
			shard: ShardIndex,
			/// The provider.
			provider: T::AccountId,
		},
		/// A shard was moved to another provider (unconfirmed in time, or lost).
		ShardReassigned {
			/// The contract.
			contract: ContractId,
			/// The shard.
			shard: ShardIndex,
			/// The previous provider.
			from: T::AccountId,
			/// The new provider.
			to: T::AccountId,
		},
		/// A lost shard is stored again: its new provider confirmed it.
		ShardRepaired {
			/// The contract.
			contract: ContractId,
			/// The shard.
			shard: ShardIndex,
			/// The new provider.
			provider: T::AccountId,
		},
		/// A proving period opened; its seed fixes every shard's challenges.
		PeriodOpened {
			/// The period.
			period: PeriodIndex,
			/// Its first block.
			start: BlockNumberFor<T>,
			/// Its length in blocks.
			length: BlockNumberFor<T>,
			/// The challenge seed.
			seed: [u8; 32],
		},
		/// A proof was verified and paid.
		ProofAccepted {
			/// The contract.
			contract: ContractId,
			/// The shard.
			shard: ShardIndex,
			/// The period proven.
			period: PeriodIndex,
			/// The provider.
			provider: T::AccountId,
			/// Paid from escrow.
			payment: BalanceOf<T>,
		},
		/// A proof of a batch was refused.
		ProofRejected {
			/// The contract.
			contract: ContractId,
			/// The shard.
			shard: ShardIndex,
			/// The period it claimed to prove.
			period: PeriodIndex,
			/// The submitter.
			provider: T::AccountId,
			/// Why.
			reason: DispatchError,
		},
		/// A shard had no valid proof in `missed` finished periods (through `through`).
		ShardFaulted {
			/// The contract.
			contract: ContractId,
			/// The shard.
			shard: ShardIndex,
			/// The provider.
			provider: T::AccountId,
			/// Missed periods counted now.
			missed: u32,
			/// The last period settled.
			through: PeriodIndex,
			/// Stake taken from the provider.
			slashed: BalanceOf<T>,
			/// The part of `slashed` that went to the buyer; the rest was burned.
			compensation: BalanceOf<T>,
		},
		/// A provider reported that it no longer holds a shard (its data was damaged or gone);
		/// it was slashed as for one missed period, and the shard is lost ([`Event::ShardLost`]).
		LossReported {
			/// The contract.
			contract: ContractId,
			/// The shard.
			shard: ShardIndex,
			/// The provider that reported it.
			provider: T::AccountId,
			/// Stake taken from the provider.
			slashed: BalanceOf<T>,
			/// The part of `slashed` that went to the buyer; the rest was burned.
			compensation: BalanceOf<T>,
		},
		/// A shard missed too many periods in a row, or its provider reported it lost, and waits
		/// for repair.
		ShardLost {
			/// The contract.
			contract: ContractId,
			/// The shard.
			shard: ShardIndex,
			/// The provider that lost it.
			provider: T::AccountId,
		},
		/// A contract ended; its unspent escrow went back to the owner.
		ContractEnded {
			/// The contract.
			contract: ContractId,
			/// Paid to providers over its life.
			paid: BalanceOf<T>,
			/// Returned to the owner.
			refunded: BalanceOf<T>,
			/// Whether the owner ended it before its end block.
			early: bool,
		},
		/// The fault sweep visited every contract: their periods up to the last one whose grace
		/// was over in period `period` are settled. `blocks` is how long the pass took, the
		/// delay a fault can wait to be slashed.
		SweepFinished {
			/// The period the pass started in.
			period: PeriodIndex,
			/// Contracts visited.
			contracts: u32,
			/// Blocks from the pass's start to its end.
			blocks: BlockNumberFor<T>,
		},
		/// Root changed the length of the proving periods opened from now on.
		ProvingPeriodSet {
			/// The new length in blocks.
			blocks: BlockNumberFor<T>,
		},
		/// Root set a new verifying key; it is in force from period `from` on.
		VerifyingKeySet {
			/// Length of the new key in bytes.
			length: u32,
			/// The first period proven against it.
			from: PeriodIndex,
		},
		/// The owner moved a contract's end; `escrow` more is held to pay for it.
		ContractExtended {
			/// The contract.
			contract: ContractId,
			/// Its new end: the first block after it.
			end: BlockNumberFor<T>,
			/// Escrow added.
			escrow: BalanceOf<T>,
		},
		/// A provider declined a shard assigned to it; the shard waits for another provider.
		ShardDeclined {
			/// The contract.
			contract: ContractId,
			/// The shard.
			shard: ShardIndex,
			/// The provider that declined it.
			provider: T::AccountId,
		},
		/// A shard was not confirmed by its deadline: its provider's capacity is free again and
		/// the shard waits for another provider.
		ShardUnconfirmed {
			/// The contract.
			contract: ContractId,
			/// The shard.
			shard: ShardIndex,
			/// The provider that did not confirm it.
			provider: T::AccountId,
		},
	}

	/// Errors of the market pallet.
	#[pallet::error]
	pub enum Error<T> {
		/// `k` must be at least one.
		ZeroDataShards,
		/// The number of shards is not `k + m`.
		ShardCountMismatch,
		/// The number of providers is not the number of shards.
		ProviderCountMismatch,
		/// A provider appears twice in one contract.
		DuplicateProvider,
		/// A shard has zero bytes.
		EmptyShard,
		/// A shard exceeds the largest tree the circuit proves.
		ShardTooLarge,
		/// A shard root is not a canonical BN254 field element.
		RootNotFieldElement,
		/// The duration is zero or above [`Config::MaxContractDuration`].
		InvalidDuration,
		/// A provider may not take new shards (unregistered, exiting or under-staked).
		ProviderNotActive,
		/// A provider asks more than the buyer's limit (or, for a reassignment, than the shard's
		/// agreed price).
		PriceAboveLimit,
		/// The buyer's free balance cannot cover the escrow.
		InsufficientBalance,
		/// An amount overflowed.
		Overflow,
		/// No contract with this id.
		ContractNotFound,
		/// No shard with this index in the contract.
		ShardNotFound,
		/// Only the shard's assigned provider may do this.
		NotShardProvider,
		/// Only the contract's owner may do this.
		NotContractOwner,
		/// The shard is not waiting for confirmation.
		ShardNotPending,
		/// The confirmation deadline has passed.
		ConfirmationDeadlinePassed,
		/// The shard is active: only a pending, vacant or lost shard can be reassigned.
		ShardNotReassignable,
		/// The contract has reached its end.
		ContractExpired,
		/// The contract is still running (or its last period may still be proven).
		ContractStillRunning,
		/// The shard is not confirmed (or is lost): it has nothing to prove.
		ShardNotActive,
		/// No proving period has opened yet.
		NoProvingPeriod,
		/// The period is over: proofs are accepted only during their own period.
		ProofTooLate,
		/// The period has not opened yet.
		PeriodNotOpen,
		/// The period opened at or after the contract's end: nothing is due.
		PeriodAfterContractEnd,
		/// The shard was confirmed during this period; it is due from the next one on.
		ShardNotDueYet,
		/// The shard is already proven for this period.
		AlreadyProven,
		/// No verifying key is set.
		NoVerifyingKey,
		/// The proof does not verify.
		InvalidProof,
		/// The escrow held is smaller than the contract's record (should never happen).
		EscrowShortfall,
		/// A proving period must last at least one block.
		ZeroProvingPeriod,
		/// A proving period may last at most [`Config::MaxProvingPeriod`] blocks.
		ProvingPeriodTooLong,
		/// The verifying key does not decode, or its points are not valid.
		InvalidVerifyingKey,
		/// The verifying key is for another number of challenges than [`Config::ChallengeCount`].
		VerifyingKeyChallengeMismatch,
		/// A shard's provider is leaving the market (or left it): it cannot be held past the end
		/// it agreed to, so the shard must move to another provider before the contract is
		/// extended.
		ProviderLeaving,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let mut weight = Self::open_period_if_due(now);
			weight = weight.saturating_add(Self::sweep_step(now, T::SweepContractsPerBlock::get()));
			weight
		}

		/// Sweep on with whatever weight the block left unused, so that a pass over many
		/// contracts takes a few blocks, not many periods.
		fn on_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
			Self::sweep_idle(now, remaining)
		}

		/// What the market's logic takes for granted of its constants.
		fn integrity_test() {
			assert!(T::ChallengeCount::get() > 0, "a proof answers at least one challenge");
			assert!(
				(1..=u32::from(u8::MAX)).contains(&T::MaxShards::get()),
				"a contract has a shard, and k + m is counted in a byte"
			);
			assert!(T::MaxProofsPerBatch::get() > 0, "a batch holds a proof");
			assert!(T::MaxConsecutiveFaults::get() > 0, "a shard is lost after some fault");
			assert!(
				T::PeriodHistory::get() >= GRACE_PERIODS + 2,
				"settling reads the last period past its grace while the current one is open"
			);
			assert!(T::SweepContractsPerBlock::get() > 0, "the sweep makes progress");
			assert!(!T::ConfirmWindow::get().is_zero(), "a provider has time to confirm");
			assert!(T::ConfirmBytesPerBlock::get() > 0, "a buyer sends some bytes per block");
			assert!(!T::MaxProvingPeriod::get().is_zero(), "a proving period lasts a block");
			assert!(!T::MaxContractDuration::get().is_zero(), "a contract can last a block");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Open a contract for `shards` kept by `providers` (one each, all distinct, in order) for
		/// `duration` blocks, holding the full price from the signer. `k` data and `m` parity shards;
		/// every provider's price per byte per block must be at most `max_price`. `manifest`
		/// (may be empty) is kept with the contract for its owner, for a deposit per byte.
		#[allow(clippy::too_many_arguments)]
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create_contract(shards.len() as u32))]
		pub fn create_contract(
			origin: OriginFor<T>,
			shards: ShardSpecsOf<T>,
			k: u8,
			m: u8,
			providers: ProvidersOf<T>,
			duration: BlockNumberFor<T>,
			max_price: BalanceOf<T>,
			manifest: ManifestOf<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::do_create_contract(owner, shards, k, m, providers, duration, max_price, manifest)
		}

		/// Confirm, as the assigned provider, that the shard is stored and its root checked.
		///
		/// Operational, and ranked like a proof by [`PrioritizeProofs`] when the confirmation is
		/// due, so that a flood of normal transactions cannot hold uploads back until their
		/// shards' deadlines pass.
		#[pallet::call_index(1)]
		#[pallet::weight((T::WeightInfo::confirm_shard(), DispatchClass::Operational))]
		pub fn confirm_shard(
			origin: OriginFor<T>,
			contract: ContractId,
			shard: ShardIndex,
		) -> DispatchResult {
			let provider = ensure_signed(origin)?;
			Self::do_confirm_shard(provider, contract, shard)
		}

		/// Move a shard that is not confirmed yet (pending, at any time), declined or unconfirmed
		/// (vacant), or lost, to `new_provider` (owner only). The new provider may not hold
		/// another shard of the contract; being named on a vacant or lost one does not count.
		/// The new provider's price may not exceed the shard's agreed price.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::reassign_shard())]
		pub fn reassign_shard(
			origin: OriginFor<T>,
			contract: ContractId,
			shard: ShardIndex,
			new_provider: T::AccountId,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::do_reassign_shard(owner, contract, shard, new_provider)
		}

		/// End a contract: by anyone once it expired and its last period closed, or early by its
		/// owner. Finished periods are settled (faults slashed), capacity is freed and
		/// the unspent escrow returns to the owner. Proofs are paid when accepted, so nothing else
		/// is owed to providers.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::end_contract(T::MaxShards::get()))]
		pub fn end_contract(origin: OriginFor<T>, contract: ContractId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_end_contract(Some(who), contract)
		}

		/// Prove, as the shard's provider, that it stores the shard in the current `period`.
		/// Pays `price × bytes × P` from escrow when the proof verifies.
		///
		/// Operational, so that it may use the block space normal transactions cannot fill.
		#[pallet::call_index(4)]
		#[pallet::weight((T::WeightInfo::submit_proof(), DispatchClass::Operational))]
		pub fn submit_proof(
			origin: OriginFor<T>,
			contract: ContractId,
			shard: ShardIndex,
			period: PeriodIndex,
			proof: ProofOf<T>,
		) -> DispatchResult {
			let provider = ensure_signed(origin)?;
			let inputs = Self::public_inputs_for(&provider, contract, shard, period)?;
			let key = Self::verifying_key_for(period);
			ensure!(T::ProofVerifier::verify(&key, &inputs, &proof), Error::<T>::InvalidProof);
			Self::accept_proof(&provider, contract, shard, period).map(|_| ())
		}

		/// Submit several proofs at once (verified together when the verifier supports it). Each
		/// proof is accepted and paid, or rejected with a [`Event::ProofRejected`] event; the call
		/// itself fails only for a bad origin.
		///
		/// Operational, so that it may use the block space normal transactions cannot fill.
		#[pallet::call_index(5)]
		#[pallet::weight((
			T::WeightInfo::submit_proofs(proofs.len() as u32)
				.max(T::WeightInfo::submit_proofs_all_invalid(proofs.len() as u32)),
			DispatchClass::Operational
		))]
		pub fn submit_proofs(origin: OriginFor<T>, proofs: ProofBatchOf<T>) -> DispatchResult {
			let provider = ensure_signed(origin)?;
			Self::do_submit_proofs(provider, proofs);
			Ok(())
		}

		/// Set the length of the proving periods opened from now on (root only).
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::set_proving_period())]
		pub fn set_proving_period(
			origin: OriginFor<T>,
			blocks: BlockNumberFor<T>,
		) -> DispatchResult {
			ensure_root(origin)?;
			ensure!(!blocks.is_zero(), Error::<T>::ZeroProvingPeriod);
			ensure!(blocks <= T::MaxProvingPeriod::get(), Error::<T>::ProvingPeriodTooLong);
			ProvingPeriod::<T>::put(blocks);
			Self::deposit_event(Event::ProvingPeriodSet { blocks });
			Ok(())
		}

		/// Replace the verifying key (root only), from the next period on: a period's proofs are
		/// all checked against one key. The key must be usable — it decodes, its points are
		/// valid, and it is for [`Config::ChallengeCount`] challenges — so that root cannot, by
		/// mistake, install a key under which every provider faults.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::set_verifying_key())]
		pub fn set_verifying_key(origin: OriginFor<T>, key: VerifyingKeyOf<T>) -> DispatchResult {
			ensure_root(origin)?;
			let challenges =
				T::ProofVerifier::key_challenges(&key).ok_or(Error::<T>::InvalidVerifyingKey)?;
			ensure!(
				challenges == T::ChallengeCount::get(),
				Error::<T>::VerifyingKeyChallengeMismatch
			);
			let length = key.len() as u32;
			let from = CurrentPeriod::<T>::get().map_or(0, |current| current.saturating_add(1));
			NextVerifyingKey::<T>::put(key);
			Self::deposit_event(Event::VerifyingKeySet { length, from });
			Ok(())
		}

		/// Report, as the shard's provider, that it no longer holds an active shard (its data was
		/// damaged or gone). Finished periods are settled first; then the provider is slashed as
		/// for one missed period (of the current period: [`Config::FaultSlash`] of the stake that
		/// backs the shard, the owner compensated at most for the current period), and the shard
		/// is lost at once, so that the owner can repair it without waiting for
		/// [`Config::MaxConsecutiveFaults`] missed periods.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::report_lost())]
		pub fn report_lost(
			origin: OriginFor<T>,
			contract: ContractId,
			shard: ShardIndex,
		) -> DispatchResult {
			let provider = ensure_signed(origin)?;
			Self::do_report_lost(provider, contract, shard)
		}

		/// Decline, as the shard's provider, a shard assigned to it and not confirmed yet: its
		/// capacity is freed at once and the owner may move the shard to another provider. A
		/// provider cannot be held hostage by assignments whose data never comes.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::decline_shard())]
		pub fn decline_shard(
			origin: OriginFor<T>,
			contract: ContractId,
			shard: ShardIndex,
		) -> DispatchResult {
			let provider = ensure_signed(origin)?;
			Self::do_decline_shard(provider, contract, shard)
		}

		/// Keep a contract `blocks` longer (owner only), holding the escrow that pays for them.
		/// Each assigned shard is priced at the higher of its agreed price and its provider's
		/// current ask, which must be at most `max_price`; the contract may run at most
		/// [`Config::MaxContractDuration`] ahead of now.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::extend_contract(T::MaxShards::get()))]
		pub fn extend_contract(
			origin: OriginFor<T>,
			contract: ContractId,
			blocks: BlockNumberFor<T>,
			max_price: BalanceOf<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::do_extend_contract(owner, contract, blocks, max_price).map(|_| ())
		}
	}
}
