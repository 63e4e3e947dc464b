//! The records the registry keeps.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::traits::Saturating;

/// Bytes in a tebibyte, the unit [`crate::Config::MinStakePerTib`] is counted in.
pub const TIB: u64 = 1 << 40;

/// Whether a provider takes new shards.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum ProviderStatus<BlockNumber> {
	/// Takes new shards (when its stake covers its capacity).
	Active,
	/// Takes no new shards; may withdraw its stake from `unlock_at` on, once it holds no shard.
	Exiting {
		/// First block at which the stake can be withdrawn.
		unlock_at: BlockNumber,
	},
}

/// What the chain knows about one provider.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct ProviderInfo<Balance, BlockNumber, PeerId, Multiaddrs> {
	/// Stake held under [`crate::HoldReason::ProviderStake`]; slashes lower it.
	pub stake: Balance,
	/// Offered capacity, in bytes.
	pub capacity: u64,
	/// Bytes reserved by assigned shards.
	pub used: u64,
	/// Number of shards assigned.
	pub shards: u32,
	/// Asked price per byte per block.
	pub price_per_byte_block: Balance,
	/// The node's libp2p peer id.
	pub peer_id: PeerId,
	/// The node's multiaddresses.
	pub multiaddrs: Multiaddrs,
	/// Faults (missed proving periods) recorded over the provider's life.
	pub faults: u32,
	/// Whether the provider takes new shards.
	pub status: ProviderStatus<BlockNumber>,
	/// Block of registration.
	pub registered_at: BlockNumber,
}

impl<Balance, BlockNumber, PeerId, Multiaddrs>
	ProviderInfo<Balance, BlockNumber, PeerId, Multiaddrs>
{
	/// Capacity not reserved by any shard.
	pub fn free_capacity(&self) -> u64 {
		self.capacity.saturating_sub(self.used)
	}
}

/// What a slash took from a provider's stake, and where it went.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct Slashed<Balance> {
	/// Moved to the beneficiary (the owner of the data the fault concerned).
	pub compensation: Balance,
	/// Burned: taken from the total issuance, so that nobody gains it.
	pub burned: Balance,
}

impl<Balance: Saturating + Copy> Slashed<Balance> {
	/// Everything taken from the stake.
	pub fn total(&self) -> Balance {
		self.compensation.saturating_add(self.burned)
	}
}
