//! Key and value layout of the RocksDB engine.
//!
//! Keys (all big-endian, so a shard's records sort together and in order):
//! - `m ‖ contract ‖ index` → [`ShardMeta`] (state, length, root, BLAKE3);
//! - `c ‖ contract ‖ index ‖ chunk` → chunk bytes ‖ BLAKE3(chunk bytes);
//! - `t ‖ contract ‖ index ‖ level ‖ block` → up to [`NODES_PER_BLOCK`] tree nodes ‖ BLAKE3(nodes);
//! - `p ‖ contract ‖ index` → the BLAKE3 chaining value of each of the shard's pieces of
//!   [`PIECE_BYTES`](super::PIECE_BYTES) ‖ BLAKE3(values) (written with the commitment; a shard
//!   stored before it has none until a piece is first asked for).

use cairn_primitives::Fr;

use super::ShardId;
use crate::commitment::{node_from_bytes, node_to_bytes, ShardCommitment, NODE_BYTES};

pub const META: u8 = b'm';
pub const CHUNK: u8 = b'c';
pub const TREE: u8 = b't';
pub const PIECES: u8 = b'p';
pub const CHECKSUM_BYTES: usize = 32;
/// Tree nodes per stored block (64 KiB); a multiple of 4, so a sibling group never straddles blocks.
pub const NODES_PER_BLOCK: usize = 2048;
const ID_BYTES: usize = 12;
const PENDING: u8 = 0;
const COMMITTED: u8 = 1;
const META_BYTES: usize = 1 + 8 + NODE_BYTES + 32;

pub fn id_key(tag: u8, id: ShardId) -> Vec<u8> {
	let mut key = Vec::with_capacity(1 + ID_BYTES + 5);
	key.push(tag);
	key.extend_from_slice(&id.contract.to_be_bytes());
	key.extend_from_slice(&id.index.to_be_bytes());
	key
}

pub fn id_from_meta_key(key: &[u8]) -> Option<ShardId> {
	if key.len() != 1 + ID_BYTES || key[0] != META {
		return None;
	}
	let contract = u64::from_be_bytes(key[1..9].try_into().ok()?);
	let index = u32::from_be_bytes(key[9..13].try_into().ok()?);
	Some(ShardId { contract, index })
}

pub fn chunk_key(id: ShardId, chunk: u32) -> Vec<u8> {
	let mut key = id_key(CHUNK, id);
	key.extend_from_slice(&chunk.to_be_bytes());
	key
}

pub fn tree_key(id: ShardId, level: u8, block: u32) -> Vec<u8> {
	let mut key = id_key(TREE, id);
	key.push(level);
	key.extend_from_slice(&block.to_be_bytes());
	key
}

/// The payload of a shard's piece values.
pub fn values_payload(values: &[[u8; 32]]) -> Vec<u8> {
	values.concat()
}

pub fn values_from_payload(payload: &[u8]) -> Option<Vec<[u8; 32]>> {
	if !payload.len().is_multiple_of(32) {
		return None;
	}
	payload.chunks_exact(32).map(|value| value.try_into().ok()).collect()
}

/// `[start, end)` covering every key of `tag` for `id`.
pub fn id_range(tag: u8, id: ShardId) -> (Vec<u8>, Vec<u8>) {
	let start = id_key(tag, id);
	let mut end = start.clone();
	end.extend_from_slice(&[0xff; 6]);
	(start, end)
}

/// Appends the checksum of `payload`.
pub fn seal(payload: &[u8]) -> Vec<u8> {
	let mut value = Vec::with_capacity(payload.len() + CHECKSUM_BYTES);
	value.extend_from_slice(payload);
	value.extend_from_slice(blake3::hash(payload).as_bytes());
	value
}

/// The payload of a sealed value if its checksum matches.
pub fn unseal(value: &[u8]) -> Option<&[u8]> {
	let split = value.len().checked_sub(CHECKSUM_BYTES)?;
	let (payload, checksum) = value.split_at(split);
	(blake3::hash(payload).as_bytes() == checksum).then_some(payload)
}

pub fn nodes_payload(nodes: &[Fr]) -> Vec<u8> {
	nodes.iter().flat_map(node_to_bytes).collect()
}

pub fn nodes_from_payload(payload: &[u8]) -> Option<Vec<Fr>> {
	if !payload.len().is_multiple_of(NODE_BYTES) {
		return None;
	}
	payload.chunks_exact(NODE_BYTES).map(node_from_bytes).collect()
}

/// The metadata record of a shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardMeta {
	/// A put has started and not finished: the shard does not exist for readers.
	Pending { bytes: u64 },
	/// The shard is durable.
	Committed(ShardCommitment),
}

impl ShardMeta {
	pub fn encode(&self) -> Vec<u8> {
		let mut out = Vec::with_capacity(META_BYTES);
		match self {
			Self::Pending { bytes } => {
				out.push(PENDING);
				out.extend_from_slice(&bytes.to_le_bytes());
				out.resize(META_BYTES, 0);
			}
			Self::Committed(commitment) => {
				out.push(COMMITTED);
				out.extend_from_slice(&commitment.bytes.to_le_bytes());
				out.extend_from_slice(&node_to_bytes(&commitment.root));
				out.extend_from_slice(&commitment.blake3);
			}
		}
		seal(&out)
	}

	pub fn decode(value: &[u8]) -> Option<Self> {
		let payload = unseal(value)?;
		if payload.len() != META_BYTES {
			return None;
		}
		let bytes = u64::from_le_bytes(payload[1..9].try_into().ok()?);
		match payload[0] {
			PENDING => Some(Self::Pending { bytes }),
			COMMITTED => {
				let root = node_from_bytes(&payload[9..9 + NODE_BYTES])?;
				let blake3 = payload[9 + NODE_BYTES..].try_into().ok()?;
				Some(Self::Committed(ShardCommitment { root, blake3, bytes }))
			}
			_ => None,
		}
	}
}
