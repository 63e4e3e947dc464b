//! Moving shards over the shard network, for the client service: a shard goes to its provider
//! piece by piece, each piece with its BLAKE3 path and the owner's grant; a shard comes back
//! piece by piece, asked for with the owner's grant, and is checked against its digest; the part
//! of one a range read needs comes back in small pieces, each with its BLAKE3 path and checked
//! on its own. A provider that says it is busy (over
//! this node's budget, or out of serving slots) is asked again after a pause, so budgets slow
//! transfers down instead of failing them.

use std::{ops::Range, time::Duration};

use cairn_net::{
	Grant, NetError, Network, Request, Response, ShardPiece, CHUNK_BYTES, MAX_PIECES, PIECE_BYTES,
};
use cairn_storage::commitment::pieces::{verify_piece, PiecePath};
use futures::StreamExt;
use libp2p::{Multiaddr, PeerId};
use pallet_market::{ContractId, ShardSpec};

use crate::shards::{Filling, ReadThrough, ShardFile};

/// Pieces of one shard in flight at once.
const WINDOW: usize = 4;

/// A piece not answered within this is a stalled provider.
const PIECE_TIMEOUT: Duration = Duration::from_secs(30);

/// Times a busy provider is asked again for one piece, with pauses growing to [`MAX_PAUSE`].
const BUSY_RETRIES: u32 = 30;
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// Why a shard did not get to or from a provider.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
	/// The provider could not be reached, or did not answer in time.
	#[error("{0}")]
	Unreachable(String),
	/// The provider stayed busy through every retry.
	#[error("{0} stayed busy")]
	Busy(PeerId),
	/// The provider refused, for the reason it gave.
	#[error("{0}")]
	Refused(String),
	/// The provider's answer does not check: a wrong length or digest, an unexpected answer,
	/// pieces missing.
	#[error("{0}")]
	BadAnswer(String),
	/// This node could not read or write the shard on its own disk.
	#[error("this node's copy of the shard: {0}")]
	Disk(#[from] std::io::Error),
}

impl TransferError {
	/// Whether asking again later (or another provider) may succeed: an unreachable or busy
	/// provider may answer later; a refusal or a bad answer will not change by itself.
	pub fn is_transient(&self) -> bool {
		matches!(self, Self::Unreachable(_) | Self::Busy(_))
	}
}

/// For the client service, which still reports errors as text.
impl From<TransferError> for String {
	fn from(error: TransferError) -> Self {
		error.to_string()
	}
}

/// Where a provider's shard network is: its peer id and addresses, from its on-chain record.
#[derive(Clone, Debug)]
pub struct Endpoint {
	/// The peer id.
	pub peer: PeerId,
	/// Its addresses.
	pub addresses: Vec<Multiaddr>,
}

/// Sends `request`, asking again while the provider is busy.
async fn ask(
	network: &Network,
	to: &Endpoint,
	request: Request,
) -> Result<Response, TransferError> {
	let peer = to.peer;
	let mut pause = Duration::from_millis(100);
	for _ in 0..BUSY_RETRIES {
		let sent = network.request(peer, to.addresses.clone(), request.clone());
		let response = tokio::time::timeout(PIECE_TIMEOUT, sent).await.map_err(|_| {
			TransferError::Unreachable(format!("no answer in {}s", PIECE_TIMEOUT.as_secs()))
		})?;
		let busy = match response {
			Ok(Response::Busy(reason)) => reason,
			// This node's own transfers with the peer fill the connection: wait for one.
			Err(NetError::Saturated { .. }) => "this node's requests fill the connection".into(),
			Ok(response) => return Ok(response),
			Err(error) => return Err(TransferError::Unreachable(error.to_string())),
		};
		log::debug!(target: "cairn-client", "{peer} is busy ({busy}); asking again");
		tokio::time::sleep(pause).await;
		pause = (pause * 2).min(MAX_PAUSE);
	}
	Err(TransferError::Busy(peer))
}

/// Fetches a shard's `bytes` (`None`: the whole shard) from its provider into `into` (from the
/// file's start), with the owner's `grant` to read it. The bytes come in whole pieces, each
/// checked by its BLAKE3 path against the shard's digest before any of its bytes is written, and
/// are written in order: `into` says how far after each answer, so that its followers read
/// only checked bytes, while the rest arrives. A whole shard is thus checked piece by piece as
/// it comes, with no second pass over it.
#[allow(clippy::too_many_arguments)]
pub async fn fetch_shard(
	network: &Network,
	from: &Endpoint,
	contract: ContractId,
	index: u32,
	spec: &ShardSpec,
	bytes: Option<Range<u64>>,
	grant: Grant,
	fetched: &(dyn Fn(u64) + Send + Sync),
	into: &Filling,
) -> Result<(), TransferError> {
	let asked = Asked { network, from, contract, index, grant: &grant };
	let bytes = bytes.map_or(0..spec.bytes, |bytes| bytes.start..bytes.end.min(spec.bytes));
	fetch_pieces(&asked, spec, bytes, fetched, into).await?;
	into.done();
	Ok(())
}

/// Whom a fetch asks, for which shard, with what permission.
struct Asked<'a> {
	network: &'a Network,
	from: &'a Endpoint,
	contract: ContractId,
	index: u32,
	grant: &'a Grant,
}

/// The pieces of a shard that hold its `bytes`: their indices.
fn pieces_holding(bytes: &Range<u64>) -> Range<u64> {
	bytes.start / PIECE_BYTES..bytes.end.div_ceil(PIECE_BYTES)
}

/// The bytes of a `total`-byte shard that fetching its `bytes` moves: their whole pieces.
pub fn moved_bytes(bytes: &Range<u64>, total: u64) -> u64 {
	let pieces = pieces_holding(bytes);
	(pieces.end * PIECE_BYTES).min(total).saturating_sub(pieces.start * PIECE_BYTES)
}

/// `bytes` of the shard (within it), written to `into` from its start: the pieces that hold
/// them, [`MAX_PIECES`] a request and [`WINDOW`] requests in flight, each piece checked by its
/// path against the shard's digest; the answers are taken in order.
async fn fetch_pieces(
	asked: &Asked<'_>,
	spec: &ShardSpec,
	bytes: Range<u64>,
	fetched: &(dyn Fn(u64) + Send + Sync),
	into: &Filling,
) -> Result<(), TransferError> {
	let (contract, shard) = (asked.contract, asked.index);
	let pieces = pieces_holding(&bytes);
	let mut answers =
		futures::stream::iter((pieces.start..pieces.end).step_by(MAX_PIECES as usize))
			.map(|first| {
				let count = (pieces.end - first).min(u64::from(MAX_PIECES)) as u32;
				let request =
					Request::Pieces { contract, shard, first, count, grant: asked.grant.clone() };
				async move { (first, count as usize, ask(asked.network, asked.from, request).await) }
			})
			.buffered(WINDOW);
	while let Some((first, count, answer)) = answers.next().await {
		let got = match answer? {
			Response::Pieces(got) if got.len() == count => got,
			Response::Pieces(got) => {
				return Err(TransferError::BadAnswer(format!(
					"{} pieces instead of {count}",
					got.len()
				)))
			}
			other => return Err(not_asked_for(other)),
		};
		let moved: u64 = got.iter().map(|piece| piece.data.len() as u64).sum();
		let (spec, bytes, file) = (spec.clone(), bytes.clone(), into.file().clone());
		let to =
			tokio::task::spawn_blocking(move || write_checked(&spec, &bytes, first, got, &file))
				.await
				.map_err(std::io::Error::other)??;
		into.filled(to);
		fetched(moved);
	}
	Ok(())
}

/// Checks pieces `first..` of a shard by their paths and writes the part of each within `bytes`
/// to `file` (which holds `bytes` from its start); how far the file is filled after them.
fn write_checked(
	spec: &ShardSpec,
	bytes: &Range<u64>,
	first: u64,
	pieces: Vec<ShardPiece>,
	file: &ShardFile,
) -> Result<u64, TransferError> {
	for (at, piece) in (first..).zip(&pieces) {
		let offset = at * PIECE_BYTES;
		verify_piece(&spec.blake3, spec.bytes, PIECE_BYTES, offset, &piece.data, &piece.path)
			.map_err(|e| TransferError::BadAnswer(format!("piece {at}: {e}")))?;
	}
	let mut to = 0;
	for (at, piece) in (first..).zip(&pieces) {
		let offset = at * PIECE_BYTES;
		let (from, end) =
			(offset.max(bytes.start), (offset + piece.data.len() as u64).min(bytes.end));
		file.write_all_at(
			&piece.data[(from - offset) as usize..(end - offset) as usize],
			from - bytes.start,
		)?;
		to = end - bytes.start;
	}
	Ok(to)
}

/// A shard ready to send: its file, and the BLAKE3 path of each of its pieces, worked out once
/// where the shard is made (on a blocking thread), however often it is sent.
pub struct OutgoingShard {
	shard: ShardFile,
	bytes: u64,
	paths: Vec<PiecePath>,
}

impl OutgoingShard {
	/// `shard`, as reading it through found it.
	pub fn new(shard: ShardFile, read: ReadThrough) -> Self {
		Self { shard, bytes: read.bytes, paths: read.paths }
	}
}

/// Sends a whole shard to its provider, piece by piece with `grant`, until the provider has
/// every piece (it then commits the shard and confirms it on chain).
pub async fn push_shard(
	network: &Network,
	to: &Endpoint,
	contract: ContractId,
	index: u32,
	shard: &OutgoingShard,
	grant: Grant,
	sent: &(dyn Fn(u64) + Send + Sync),
) -> Result<(), TransferError> {
	let total = shard.bytes;
	let grant = &grant;
	let mut replies = futures::stream::iter(0..shard.paths.len())
		.map(|piece| {
			let path = shard.paths[piece].clone();
			let offset = piece as u64 * CHUNK_BYTES;
			let len = CHUNK_BYTES.min(total - offset);
			async move {
				let chunk = shard.shard.read_at(offset, len as usize).await?;
				let request = Request::Put {
					contract,
					shard: index,
					offset,
					total,
					data: chunk,
					path,
					grant: grant.clone(),
				};
				match ask(network, to, request).await? {
					Response::Stored { complete, .. } => Ok((len, complete)),
					other => Err(not_asked_for(other)),
				}
			}
		})
		.buffer_unordered(WINDOW);
	let mut complete = false;
	while let Some(reply) = replies.next().await {
		let (len, done) = reply?;
		complete |= done;
		sent(len);
	}
	if !complete {
		return Err(TransferError::BadAnswer(
			"the provider did not report every piece received".into(),
		));
	}
	Ok(())
}

/// An answer other than the one asked for: the provider's refusal, with its reason, or a bad
/// answer, named by its kind (its bytes are no reader's business).
fn not_asked_for(answer: Response) -> TransferError {
	let kind = match answer {
		Response::Refused(reason) => return TransferError::Refused(reason),
		Response::Stored { .. } => "Stored",
		Response::Data(_) => "Data",
		Response::Leaves(_) => "Leaves",
		Response::Busy(_) => "Busy",
		Response::Pieces(_) => "Pieces",
	};
	TransferError::BadAnswer(format!("an answer of another kind ({kind})"))
}

#[cfg(test)]
mod tests {
	use std::{io::Read, sync::Arc};

	use cairn_net::{Config, RequestHandler, Standing};
	use cairn_storage::store::{RocksShardStore, ShardId, ShardStore, StoreConfig};
	use futures::future::BoxFuture;

	use super::*;
	use crate::shards::ShardDir;

	/// Serves the pieces of one stored shard as a provider does; with `tamper`, one byte of
	/// that piece is flipped on the way.
	struct Serves {
		store: RocksShardStore,
		tamper: Option<u64>,
	}

	const SHARD: ShardId = ShardId { contract: 1, index: 0 };

	impl RequestHandler for Serves {
		fn check(&self, _: PeerId, _: &Request) -> Result<Standing, Response> {
			Ok(Standing::Granted)
		}

		fn handle(&self, _: PeerId, request: Request) -> BoxFuture<'static, Response> {
			let answer = match request {
				Request::Pieces { first, count, .. } => {
					match self.store.pieces(SHARD, first..first + u64::from(count)) {
						Ok(pieces) => Response::Pieces(
							(first..)
								.zip(pieces)
								.map(|(at, (mut data, path))| {
									if self.tamper == Some(at) {
										data[7] ^= 1;
									}
									ShardPiece { data, path }
								})
								.collect(),
						),
						Err(error) => Response::Refused(error.to_string()),
					}
				}
				_ => Response::Refused("pieces only".into()),
			};
			Box::pin(async move { answer })
		}
	}

	fn network() -> Network {
		let listen = "/ip4/127.0.0.1/tcp/0".parse().expect("an address");
		let (network, driver) =
			cairn_net::start(libp2p::identity::Keypair::generate_ed25519(), Config::new(listen))
				.expect("a network");
		tokio::spawn(driver);
		network
	}

	/// A shard, or a range of one, comes over the shard network in whole pieces, each checked
	/// against the shard's digest: the bytes come back exact and only their pieces are moved; a
	/// piece changed on the way is refused before any of its bytes is written.
	#[tokio::test]
	async fn a_shard_comes_in_pieces_each_checked_against_the_digest() {
		let dir = tempfile::tempdir().expect("a directory");
		let mut shard = vec![0u8; 40 * PIECE_BYTES as usize + 1_000];
		blake3::Hasher::new().update(b"shard").finalize_xof().fill(&mut shard);
		let spec = ShardSpec {
			root: [0; 32],
			blake3: *blake3::hash(&shard).as_bytes(),
			bytes: shard.len() as u64,
		};
		let client = network();
		let files = ShardDir::new(&dir.path().join("shards")).expect("a shard directory");
		for tamper in [None, Some(20)] {
			let (store, _) = RocksShardStore::open(
				&dir.path().join(format!("store-{tamper:?}")),
				StoreConfig { capacity_bytes: 1 << 30 },
			)
			.expect("a store");
			store.put(SHARD, spec.bytes, &mut &shard[..], None).expect("stored");
			let server = network();
			server.set_handler(Arc::new(Serves { store, tamper })).expect("serving");
			let from = Endpoint { peer: server.peer_id(), addresses: server.listening().await };
			let grant = Grant { expires: 0, signature: [0; 64] };
			let total = spec.bytes;
			// Within a piece, across pieces and requests, to the very end; the whole shard.
			for bytes in [Some(5..9), Some(60_000..1_400_000), Some(1_300_000..total), None] {
				let moved = std::sync::atomic::AtomicU64::new(0);
				let count = |bytes: u64| {
					moved.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
				};
				let into = Filling::new(files.create().expect("a shard file"));
				let fetched = fetch_shard(
					&client,
					&from,
					SHARD.contract,
					SHARD.index,
					&spec,
					bytes.clone(),
					grant.clone(),
					&count,
					&into,
				)
				.await;
				let bytes = bytes.unwrap_or(0..total);
				let expected = &shard[bytes.start as usize..bytes.end as usize];
				let tampered = tamper.filter(|piece| pieces_holding(&bytes).contains(piece));
				if let Some(piece) = tampered {
					let error = fetched.expect_err("a changed piece is refused");
					assert!(
						matches!(&error, TransferError::BadAnswer(why) if why.contains("piece 20")),
						"{error}"
					);
					// Followers read the checked bytes before its answer, then an error.
					into.fail();
					let mut back = Vec::new();
					assert!(into.follower().read_to_end(&mut back).is_err());
					assert!(back.len() as u64 + bytes.start <= piece * PIECE_BYTES);
					assert!(back == expected[..back.len()]);
					continue;
				}
				fetched.unwrap_or_else(|e| panic!("bytes {bytes:?}: {e}"));
				assert!(into.is_whole());
				let mut back = Vec::new();
				into.follower().read_to_end(&mut back).expect("read back");
				assert!(back == expected, "{bytes:?}");
				let len = expected.len();
				let moved = moved.load(std::sync::atomic::Ordering::Relaxed);
				assert_eq!(moved, moved_bytes(&bytes, total), "{bytes:?}");
				assert!(moved < len as u64 + 2 * PIECE_BYTES, "{bytes:?} moved {moved}");
			}
		}
	}
}
