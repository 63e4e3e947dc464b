//! The `/cairn/shards/3` request-response protocol: its messages and their codec.
//!
//! Messages are SCALE-encoded behind a 4-byte little-endian length. The reader never trusts the
//! length: it refuses one above [`MAX_MESSAGE_BYTES`] and grows its buffer only as bytes arrive,
//! each step within a budget shared by every stream ([`Reading`]), so a stream that announces a
//! megabyte and sends nothing costs nothing, and thousands that send slowly cost no more than
//! the budget.

use std::io;

use codec::{Decode, Encode};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::{request_response, PeerId, StreamProtocol};

pub use crate::limits::Reading;

/// Largest piece of a shard one message carries; pieces are aligned to it, so each is one
/// subtree of the shard's BLAKE3 tree (see `cairn_storage::commitment::pieces`).
pub const CHUNK_BYTES: u64 = 1 << 20;

/// A piece of `Pieces`: small, so that a short range of a shard costs little more than itself
/// (each is one subtree of the shard's BLAKE3 tree, as a `Put` piece is).
pub const PIECE_BYTES: u64 = 64 << 10;

/// Most pieces one `Pieces` request asks for: a message's worth.
pub const MAX_PIECES: u32 = (CHUNK_BYTES / PIECE_BYTES) as u32;

/// Largest message either way: a piece, its BLAKE3 path and grant, and framing.
pub const MAX_MESSAGE_BYTES: usize = CHUNK_BYTES as usize + 64 * 1024;

/// Most leaves one `Leaves` request may ask for.
pub const MAX_LEAVES: usize = 64;

/// The farthest ahead of the receiver's best block a grant may expire: grants are short-lived,
/// so that one that leaks stops working soon.
pub const MAX_GRANT_BLOCKS: u32 = 3_600;

/// The protocol's name.
pub const SHARD_PROTOCOL: StreamProtocol = StreamProtocol::new("/cairn/shards/3");

/// The owner's permission for one peer to send one shard to its provider and to read it back,
/// until a block: an sr25519 signature by the contract owner's account over [`Grant::payload`].
/// A provider serves a shard's bytes only to its owner's grantees, so strangers cannot spend
/// its bandwidth, and requests that carry a valid grant are served apart from everyone else's.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Grant {
	/// The last block at which it holds.
	pub expires: u32,
	/// The owner's signature.
	pub signature: [u8; 64],
}

impl Grant {
	/// What the owner signs: the chain (its genesis hash), the shard, the grantee's peer id and
	/// the expiry, behind a domain tag, so that a grant serves no other chain, shard or peer.
	pub fn payload(
		genesis: &[u8; 32],
		contract: u64,
		shard: u32,
		grantee: &PeerId,
		expires: u32,
	) -> Vec<u8> {
		(b"cairn/shard-grant/1", genesis, contract, shard, grantee.to_bytes(), expires).encode()
	}
}

/// A request of the shard protocol.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Request {
	/// Bytes `offset..offset + data.len()` of shard `shard` of `contract`, which has `total`
	/// bytes. `offset` is a multiple of [`CHUNK_BYTES`] and every piece but the last is full;
	/// `path` proves the piece against the shard's BLAKE3 digest, and `grant` that the contract's
	/// owner lets this sender upload it.
	Put {
		/// The contract.
		contract: u64,
		/// The shard's index in it.
		shard: u32,
		/// Where the piece starts.
		offset: u64,
		/// The shard's length.
		total: u64,
		/// The piece.
		data: Vec<u8>,
		/// The piece's BLAKE3 path, from the piece up.
		path: Vec<[u8; 32]>,
		/// The owner's permission.
		grant: Grant,
	},
	/// Up to `len` (at most [`CHUNK_BYTES`]) bytes of a stored shard from `offset`, for a
	/// sender the owner granted the shard.
	Get {
		/// The contract.
		contract: u64,
		/// The shard's index in it.
		shard: u32,
		/// Where to start.
		offset: u64,
		/// How many bytes.
		len: u32,
		/// The owner's permission.
		grant: Grant,
	},
	/// The leaves at `indices` (at most [`MAX_LEAVES`]) of a stored shard, with their paths:
	/// an audit anyone may run.
	Leaves {
		/// The contract.
		contract: u64,
		/// The shard's index in it.
		shard: u32,
		/// The leaves.
		indices: Vec<u64>,
	},
	/// Pieces `first..first + count` (at most [`MAX_PIECES`]) of a stored shard, each with its
	/// BLAKE3 path, for a sender the owner granted the shard: part of a shard, each piece
	/// checked against the shard's on-chain digest alone. Piece `i` is the [`PIECE_BYTES`] from
	/// `i × PIECE_BYTES` (fewer for the last).
	Pieces {
		/// The contract.
		contract: u64,
		/// The shard's index in it.
		shard: u32,
		/// The first piece.
		first: u64,
		/// How many.
		count: u32,
		/// The owner's permission.
		grant: Grant,
	},
}

impl Request {
	/// What kind of request it is, for budgets and logs.
	pub fn kind(&self) -> RequestKind {
		match self {
			Request::Put { .. } => RequestKind::Put,
			Request::Get { .. } | Request::Pieces { .. } => RequestKind::Get,
			Request::Leaves { .. } => RequestKind::Leaves,
		}
	}
}

/// The kinds of request, each with its own budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestKind {
	/// A piece of a shard to store.
	Put,
	/// Bytes of a stored shard.
	Get,
	/// Leaves with Merkle paths (the costliest to answer).
	Leaves,
}

/// A response of the shard protocol.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Response {
	/// A `Put` piece is checked and staged; `complete` once every piece of the shard is here
	/// and checked (the provider then commits the shard and confirms it on chain).
	Stored {
		/// Bytes of the shard received so far.
		received: u64,
		/// Whether every piece is here.
		complete: bool,
	},
	/// Bytes asked by `Get`.
	Data(Vec<u8>),
	/// Leaves and paths asked by `Leaves`.
	Leaves(Vec<LeafProof>),
	/// The request was refused; the text says why.
	Refused(String),
	/// The request is over the sender's budget or every serving slot is taken: the same
	/// request may succeed a little later. The text says which.
	Busy(String),
	/// The pieces asked by `Pieces`, in order.
	Pieces(Vec<ShardPiece>),
}

/// A piece of a shard and its BLAKE3 path.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ShardPiece {
	/// The piece's bytes.
	pub data: Vec<u8>,
	/// The chaining values beside its path, from the piece up.
	pub path: Vec<[u8; 32]>,
}

/// A leaf and its Merkle path (as [`cairn_primitives::tree::MerkleProof`], fields as bytes).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct LeafProof {
	/// The leaf's index.
	pub index: u64,
	/// The leaf's bytes.
	pub leaf: Vec<u8>,
	/// Per level, the other three children (little-endian field elements).
	pub siblings: Vec<[[u8; 32]; 3]>,
}

impl From<&cairn_primitives::tree::MerkleProof> for LeafProof {
	fn from(proof: &cairn_primitives::tree::MerkleProof) -> Self {
		use cairn_primitives::field::fr_to_le_bytes;
		Self {
			index: proof.index,
			leaf: proof.leaf.to_vec(),
			siblings: proof
				.siblings
				.iter()
				.map(|level| level.each_ref().map(fr_to_le_bytes))
				.collect(),
		}
	}
}

/// Bytes a reader takes from its budget at a time.
const READ_STEP: usize = 64 * 1024;

/// Reads one length-prefixed message, allocating only for bytes that arrived, and holding them
/// within `budget` until the message is whole. Without a cap (an answer to this node's own
/// request, whose size its own services bound) the room for the whole message is taken at once,
/// so that a large one is not copied as its buffer grows.
pub async fn read_message<T, M>(io: &mut T, budget: &Reading) -> io::Result<M>
where
	T: AsyncRead + Unpin + Send,
	M: Decode,
{
	let mut len = [0u8; 4];
	io.read_exact(&mut len).await?;
	let len = u32::from_le_bytes(len) as usize;
	if len > MAX_MESSAGE_BYTES {
		return Err(io::Error::new(
			io::ErrorKind::InvalidData,
			format!("message of {len} bytes exceeds {MAX_MESSAGE_BYTES}"),
		));
	}
	let mut held = budget.hold();
	let mut buf = Vec::with_capacity(if budget.is_unbounded() { len } else { 0 });
	while buf.len() < len {
		let step = READ_STEP.min(len - buf.len());
		if !held.grow(step) {
			return Err(io::Error::new(
				io::ErrorKind::OutOfMemory,
				"too many bytes of requests are being read; try again later",
			));
		}
		let before = buf.len();
		buf.resize(before + step, 0);
		io.read_exact(&mut buf[before..]).await.map_err(|error| match error.kind() {
			io::ErrorKind::UnexpectedEof => io::Error::new(
				io::ErrorKind::UnexpectedEof,
				format!("message ended within bytes {before}..{} of {len}", before + step),
			),
			_ => error,
		})?;
	}
	decode_message(&buf)
}

/// Decodes a whole message body: all of it, and nothing after it.
pub fn decode_message<M: Decode>(mut bytes: &[u8]) -> io::Result<M> {
	let message = M::decode(&mut bytes)
		.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
	if !bytes.is_empty() {
		return Err(io::Error::new(io::ErrorKind::InvalidData, "trailing bytes after a message"));
	}
	Ok(message)
}

/// Writes one length-prefixed message and closes the stream's writing side.
pub async fn write_message<T, M>(io: &mut T, message: &M) -> io::Result<()>
where
	T: AsyncWrite + Unpin + Send,
	M: Encode,
{
	let bytes = message.encode();
	if bytes.len() > MAX_MESSAGE_BYTES {
		return Err(io::Error::new(io::ErrorKind::InvalidInput, "message too large"));
	}
	io.write_all(&(bytes.len() as u32).to_le_bytes()).await?;
	io.write_all(&bytes).await?;
	io.close().await
}

/// Length-prefixed SCALE messages with a size limit; requests are read within a budget shared
/// by every inbound stream.
#[derive(Clone, Default)]
pub struct ShardCodec {
	/// Bytes of inbound requests being read, from all streams together.
	pub reading: Reading,
}

#[async_trait::async_trait]
impl request_response::Codec for ShardCodec {
	type Protocol = StreamProtocol;
	type Request = Request;
	type Response = Response;

	async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Request>
	where
		T: AsyncRead + Unpin + Send,
	{
		read_message(io, &self.reading).await
	}

	/// Responses are only read for requests this node sent, which its own services bound.
	async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
	where
		T: AsyncRead + Unpin + Send,
	{
		read_message(io, &Reading::unbounded()).await
	}

	async fn write_request<T>(
		&mut self,
		_: &StreamProtocol,
		io: &mut T,
		request: Request,
	) -> io::Result<()>
	where
		T: AsyncWrite + Unpin + Send,
	{
		write_message(io, &request).await
	}

	async fn write_response<T>(
		&mut self,
		_: &StreamProtocol,
		io: &mut T,
		response: Response,
	) -> io::Result<()>
	where
		T: AsyncWrite + Unpin + Send,
	{
		write_message(io, &response).await
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	fn framed(body: &[u8]) -> Vec<u8> {
		let mut bytes = (body.len() as u32).to_le_bytes().to_vec();
		bytes.extend_from_slice(body);
		bytes
	}

	fn read<M: Decode>(bytes: Vec<u8>) -> io::Result<M> {
		futures::executor::block_on(read_message(
			&mut futures::io::Cursor::new(bytes),
			&Reading::unbounded(),
		))
	}

	#[test]
	fn oversized_and_short_messages_are_refused() {
		let mut buf = Vec::new();
		let big = Request::Leaves { contract: 0, shard: 0, indices: vec![3, 4] };
		futures::executor::block_on(write_message(&mut futures::io::Cursor::new(&mut buf), &big))
			.unwrap();
		assert_eq!(read::<Request>(buf).unwrap(), big);

		let mut buf = Vec::new();
		let huge = Response::Data(vec![0; MAX_MESSAGE_BYTES]);
		let error = futures::executor::block_on(write_message(
			&mut futures::io::Cursor::new(&mut buf),
			&huge,
		))
		.unwrap_err();
		assert_eq!(error.kind(), io::ErrorKind::InvalidInput);

		let mut over = u32::MAX.to_le_bytes().to_vec();
		over.extend_from_slice(&[0; 16]);
		assert_eq!(read::<Request>(over).unwrap_err().kind(), io::ErrorKind::InvalidData);
		// A length prefix with fewer bytes behind it: an error, and no buffer of that size.
		let mut short = (MAX_MESSAGE_BYTES as u32).to_le_bytes().to_vec();
		short.extend_from_slice(&[1, 2, 3]);
		assert_eq!(read::<Request>(short).unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
		// Trailing bytes after a valid message.
		let mut body = big.encode();
		body.push(0);
		assert_eq!(read::<Request>(framed(&body)).unwrap_err().kind(), io::ErrorKind::InvalidData);
	}

	/// The most pieces one `Pieces` answers, with the longest paths a shard can have, fit in a
	/// message; the variants added since a version keep the codes of those before them (nodes
	/// of both versions still talk).
	#[test]
	fn a_message_of_pieces_fits_and_old_messages_keep_their_codes() {
		use cairn_primitives::tree::{DEPTH, LEAF_BYTES};
		let largest_shard = (1u64 << (2 * DEPTH)) * LEAF_BYTES as u64;
		let levels = largest_shard.div_ceil(PIECE_BYTES).next_power_of_two().ilog2() + 1;
		let piece = ShardPiece {
			data: vec![5; PIECE_BYTES as usize],
			path: vec![[6; 32]; levels as usize],
		};
		let pieces = Response::Pieces(vec![piece; MAX_PIECES as usize]);
		let mut buf = Vec::new();
		futures::executor::block_on(write_message(
			&mut futures::io::Cursor::new(&mut buf),
			&pieces,
		))
		.unwrap();
		assert_eq!(read::<Response>(buf).unwrap(), pieces);
		let grant = Grant { expires: 1, signature: [2; 64] };
		let request = Request::Pieces { contract: 1, shard: 2, first: 3, count: 4, grant };
		assert_eq!(request.encode()[0], 3);
		assert_eq!(request.kind(), RequestKind::Get);
		assert_eq!(Response::Refused(String::new()).encode()[0], 3);
		assert_eq!(Response::Busy(String::new()).encode()[0], 4);
		assert_eq!(pieces.encode()[0], 5);
	}

	#[test]
	fn grants_bind_chain_shard_sender_and_expiry() {
		let peer = PeerId::random();
		let base = Grant::payload(&[1; 32], 7, 2, &peer, 100);
		assert_ne!(base, Grant::payload(&[2; 32], 7, 2, &peer, 100));
		assert_ne!(base, Grant::payload(&[1; 32], 8, 2, &peer, 100));
		assert_ne!(base, Grant::payload(&[1; 32], 7, 3, &peer, 100));
		assert_ne!(base, Grant::payload(&[1; 32], 7, 2, &PeerId::random(), 100));
		assert_ne!(base, Grant::payload(&[1; 32], 7, 2, &peer, 101));
	}

	// Untrusted bytes never panic the decoder: any body, framed or not, is a message or an error.
	proptest! {
		#![proptest_config(ProptestConfig::with_cases(2_000))]
		#[test]
		fn arbitrary_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
			let _ = read::<Request>(bytes.clone());
			let _ = read::<Response>(bytes.clone());
			let _ = read::<Request>(framed(&bytes));
			let _ = read::<Response>(framed(&bytes));
		}

		#[test]
		fn mutated_requests_never_panic_the_decoder(
			data in proptest::collection::vec(any::<u8>(), 0..512),
			flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
		) {
			let request = Request::Put {
				contract: 3,
				shard: 1,
				offset: 0,
				total: data.len() as u64,
				path: vec![[9; 32]; 3],
				grant: Grant { expires: 5, signature: [4; 64] },
				data,
			};
			let mut body = request.encode();
			for (at, byte) in flips {
				let len = body.len();
				body[at % len] ^= byte;
			}
			let _ = read::<Request>(framed(&body));
		}
	}
}
