//! Configuration of every pallet in the runtime.

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstU128, ConstU32, ConstU64, ConstU8, Randomness, VariantCountOf},
	weights::{
		constants::{RocksDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		IdentityFee, Weight,
	},
};
use frame_system::limits::{BlockLength, BlockWeights};
use pallet_transaction_payment::{FungibleAdapter, Multiplier, TargetedFeeAdjustment};
use sp_runtime::{
	traits::{BlakeTwo256, Bounded, Hash as _},
	FixedPointNumber, Perbill, Perquintill,
};
use sp_version::RuntimeVersion;

use super::{
	currency::{deposit, EXISTENTIAL_DEPOSIT, UNITS},
	time::{DAYS, EPOCH_DURATION_IN_SLOTS, HOURS, MILLISECS_PER_BLOCK, MINUTES, SLOT_DURATION},
	AccountId, Babe, Balance, Balances, Block, BlockNumber, Hash, Nonce, PalletInfo, Providers,
	Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin,
	RuntimeTask, System, SS58_PREFIX, VERSION,
};

const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// Most validators a chain may have (BABE and GRANDPA alike): the bound a genesis's validator set
/// is checked against.
pub const MAX_AUTHORITIES: u32 = 32;

/// Most signatories of a multisig account, such as the one that holds root on a production chain.
pub const MAX_MULTISIG_SIGNATORIES: u32 = 16;

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;
	/// Half of the 2 s slot for computation; the rest is for block propagation and import.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	/// 5 MiB blocks, of which normal transactions may fill `NORMAL_DISPATCH_RATIO`.
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |max| *max = NORMAL_DISPATCH_RATIO * *max)
		.build();
	pub const SS58Prefix: u16 = SS58_PREFIX;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	type DbWeight = RocksDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_babe::Config for Runtime {
	type EpochDuration = ConstU64<EPOCH_DURATION_IN_SLOTS>;
	type ExpectedBlockTime = ConstU64<MILLISECS_PER_BLOCK>;
	// The authority set is fixed at genesis; epochs change on their own.
	type EpochChangeTrigger = pallet_babe::SameAuthoritiesForever;
	type DisabledValidators = ();
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type MaxNominators = ConstU32<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the Unix epoch.
	type Moment = u64;
	type OnTimestampSet = Babe;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

// Fees follow block fullness, with Polkadot's parameters: the multiplier of the weight fee rises
// while blocks carry more than `TargetBlockFullness` of the normal-class weight, and falls back
// towards `MinimumMultiplier` while they carry less. It scales the weight fee only, not the
// length fee, so blocks filled by large remarks of little weight do not raise it: proofs are kept
// from those by the operational class and `pallet_market::PrioritizeProofs`.
parameter_types! {
	/// Share of the normal-class block weight above which fees rise (below it they fall).
	pub const TargetBlockFullness: Perquintill = Perquintill::from_percent(25);
	/// How fast the multiplier moves: a block full of normal transactions raises it by about
	/// 0.0056 %, an empty one lowers it by about 0.0019 %; with 2 s blocks, a day of full blocks
	/// multiplies weight fees by about 11.
	pub AdjustmentVariable: Multiplier = Multiplier::saturating_from_rational(75, 1_000_000);
	/// The lowest multiplier; high enough that the multiplier still recovers from it (checked
	/// by `pallet_transaction_payment`'s integrity test).
	pub MinimumMultiplier: Multiplier = Multiplier::saturating_from_rational(1, 10u128);
	/// No ceiling.
	pub MaximumMultiplier: Multiplier = Bounded::max_value();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = IdentityFee<Balance>;
	type FeeMultiplierUpdate = TargetedFeeAdjustment<
		Runtime,
		TargetBlockFullness,
		AdjustmentVariable,
		MinimumMultiplier,
		MaximumMultiplier,
	>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Held from the signatory that opens a multisig operation, for its storage item: 120 bytes,
	/// the key and value sizes `pallet_multisig::Config::DepositBase` gives (`32 + AccountId`
	/// and `4 + (BlockNumber, Balance, AccountId)`).
	pub const MultisigDepositBase: Balance = deposit(1, 120);
	/// Held in addition per approval the operation needs (32 bytes each in that item).
	pub const MultisigDepositFactor: Balance = deposit(0, 32);
}

/// Multisig accounts: on a production chain, root (the sudo key) is the multisig account of its
/// signatories, so that no single key can act as root.
impl pallet_multisig::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type Currency = Balances;
	type DepositBase = MultisigDepositBase;
	type DepositFactor = MultisigDepositFactor;
	type MaxSignatories = ConstU32<MAX_MULTISIG_SIGNATORIES>;
	type WeightInfo = pallet_multisig::weights::SubstrateWeight<Runtime>;
	type BlockNumberProvider = System;
}

parameter_types! {
	/// Stake a provider holds for every TiB of capacity it offers.
	pub const MinStakePerTib: Balance = 100 * UNITS;
	/// Blocks between a provider's `begin_exit` and its `withdraw`: a day. A provider that stops
	/// proving is faulted, and slashed, over `MaxConsecutiveFaults` periods, the last of which is
	/// settled a period later still (a proof for period `p` is accepted until the end of
	/// `p + 1`) and then reached by the fault sweep; its stake must not leave before that. So
	/// this is at least `(MaxConsecutiveFaults + 2)` proving periods of every chain (five hours
	/// with the production period of an hour; checked for every genesis preset by
	/// `genesis_config_presets::tests`), with room for the sweep's lag and for root lengthening
	/// the period.
	pub const ProviderUnbondingPeriod: BlockNumber = DAYS;
	/// Largest capacity one provider may offer: 1 PiB.
	pub const MaxProviderCapacity: u64 = 1 << 50;
}

impl pallet_providers::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinStakePerTib = MinStakePerTib;
	type UnbondingPeriod = ProviderUnbondingPeriod;
	type MaxCapacity = MaxProviderCapacity;
	type MaxPeerIdLen = ConstU32<64>;
	type MaxMultiaddrLen = ConstU32<128>;
	type MaxMultiaddrs = ConstU32<8>;
	type WeightInfo = pallet_providers::weights::SubstrateWeight<Runtime>;
}

/// Challenge seeds: BABE's VRF output of the parent block, which no provider knows before that
/// block is authored. Only block 1 has no VRF parent; its seed falls back to the parent hash.
pub struct ChallengeRandomness;

impl Randomness<Hash, BlockNumber> for ChallengeRandomness {
	fn random(subject: &[u8]) -> (Hash, BlockNumber) {
		let (randomness, known_since) =
			pallet_babe::ParentBlockRandomness::<Runtime>::random(subject);
		let seed =
			randomness.unwrap_or_else(|| BlakeTwo256::hash_of(&(subject, System::parent_hash())));
		(seed, known_since)
	}
}

parameter_types! {
	/// Longest storage contract: a year.
	pub const MaxContractDuration: BlockNumber = 365 * DAYS;
	/// Blocks a provider has to confirm an assigned shard, besides the time its buyer takes to
	/// send it.
	pub const ConfirmWindow: BlockNumber = 5 * MINUTES;
	/// Bytes a buyer is counted on to send per block: 1 MiB/s (about 8 Mbit/s of upload). A
	/// full segment at 4+2 (1.5 GB of shards) has about 29 minutes to be confirmed.
	pub const ConfirmBytesPerBlock: u64 = (MILLISECS_PER_BLOCK / 1000) << 20;
	/// Longest proving period root may set: the periods a provider can still be slashed for
	/// (`MaxConsecutiveFaults + 1 + GRACE_PERIODS`, five) stay within its unbonding (a day),
	/// as a runtime test checks.
	pub const MaxProvingPeriod: BlockNumber = 4 * HOURS;
	/// Share of the stake that backs a shard (the provider's stake × shard bytes / capacity)
	/// slashed per missed proving period of the shard; the buyer gets back at most what it paid,
	/// the rest is burned. 10 %: missing a period on everything it stores costs a provider at
	/// most a tenth of its stake, and a shard lost after three missed periods about 27 % of the
	/// stake behind it.
	pub const FaultSlash: Perbill = Perbill::from_percent(10);
	/// Held per contract for its record (owner, terms, escrow: about a hundred bytes), returned
	/// at its end.
	pub const ContractDeposit: Balance = deposit(1, 100);
	/// Held per shard for its part of the record (commitments, provider, price, state: about
	/// 170 bytes), returned at its end.
	pub const ShardDeposit: Balance = deposit(0, 170);
	/// Held per byte of a contract's sealed manifest, returned at its end.
	pub const ManifestByteDeposit: Balance = deposit(0, 1);
}

impl pallet_market::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Providers = Providers;
	type Randomness = ChallengeRandomness;
	// Verified natively by the node (host function), not in WASM.
	type ProofVerifier = pallet_market::HostGroth16Verifier;
	// The proving circuit's challenge count; keys for another count do not verify.
	type ChallengeCount = ConstU32<{ cairn_prover::DEFAULT_CHALLENGES as u32 }>;
	type MaxShards = ConstU32<32>;
	type MaxContractDuration = MaxContractDuration;
	type ConfirmWindow = ConfirmWindow;
	type ConfirmBytesPerBlock = ConfirmBytesPerBlock;
	type MaxProvingPeriod = MaxProvingPeriod;
	type FaultSlash = FaultSlash;
	type MaxConsecutiveFaults = ConstU32<3>;
	type SweepContractsPerBlock = ConstU32<16>;
	type ContractDeposit = ContractDeposit;
	type ShardDeposit = ShardDeposit;
	/// A sealed manifest: name, sizes, coding and key material of one file (a few hundred
	/// bytes at most).
	type MaxManifestBytes = ConstU32<1024>;
	type ManifestByteDeposit = ManifestByteDeposit;
	type PeriodHistory = ConstU32<16>;
	type MaxProofLen = ConstU32<512>;
	type MaxProofsPerBatch = ConstU32<16>;
	type MaxVerifyingKeyLen = ConstU32<16384>;
	type WeightInfo = pallet_market::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_market::host::BenchmarkProofs;
}
