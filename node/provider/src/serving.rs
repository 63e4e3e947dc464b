//! The provider's side of the shard protocol. `Put` and `Get` are for the contract owner's
//! grantees only: the grant is checked before the request waits for a serving slot, so that a
//! stranger's request costs a signature check and nothing else. `Leaves` (audits) are open to
//! anyone. `Put` pieces go to the [`intake`](super::intake); `Get` reads the store on the
//! blocking pool, and `Leaves` are answered on the [`AuditPool`], behind all other work. The shard network has already held each request to its sender's budget.

use std::{sync::Arc, time::Instant};

use cairn_net::{
	protocol::MAX_GRANT_BLOCKS, Grant, LeafProof, Request, RequestHandler, Response, ShardPiece,
	Standing, CHUNK_BYTES, MAX_LEAVES, MAX_PIECES,
};
use cairn_runtime::{AccountId, BlockNumber, Hash};
use cairn_storage::{
	store::{ShardId, ShardStore},
	StorageError,
};
use futures::future::BoxFuture;
use libp2p::PeerId;
use pallet_market::ShardStatus;
use sp_core::{sr25519, Pair};

use super::{
	intake::{Assignment, Piece},
	shard_id, Provider,
};

// A piece of the shard network's `Pieces` is a piece of the store's: one BLAKE3 subtree each.
const _: () = assert!(cairn_net::PIECE_BYTES == cairn_storage::store::PIECE_BYTES);

impl Provider {
	/// What the chain says of shard `id`, if it is assigned to us and not lost.
	fn check_assignment(&self, at: Hash, id: ShardId) -> Result<Assignment, String> {
		let contract = self
			.state
			.contract(at, id.contract)
			.map_err(|e| e.to_string())?
			.ok_or_else(|| format!("no contract {}", id.contract))?;
		let shard = contract
			.shards
			.get(id.index as usize)
			.ok_or_else(|| format!("contract {} has no shard {}", id.contract, id.index))?;
		if shard.provider != self.signer.account() {
			return Err(format!("shard {id} is not assigned to this provider"));
		}
		if !shard.status.holds_capacity() {
			return Err(format!("shard {id} is no longer held here ({:?})", shard.status));
		}
		Ok(Assignment {
			spec: shard.spec.clone(),
			pending: matches!(shard.status, ShardStatus::Pending { .. }),
		})
	}

	/// Whether `peer` may ask `request`: `Put`, `Get` and `Pieces` only with a valid grant of the
	/// contract's owner for that peer and shard, `Leaves` always.
	fn check_request(&self, peer: &PeerId, request: &Request) -> Result<Standing, String> {
		let (contract, shard, grant) = match request {
			Request::Put { contract, shard, grant, .. }
			| Request::Get { contract, shard, grant, .. }
			| Request::Pieces { contract, shard, grant, .. } => (*contract, *shard, grant),
			Request::Leaves { .. } => return Ok(Standing::Open),
		};
		let at = self.state.at(None);
		let owner = self
			.state
			.contract(at, contract)
			.map_err(|e| e.to_string())?
			.ok_or_else(|| format!("no contract {contract}"))?
			.owner;
		let id = shard_id(contract, shard);
		check_grant(&self.genesis, id, peer, grant, &owner, self.number(at))?;
		Ok(Standing::Granted)
	}

	async fn put(&self, piece: Piece) -> Response {
		let assignment = match self.check_assignment(self.state.at(None), piece.id) {
			Ok(assignment) => assignment,
			Err(reason) => return Response::Refused(reason),
		};
		self.intake.put(piece, assignment).await
	}

	/// Pieces `first..first + count` of a stored shard, each with its BLAKE3 path.
	fn pieces(&self, id: ShardId, first: u64, count: u32) -> Response {
		if count == 0 || count > MAX_PIECES {
			return Response::Refused(format!("1 to {MAX_PIECES} pieces a request, not {count}"));
		}
		match self.store.pieces(id, first..first.saturating_add(u64::from(count))) {
			Ok(pieces) => {
				let bytes: usize = pieces.iter().map(|(data, _)| data.len()).sum();
				self.metrics.served_bytes.inc_by(bytes as u64);
				Response::Pieces(
					pieces.into_iter().map(|(data, path)| ShardPiece { data, path }).collect(),
				)
			}
			Err(StorageError::UnknownShard(_)) => {
				Response::Refused(format!("shard {id} is not stored here"))
			}
			Err(error) => Response::Refused(format!("pieces of shard {id}: {error}")),
		}
	}

	fn read(&self, id: ShardId, offset: u64, len: u32) -> Response {
		let len = u64::from(len).min(CHUNK_BYTES);
		match self.store.commitment(id) {
			Ok(commitment) if offset < commitment.bytes => {
				let len = len.min(commitment.bytes - offset);
				match self.store.read_range(id, offset, len) {
					Ok(data) => {
						self.metrics.served_bytes.inc_by(data.len() as u64);
						Response::Data(data)
					}
					Err(error) => Response::Refused(format!("shard {id} unreadable: {error}")),
				}
			}
			Ok(_) => Response::Refused(format!("offset {offset} is past the end of shard {id}")),
			Err(_) => Response::Refused(format!("shard {id} is not stored here")),
		}
	}

	/// The leaves `indices` of shard `id` with their Merkle paths, proven one at a time: an
	/// audit still unfinished at `deadline` (its asker has given up) is dropped.
	fn leaves(&self, id: ShardId, indices: Vec<u64>, deadline: Instant) -> Response {
		if indices.len() > MAX_LEAVES {
			return Response::Refused(format!("at most {MAX_LEAVES} leaves per request"));
		}
		let mut proofs = Vec::with_capacity(indices.len());
		for index in indices {
			if Instant::now() > deadline {
				return Response::Busy("this provider is too busy for audits now".into());
			}
			match self.store.challenge_proofs(id, &[index]) {
				Ok(proof) => proofs.extend(proof.iter().map(LeafProof::from)),
				Err(error) => return Response::Refused(format!("shard {id}: {error}")),
			}
		}
		Response::Leaves(proofs)
	}
}

/// Whether `owner` granted `peer` shard `id` until a block not yet past (`now` is the best
/// block), and not too far ahead.
fn check_grant(
	genesis: &[u8; 32],
	id: ShardId,
	peer: &PeerId,
	grant: &Grant,
	owner: &AccountId,
	now: BlockNumber,
) -> Result<(), String> {
	if grant.expires < now {
		return Err(format!("the grant expired at block {}", grant.expires));
	}
	if grant.expires > now.saturating_add(MAX_GRANT_BLOCKS) {
		return Err(format!(
			"the grant runs to block {}, more than {MAX_GRANT_BLOCKS} blocks ahead",
			grant.expires
		));
	}
	let payload = Grant::payload(genesis, id.contract, id.index, peer, grant.expires);
	let owner = sr25519::Public::from_raw(*<AccountId as AsRef<[u8; 32]>>::as_ref(owner));
	let signature = sr25519::Signature::from_raw(grant.signature);
	if sr25519::Pair::verify(&signature, &payload, &owner) {
		Ok(())
	} else {
		Err(format!("no grant of the contract's owner for this peer and shard {id}"))
	}
}

/// Answers the shard protocol for a [`Provider`].
pub(super) struct Handler(pub(super) Arc<Provider>);

impl RequestHandler for Handler {
	fn check(&self, peer: PeerId, request: &Request) -> Result<Standing, Response> {
		self.0.check_request(&peer, request).map_err(Response::Refused)
	}

	fn handle(&self, peer: PeerId, request: Request) -> BoxFuture<'static, Response> {
		let this = self.0.clone();
		Box::pin(async move {
			match request {
				Request::Put { contract, shard, offset, total, data, path, .. } => {
					let id = shard_id(contract, shard);
					this.put(Piece { peer, id, offset, total, data, path }).await
				}
				Request::Get { contract, shard, offset, len, .. } => {
					let id = shard_id(contract, shard);
					tokio::task::spawn_blocking(move || this.read(id, offset, len))
						.await
						.unwrap_or_else(|e| Response::Refused(e.to_string()))
				}
				Request::Pieces { contract, shard, first, count, .. } => {
					let id = shard_id(contract, shard);
					tokio::task::spawn_blocking(move || this.pieces(id, first, count))
						.await
						.unwrap_or_else(|e| Response::Refused(e.to_string()))
				}
				Request::Leaves { contract, shard, indices } => {
					let id = shard_id(contract, shard);
					let (answer, answered) = tokio::sync::oneshot::channel();
					let audits = this.audits.clone();
					let deadline = Instant::now() + this.config.audit_time;
					audits.spawn(move || {
						let _ = answer.send(this.leaves(id, indices, deadline));
					});
					answered.await.unwrap_or_else(|_| {
						Response::Refused("the audit failed on this node".into())
					})
				}
			}
		})
	}
}

/// The threads strangers' audits are answered on (one per audit slot: one by default), at the
/// lowest CPU priority (nice 19). An audit is costly to answer and free to ask: each leaf's
/// Merkle path rehashes the 64 leaves of its subtree, about 120 ms of Poseidon for a request of
/// 64 leaves, and anyone with a fresh peer id may ask. Here audits take only the CPU that proofs,
/// uploads and owners' reads leave idle, and a core per slot at most; one still running when
/// its asker has given up is dropped.
#[derive(Clone)]
pub(super) struct AuditPool(Arc<rayon::ThreadPool>);

impl AuditPool {
	pub(super) fn new(threads: usize) -> Result<Self, super::ProviderError> {
		rayon::ThreadPoolBuilder::new()
			.num_threads(threads.max(1))
			.thread_name(|_| "audit".into())
			// Linux gives each thread its own nice value.
			// SAFETY: setpriority on the calling thread (who = 0) has no memory effects.
			.start_handler(|_| unsafe {
				libc::setpriority(libc::PRIO_PROCESS, 0, 19);
			})
			.build()
			.map(|pool| Self(Arc::new(pool)))
			.map_err(|e| {
				super::ProviderError::Setup(format!("cannot start the audit threads: {e}"))
			})
	}

	/// Runs `work` on an audit thread; the proofs' parallel iterators stay on the pool.
	fn spawn(&self, work: impl FnOnce() + Send + 'static) {
		self.0.spawn(work);
	}
}
