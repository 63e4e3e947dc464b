//! The records of the market: shards, contracts, proving periods, and what a proof must show.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use scale_info::TypeInfo;

/// Identifies a storage contract; assigned in creation order.
pub type ContractId = u64;
/// Position of a shard in its contract (`0 .. k + m`).
pub type ShardIndex = u32;
/// Number of a proving period; period 0 opens at the first block.
pub type PeriodIndex = u32;

/// What the buyer commits to for one shard.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct ShardSpec {
	/// Poseidon Merkle root of the shard: a BN254 field element, little-endian.
	pub root: [u8; 32],
	/// BLAKE3 digest of the shard's bytes, for integrity checks on download.
	pub blake3: [u8; 32],
	/// Length of the shard in bytes.
	pub bytes: u64,
}

/// Where a shard stands.
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
pub enum ShardStatus<BlockNumber> {
	/// Assigned; the provider must confirm that it stores the shard by `deadline`.
	Pending {
		/// Last block at which the provider may confirm.
		deadline: BlockNumber,
	},
	/// Confirmed: proven every period, paid per proof.
	Active,
	/// Missed too many consecutive periods, or reported lost by its provider; waits for
	/// reassignment to a new provider.
	Lost,
	/// Declined by its provider, or not confirmed by the deadline: no provider holds it and its
	/// capacity is free again; waits for reassignment to a new provider.
	Vacant,
}

impl<BlockNumber> ShardStatus<BlockNumber> {
	/// Whether the shard's provider has capacity reserved for it: pending or active.
	pub fn holds_capacity(&self) -> bool {
		matches!(self, ShardStatus::Pending { .. } | ShardStatus::Active)
	}
}

/// One shard of a contract and the provider that keeps it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct Shard<AccountId, Balance, BlockNumber> {
	/// What was committed.
	pub spec: ShardSpec,
	/// The provider assigned to the shard.
	pub provider: AccountId,
	/// The price agreed with that provider, per byte per block.
	pub price_per_byte_block: Balance,
	/// Where the shard stands.
	pub status: ShardStatus<BlockNumber>,
	/// Whether the current assignment repairs a lost shard.
	pub repair: bool,
	/// Every period up to and including this one is settled: proven, or counted as a fault.
	/// Set to the period of confirmation, so the first period due is the next one.
	pub settled_through: PeriodIndex,
	/// The latest period with an accepted proof.
	pub last_proven: Option<PeriodIndex>,
	/// The earlier proven periods near `last_proven`: bit `i` is set when period
	/// `last_proven - 1 - i` was proven too. A proof may arrive for the period before the
	/// latest proven one (in its grace window), so the latest alone does not say what is proven.
	pub proven_before_last: u32,
	/// Faults since the last accepted proof.
	pub consecutive_faults: u32,
	/// Proofs accepted for this shard over the contract's life, whichever provider made them.
	pub proofs: u32,
	/// Paid from escrow to the current provider for this shard and not yet given back to the
	/// owner by that provider's slashes: the most its further faults can compensate the owner
	/// with, so that the owner never gets back more than it paid.
	pub refundable: Balance,
}

impl<AccountId, Balance, BlockNumber> Shard<AccountId, Balance, BlockNumber> {
	/// Whether a proof of `period` was accepted (and is still remembered: periods more than 32
	/// before the latest proven one are forgotten, long after they were settled).
	pub fn is_proven(&self, period: PeriodIndex) -> bool {
		match self.last_proven {
			Some(last) if period == last => true,
			Some(last) if period < last => {
				let bit = last - period - 1;
				bit < u32::BITS && self.proven_before_last & (1 << bit) != 0
			}
			_ => false,
		}
	}

	/// Remember that a proof of `period` was accepted.
	pub fn record_proof(&mut self, period: PeriodIndex) {
		match self.last_proven {
			Some(last) if period < last => {
				let bit = last - period - 1;
				if bit < u32::BITS {
					self.proven_before_last |= 1 << bit;
				}
			}
			Some(last) if period == last => {}
			Some(last) => {
				// `last` becomes bit `period - last - 1`; the older bits move up behind it.
				let shift = period - last;
				let older = self.proven_before_last.checked_shl(shift).unwrap_or(0);
				let last_bit = 1u32.checked_shl(shift - 1).unwrap_or(0);
				self.proven_before_last = older | last_bit;
				self.last_proven = Some(period);
			}
			None => {
				self.proven_before_last = 0;
				self.last_proven = Some(period);
			}
		}
	}

	/// The proven periods in `after + 1 ..= through`, newest first.
	pub fn proven_in(
		&self,
		after: PeriodIndex,
		through: PeriodIndex,
	) -> impl Iterator<Item = PeriodIndex> + '_ {
		let last = self.last_proven.unwrap_or(0);
		let remembered = if self.last_proven.is_some() { u32::BITS + 1 } else { 0 };
		(0..remembered)
			.map_while(move |back| last.checked_sub(back))
			.take_while(move |period| *period > after)
			.filter(move |period| *period <= through && self.is_proven(*period))
	}
}

/// A storage contract: shards, their providers, and the buyer's escrow.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct Contract<AccountId, Balance, BlockNumber, Shards> {
	/// The buyer: pays, receives compensation for faults and refunds, and may reassign shards or
	/// end early.
	pub owner: AccountId,
	/// Data shards: any `k` shards rebuild the file.
	pub k: u8,
	/// Parity shards.
	pub m: u8,
	/// Block of creation.
	pub start: BlockNumber,
	/// First block after the contract: periods opening at or after it are not due.
	pub end: BlockNumber,
	/// Escrow still held from the owner for this contract.
	pub escrow: Balance,
	/// Held from the owner for the state the contract occupies, returned whole at its end.
	pub deposit: Balance,
	/// Paid to providers so far.
	pub paid: Balance,
	/// The `k + m` shards.
	pub shards: Shards,
}

/// One proving period.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct PeriodInfo<BlockNumber> {
	/// The block that opened it.
	pub start: BlockNumber,
	/// Its length in blocks.
	pub length: BlockNumber,
	/// The challenge seed: randomness taken at `start`.
	pub seed: [u8; 32],
	/// Whether a verifying key was in force for the period. A period without one counts no
	/// faults: nobody could prove it.
	pub verifiable: bool,
}

/// Where the fault sweep stands.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct SweepState<BlockNumber> {
	/// The period that was current when this pass started; the pass settles every contract
	/// through the last period whose grace was over then (or later).
	pub started_in: PeriodIndex,
	/// The block this pass started at.
	pub started_at: BlockNumber,
	/// The last contract visited, if any.
	pub last_visited: Option<ContractId>,
	/// Contracts visited so far in this pass.
	pub visited: u32,
}

impl<BlockNumber> SweepState<BlockNumber> {
	/// A pass over every contract, starting now, in period `started_in`.
	pub fn new(started_in: PeriodIndex, started_at: BlockNumber) -> Self {
		Self { started_in, started_at, last_visited: None, visited: 0 }
	}
}

/// One proof in a batch.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxProofLen))]
pub struct ProofSubmission<MaxProofLen: frame_support::traits::Get<u32>> {
	/// The contract.
	pub contract: ContractId,
	/// The shard in it.
	pub shard: ShardIndex,
	/// The period proven.
	pub period: PeriodIndex,
	/// The proof bytes.
	pub proof: BoundedVec<u8, MaxProofLen>,
}

/// What a proof of storage proves, recomputed on chain: the shard's root, the challenged leaf
/// indices, and the binding value that ties the proof to one provider, contract, shard and period.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct PublicInputs {
	/// Poseidon Merkle root of the shard (little-endian field element).
	pub root: [u8; 32],
	/// The challenged leaf indices, in challenge order.
	pub indices: Vec<u64>,
	/// `cairn_primitives::challenge::binding` of the provider, contract, shard and period.
	pub binding: [u8; 32],
}

/// Checks proofs of storage against a verifying key. The runtime plugs in the Groth16 verifier.
pub trait ProofVerifier {
	/// The number of challenges a proof answers under `verifying_key`, when the key is usable
	/// (it decodes, its points are valid and its public inputs fit that many challenges);
	/// `None` for a key no proof could pass under.
	fn key_challenges(verifying_key: &[u8]) -> Option<u32>;

	/// Whether `proof` proves `public_inputs` under `verifying_key`.
	fn verify(verifying_key: &[u8], public_inputs: &PublicInputs, proof: &[u8]) -> bool;

	/// The verdict on each proof of the batch, in order. A verifier may check them together
	/// (random linear combination) and look at single proofs only when that check fails.
	fn verify_batch(verifying_key: &[u8], batch: &[(PublicInputs, &[u8])]) -> Vec<bool> {
		batch.iter().map(|(inputs, proof)| Self::verify(verifying_key, inputs, proof)).collect()
	}
}
