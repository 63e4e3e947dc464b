//! # Cairn runtime
//!
//! The FRAME runtime of the Cairn chain. It keeps accounts and balances, produces blocks with BABE
//! and finalizes them with GRANDPA; the storage-market pallets (providers, contracts, proofs) are
//! wired in here as they land.
//!
//! The runtime builds twice: natively (feature `std`, for tests and the node's genesis tooling) and
//! to WASM (the on-chain code the node executes). [`WASM_BINARY`] is the latter.
//!
//! A second WASM, [`upgrade_test::WASM_BINARY`], is this runtime built with the feature
//! `upgrade-test`: the next `spec_version`, with the market's contracts under other storage keys
//! and moved there on upgrade. The integration tests upgrade a chain to it.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime`/`impl_runtime_apis` expand to very large types and recursion.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

/// The upgrade test's runtime: this one built with the feature `upgrade-test`.
#[cfg(feature = "std")]
pub mod upgrade_test {
	include!(concat!(env!("OUT_DIR"), "/upgrade_test_wasm_binary.rs"));
}

extern crate alloc;

use alloc::vec::Vec;

// The pallets `cairn-node benchmark pallet` measures (`list_benchmarks!` and `add_benchmarks!`
// for the `Benchmark` runtime API in `apis`).
#[cfg(feature = "runtime-benchmarks")]
frame_benchmarking::define_benchmarks!(
	[pallet_providers, Providers]
	[pallet_market, Market]
);

pub mod apis;
pub mod configs;
#[cfg(feature = "std")]
pub mod extrinsic;
pub mod genesis_config_presets;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(feature = "std")]
pub use sp_runtime::BuildStorage;

/// Types the node needs without knowing the runtime's concrete extrinsic format.
pub mod opaque {
	use super::*;
	use sp_runtime::traits::Hash as HashT;

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
	/// The consensus keys of a validator.
	pub struct SessionKeys {
		pub babe: Babe,
		pub grandpa: Grandpa,
	}
}

/// Declares [`VERSION`] with `$spec_version` (`runtime_version` reads literals only).
macro_rules! runtime_version {
	($spec_version:tt) => {
		/// The runtime's version. `spec_name` identifies the chain to clients and explorers.
		#[sp_version::runtime_version]
		pub const VERSION: RuntimeVersion = RuntimeVersion {
			spec_name: alloc::borrow::Cow::Borrowed("cairn"),
			impl_name: alloc::borrow::Cow::Borrowed("cairn-node"),
			authoring_version: 1,
			spec_version: $spec_version,
			impl_version: 1,
			apis: apis::RUNTIME_API_VERSIONS,
			// 2: `PrioritizeProofs` joined the transaction extensions.
			transaction_version: 3,
			system_version: 1,
		};
	};
}

// 103: `Multisig` joined the pallets, so that root can be held by several keys; the market got a
// grace period for proofs, deposits, `decline_shard`, vacant shards, verifying keys that are
// checked and take effect per period, and an `on_idle` sweep.
// 106: a shard's confirmation deadline grows with the bytes its buyer sends
// (`ConfirmBytesPerBlock`).
#[cfg(not(feature = "upgrade-test"))]
runtime_version!(106);
// The upgrade test's runtime is the next version, so that the chain runs its migration.
#[cfg(feature = "upgrade-test")]
runtime_version!(107);

/// Block production timing.
pub mod time {
	use super::BlockNumber;

	/// Target time between blocks. BABE produces at most one block per slot.
	///
	/// Short on purpose: proving periods are counted in blocks, and the dev and test networks
	/// should go through several of them in minutes. A slot can never be changed after genesis.
	pub const MILLISECS_PER_BLOCK: u64 = 2000;
	/// One BABE slot.
	pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;
	/// Blocks per minute at the target block time.
	pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
	/// Blocks per hour.
	pub const HOURS: BlockNumber = MINUTES * 60;
	/// Blocks per day.
	pub const DAYS: BlockNumber = HOURS * 24;
	/// Length of a BABE epoch in slots: the span after which the epoch randomness is renewed.
	pub const EPOCH_DURATION_IN_SLOTS: u64 = 10 * MINUTES as u64;
}

/// Currency units. The token is CAIRN with 12 decimals.
pub mod currency {
	use super::Balance;

	/// Number of decimals of the token.
	pub const DECIMALS: u8 = 12;
	/// Token symbol shown by wallets and explorers.
	pub const SYMBOL: &str = "CAIRN";
	/// One whole token.
	pub const UNITS: Balance = 1_000_000_000_000;
	/// A thousandth of a token.
	pub const MILLI_UNITS: Balance = UNITS / 1_000;
	/// A millionth of a token.
	pub const MICRO_UNITS: Balance = UNITS / 1_000_000;
	/// The smallest balance an account may hold.
	pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNITS;

	/// Deposit held for keeping `items` storage items of `bytes` bytes in all on chain: a tenth
	/// of a token per item and a thousandth per byte, returned when the items are removed.
	pub const fn deposit(items: u32, bytes: u32) -> Balance {
		items as Balance * 100 * MILLI_UNITS + bytes as Balance * MILLI_UNITS
	}
}

/// The SS58 address prefix of Cairn accounts.
pub const SS58_PREFIX: u16 = 2207;

/// BABE epoch configuration at genesis: a quarter of the slots have a primary (VRF) winner and
/// every other slot gets a secondary author with a VRF output too, so every block carries fresh
/// randomness (which proving challenges are drawn from).
pub const BABE_GENESIS_EPOCH_CONFIG: sp_consensus_babe::BabeEpochConfiguration =
	sp_consensus_babe::BabeEpochConfiguration {
		c: (1, 4),
		allowed_slots: sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots,
	};

/// Signature of a transaction.
pub type Signature = MultiSignature;
/// An account on chain: the public key of its signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account.
pub type Balance = u128;
/// Transaction counter of an account.
pub type Nonce = u32;
/// A block hash.
pub type Hash = sp_core::H256;
/// A block number.
pub type BlockNumber = u32;
/// The address format of the `Address` field of an extrinsic.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A block with its justifications.
pub type SignedBlock = generic::SignedBlock<Block>;

/// The transaction extensions, checked in this order for every signed transaction.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	// Due proofs first: checked from storage, then ranked above anything a tip can buy.
	pallet_market::PrioritizeProofs<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// An extrinsic as the runtime decodes it.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// The payload a transaction's signer signs.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Migrations run on a runtime upgrade, besides the pallets' own.
#[cfg(not(feature = "upgrade-test"))]
type Migrations = ();
/// Migrations run on a runtime upgrade, besides the pallets' own: the upgrade test's runtime
/// moves the market's contracts to its own keys.
#[cfg(feature = "upgrade-test")]
type Migrations = (pallet_market::migrations::RekeyContracts<Runtime>,);

/// Dispatches blocks and extrinsics to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Babe = pallet_babe;

	#[runtime::pallet_index(2)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	#[runtime::pallet_index(7)]
	pub type Providers = pallet_providers;

	#[runtime::pallet_index(8)]
	pub type Market = pallet_market;

	#[runtime::pallet_index(9)]
	pub type Multisig = pallet_multisig;
}
