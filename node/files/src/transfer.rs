//! Moving shards over the shard network, for the client service: a shard goes to its provider
//! piece by piece, each piece with its BLAKE3 path and the owner's grant; a shard (or the part of
//! it a range read needs) comes back piece by piece, asked for with the owner's grant, and a
//! whole one is checked against its digest. A provider that says it is busy (over
//! this node's budget, or out of serving slots) is asked again after a pause, so budgets slow
//! transfers down instead of failing them.

use std::{ops::Range, time::Duration};

use cairn_net::{Grant, NetError, Network, Request, Response, CHUNK_BYTES};
use cairn_storage::commitment::pieces::PiecePath;
use futures::StreamExt;
use libp2p::{Multiaddr, PeerId};
use pallet_market::{ContractId, ShardSpec};

use crate::shards::{ReadThrough, ShardFile};

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

/// Fetches a shard's `bytes` (`None`: the whole shard) from its provider into `into`, with the
/// owner's `grant` to read it. A whole shard is checked against its digest; a part of one only
/// by whoever reads it (a segment's encrypted chunks authenticate themselves).
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
	into: &ShardFile,
) -> Result<(), TransferError> {
	let grant = &grant;
	let whole = 0..spec.bytes;
	let bytes = bytes.unwrap_or(whole.clone());
	let end = bytes.end.min(spec.bytes);
	let offsets: Vec<u64> = (bytes.start..end).step_by(CHUNK_BYTES as usize).collect();
	let mut pieces = futures::stream::iter(offsets)
		.map(|offset| {
			let len = CHUNK_BYTES.min(end - offset) as u32;
			async move {
				let request =
					Request::Get { contract, shard: index, offset, len, grant: grant.clone() };
				match ask(network, from, request).await? {
					Response::Data(data) if data.len() == len as usize => Ok((offset, data)),
					Response::Data(data) => Err(TransferError::BadAnswer(format!(
						"{} bytes instead of {len}",
						data.len()
					))),
					Response::Refused(reason) => Err(TransferError::Refused(reason)),
					other => Err(unexpected(other)),
				}
			}
		})
		.buffer_unordered(WINDOW);
	while let Some(piece) = pieces.next().await {
		let (offset, data) = piece?;
		let len = data.len() as u64;
		into.write_at(offset - bytes.start, data).await?;
		fetched(len);
	}
	if bytes != whole {
		return Ok(());
	}
	let shard = into.clone();
	let digest = tokio::task::spawn_blocking(move || shard.digest())
		.await
		.map_err(std::io::Error::other)??;
	if digest != spec.blake3 {
		return Err(TransferError::BadAnswer(
			"the shard does not match its on-chain digest".into(),
		));
	}
	Ok(())
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
					Response::Refused(reason) => Err(TransferError::Refused(reason)),
					other => Err(unexpected(other)),
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

fn unexpected(answer: Response) -> TransferError {
	TransferError::BadAnswer(format!("unexpected answer {answer:?}"))
}
