//! Deadline-aware proving.
//!
//! The proofs due are [`Job`]s, each with a deadline: the block that opens the period in which
//! the chain stops taking it ([`super::owed`]). Jobs are proven most urgent first (the earliest deadline, then the shard nearest to being
//! lost), and the proofs go out as they are made, in batches of at most `MaxProofsPerBatch`
//! proofs or [`BATCH_TIME`] old. A job the prover cannot make and get into a block before its
//! deadline, at the pace it has measured, is passed over so that the time goes to those it can:
//! a provider holding more than it can prove loses the proofs it cannot make, never all of them.
//!
//! Every batch is followed into a block. A proof whose batch did not get there, or that the chain
//! still wants [`RESEND_BLOCKS`] after its block (which a reorganisation took away), goes out
//! again as it was made, without proving it again; a proof the chain refused is made afresh.

use std::{
	collections::{HashMap, HashSet},
	sync::Arc,
	time::{Duration, Instant},
};

use cairn_prover::{prover::Prover, statement::ProofRequest, DEFAULT_CHALLENGES};
use cairn_runtime::{BlockNumber, Hash, Runtime, RuntimeCall, RuntimeEvent};
use cairn_storage::store::{ShardId, ShardStore};
use frame_support::{traits::Get, BoundedVec};
use pallet_market::{ContractOf, PeriodIndex, ProofSubmission};
use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
use sp_blockchain::HeaderBackend;

use super::{
	owed::{plan, wanted, Job, Window},
	shard_id, untraced, Provider,
};

/// How long the first proof of a batch waits for others to join it (each batch pays a fee).
const BATCH_TIME: Duration = Duration::from_secs(30);

/// Blocks after its block after which a proof the chain still wants is sent again.
const RESEND_BLOCKS: BlockNumber = 4;

/// Blocks a proof is sent at the latest before its deadline: it needs one or two to get into a
/// block, and a batch sitting in the pool when its deadline passes is refused whole.
const MARGIN_BLOCKS: BlockNumber = 4;

/// Proofs made, kept until the chain has them or their period leaves the window, and the pace
/// at which they are made.
#[derive(Default)]
pub(super) struct Proofs {
	made: HashMap<(ShardId, PeriodIndex), Made>,
	/// Proofs passed over (too late to make at the prover's pace), each counted once.
	passed_over: HashSet<(ShardId, PeriodIndex)>,
	/// Seconds a proof takes here: a moving average (0 until the first is made).
	seconds: f64,
}

struct Made {
	bytes: Vec<u8>,
	sent: Sent,
}

/// Where a proof made stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sent {
	/// Not sent, or its batch did not get into a block.
	No,
	/// Sent, and followed.
	Pending,
	/// In the block of this number.
	In(BlockNumber),
}

/// What to do for a job.
#[derive(Debug, PartialEq, Eq)]
enum Step {
	/// Its proof is on its way: nothing.
	Wait,
	/// Send the proof made earlier again.
	Resend(Vec<u8>),
	/// Make the proof.
	Prove,
}

impl Proofs {
	fn step(&self, key: (ShardId, PeriodIndex), best: BlockNumber) -> Step {
		match self.made.get(&key).map(|made| (made.sent, made)) {
			Some((Sent::Pending, _)) => Step::Wait,
			Some((Sent::In(at), _)) if best < at + RESEND_BLOCKS => Step::Wait,
			Some((_, made)) => Step::Resend(made.bytes.clone()),
			None => Step::Prove,
		}
	}

	/// Marks the proofs of `keys` as `sent`.
	fn mark(&mut self, keys: &[(ShardId, PeriodIndex)], sent: Sent) {
		for key in keys {
			if let Some(made) = self.made.get_mut(key) {
				made.sent = sent;
			}
		}
	}

	/// Whether a proof begun at block `best` would be in a block before `deadline`.
	fn in_time(&self, best: BlockNumber, deadline: BlockNumber) -> bool {
		let block_seconds = cairn_runtime::time::MILLISECS_PER_BLOCK as f64 / 1000.0;
		let proving = (self.seconds / block_seconds).ceil() as BlockNumber;
		best + proving + MARGIN_BLOCKS <= deadline
	}

	/// Counts a proof that took `took` into the pace.
	pub(super) fn timed(&mut self, took: Duration) {
		let seconds = took.as_secs_f64();
		self.seconds =
			if self.seconds == 0.0 { seconds } else { 0.7 * self.seconds + 0.3 * seconds };
	}

	/// Seconds a proof takes here (0 until one is timed).
	pub(super) fn seconds(&self) -> f64 {
		self.seconds
	}

	/// Records that the proof of `key` is passed over; whether it was not already.
	fn pass_over(&mut self, key: (ShardId, PeriodIndex)) -> bool {
		self.passed_over.insert(key)
	}

	/// Forgets the proofs of periods before `oldest`: the chain no longer takes them.
	fn forget_before(&mut self, oldest: PeriodIndex) {
		self.made.retain(|(_, period), _| *period >= oldest);
		self.passed_over.retain(|(_, period)| *period >= oldest);
	}
}

/// One proof of a `submit_proofs` batch.
type Submission = ProofSubmission<<Runtime as pallet_market::Config>::MaxProofLen>;

/// Proofs on their way into one transaction.
#[derive(Default)]
struct Batch {
	proofs: Vec<Submission>,
	/// When the first joined.
	since: Option<Instant>,
	/// The earliest deadline among them.
	deadline: Option<BlockNumber>,
}

impl Batch {
	fn push(&mut self, job: &Job, proof: Vec<u8>) {
		self.since.get_or_insert_with(Instant::now);
		self.deadline = Some(self.deadline.map_or(job.deadline, |d| d.min(job.deadline)));
		self.proofs.push(ProofSubmission {
			contract: job.id.contract,
			shard: job.id.index,
			period: job.period,
			proof: BoundedVec::truncate_from(proof),
		});
	}

	/// Whether to send it at block `best`: full, [`BATCH_TIME`] old, or a proof's deadline
	/// near.
	fn due(&self, best: BlockNumber) -> bool {
		let max: u32 = <Runtime as pallet_market::Config>::MaxProofsPerBatch::get();
		self.proofs.len() >= max as usize
			|| self.since.is_some_and(|t| t.elapsed() >= BATCH_TIME)
			|| self.deadline.is_some_and(|d| best + MARGIN_BLOCKS >= d)
	}
}

/// Why a shard was not proven.
#[derive(Debug)]
pub(super) enum ProofFailure {
	/// Its stored data is damaged or gone: the shard is lost.
	Damaged(String),
	/// The store could not be read this time; the next round tries again.
	Unreadable(String),
	/// The prover failed (the data may be fine).
	Prover(String),
}

/// What a proving round did.
#[derive(Default)]
struct Round {
	proven: usize,
	resent: usize,
	passed_over: usize,
}

/// The proof of `request` for shard `id` of `store`: the challenged leaves read (each chunk
/// checked against its checksum) and proven. Blocks for the proof's time.
pub(super) fn prove_stored(
	store: &impl ShardStore,
	prover: &Prover,
	id: ShardId,
	request: &ProofRequest,
) -> Result<Vec<u8>, ProofFailure> {
	let statement =
		request.statement(DEFAULT_CHALLENGES).map_err(|e| ProofFailure::Prover(e.to_string()))?;
	let openings = store.challenge_proofs(id, statement.indices()).map_err(|error| {
		if error.is_damage() {
			ProofFailure::Damaged(error.to_string())
		} else {
			ProofFailure::Unreadable(error.to_string())
		}
	})?;
	let proof =
		untraced(|| prover.prove_openings(&statement, openings, &mut ChaCha20Rng::from_entropy()))
			.map_err(|e| ProofFailure::Prover(e.to_string()))?;
	Ok(proof.to_bytes().to_vec())
}

impl Provider {
	/// Proves what is due at `at`, most urgent first, sending proofs as they are made. Returns
	/// when everything due is proven or passed over, or when a new period opens (the next round
	/// plans again).
	pub(super) async fn prove_due(
		&self,
		at: Hash,
		contracts: &[(u64, ContractOf<Runtime>)],
		prover: &Arc<Prover>,
	) -> Result<(), super::ProviderError> {
		let Some(window) = Window::read(&self.state, at)? else {
			return Ok(());
		};
		self.proofs.lock().expect("proofs").forget_before(window.oldest());
		let mut jobs = Vec::new();
		for job in plan(contracts, &self.signer.account(), &window) {
			if self.is_stored(job.id).await {
				jobs.push(job);
			}
		}
		let mut round = Round::default();
		let mut batch = Batch::default();
		for job in &jobs {
			// A batch holds proofs of one deadline: one past it would sink the others.
			if batch.deadline.is_some_and(|deadline| deadline != job.deadline) {
				self.send(std::mem::take(&mut batch));
			}
			let best = self.state.client().info().best_number;
			let (step, in_time) = {
				let proofs = self.proofs.lock().expect("proofs");
				(proofs.step((job.id, job.period), best), proofs.in_time(best, job.deadline))
			};
			match step {
				Step::Wait => continue,
				Step::Resend(proof) => {
					round.resent += 1;
					batch.push(job, proof);
				}
				Step::Prove if !in_time => {
					round.passed_over += 1;
					// Each round looks at it again until its period is forgotten: count it once.
					if self.proofs.lock().expect("proofs").pass_over((job.id, job.period)) {
						self.metrics.proofs.with_label_values(&["passed_over"]).inc();
					}
					continue;
				}
				Step::Prove => match self.prove(prover, job).await {
					// Found damaged (by the scrub) while it was being proven.
					Ok(_) if self.damaged.lock().await.contains(&job.id) => continue,
					Ok(proof) => {
						round.proven += 1;
						self.metrics.proofs.with_label_values(&["made"]).inc();
						self.proofs.lock().expect("proofs").made.insert(
							(job.id, job.period),
							Made { bytes: proof.clone(), sent: Sent::No },
						);
						batch.push(job, proof);
					}
					Err(ProofFailure::Damaged(error)) => self.lose(job.id, &error).await,
					Err(ProofFailure::Unreadable(error)) => {
						self.metrics.proofs.with_label_values(&["failed"]).inc();
						log::warn!(
							target: "cairn-provider",
							"proving shard {} for period {}: the store could not be read \
							 ({error}); trying again",
							job.id,
							job.period
						)
					}
					Err(ProofFailure::Prover(error)) => {
						self.metrics.proofs.with_label_values(&["failed"]).inc();
						log::error!(target: "cairn-provider", "proving shard {}: {error}", job.id)
					}
				},
			}
			if batch.due(self.state.client().info().best_number) {
				self.send(std::mem::take(&mut batch));
			}
			let now = self.state.client().info().best_hash;
			if self.state.current_period(now).ok().flatten().map(|(p, _)| p)
				!= Some(window.current())
			{
				break;
			}
		}
		self.send(batch);
		if round.proven + round.resent + round.passed_over > 0 {
			log::info!(
				target: "cairn-provider",
				"proving round at period {}: {} of {} due proofs made, {} sent again, {} passed \
				 over (they could not be made and included before their deadline; {:.1} s a proof)",
				window.current(),
				round.proven,
				jobs.len(),
				round.resent,
				round.passed_over,
				self.proofs.lock().expect("proofs").seconds
			);
		}
		Ok(())
	}

	/// Makes the proof of `job` on a blocking thread, and times it.
	async fn prove(&self, prover: &Arc<Prover>, job: &Job) -> Result<Vec<u8>, ProofFailure> {
		let store = self.store.clone();
		let prover = prover.clone();
		let (id, request) = (
			job.id,
			ProofRequest {
				seed: job.seed,
				provider: self.signer.public_bytes(),
				contract: job.id.contract,
				shard: job.id.index,
				period: job.period,
				root: job.spec.root,
				shard_bytes: job.spec.bytes,
			},
		);
		let started = Instant::now();
		let proof =
			tokio::task::spawn_blocking(move || prove_stored(&*store, &prover, id, &request))
				.await
				.map_err(|e| ProofFailure::Prover(e.to_string()))??;
		let took = started.elapsed();
		self.metrics.proving_seconds.observe(took.as_secs_f64());
		self.proofs.lock().expect("proofs").timed(took);
		Ok(proof)
	}

	/// Sends `batch` and follows it into a block in the background: proofs the chain refused
	/// are forgotten (made afresh if still due), and those of a batch that did not get into a
	/// block are sent again by the next round.
	fn send(&self, mut batch: Batch) {
		// What the chain took since the round was planned, or no longer takes, stays out.
		let best = self.state.client().info().best_hash;
		let current = self.state.current_period(best).ok().flatten().map(|(period, _)| period);
		let me = self.signer.account();
		batch.proofs.retain(|proof| {
			let contract = self.state.contract(best, proof.contract).ok().flatten();
			let shard = contract.as_ref().and_then(|c| c.shards.get(proof.shard as usize));
			shard
				.zip(current)
				.is_some_and(|(shard, current)| wanted(shard, &me, proof.period, current))
		});
		if batch.proofs.is_empty() {
			return;
		}
		let keys: Vec<(ShardId, PeriodIndex)> =
			batch.proofs.iter().map(|p| (shard_id(p.contract, p.shard), p.period)).collect();
		self.proofs.lock().expect("proofs").mark(&keys, Sent::Pending);
		self.metrics.proofs.with_label_values(&["submitted"]).inc_by(keys.len() as u64);
		let state = self.state.clone();
		let (signer, proofs) = (self.signer.clone(), self.proofs.clone());
		let call = RuntimeCall::Market(pallet_market::Call::submit_proofs {
			proofs: BoundedVec::truncate_from(batch.proofs),
		});
		tokio::spawn(async move {
			match signer.submit_and_watch(call).await {
				Ok(included) => {
					let number = state.number(included.block);
					proofs.lock().expect("proofs").mark(&keys, Sent::In(number));
					let mut refused = Vec::new();
					for event in &included.events {
						if let RuntimeEvent::Market(pallet_market::Event::ProofRejected {
							contract,
							shard,
							period,
							reason,
							..
						}) = event
						{
							let id = shard_id(*contract, *shard);
							proofs.lock().expect("proofs").made.remove(&(id, *period));
							refused.push(format!(
								"{id} of period {period}: {}",
								cairn_chain::signer::describe(*reason)
							));
						}
					}
					log::info!(
						target: "cairn-provider",
						"{} proofs in block {:?}{}",
						keys.len() - refused.len(),
						included.block,
						if refused.is_empty() {
							String::new()
						} else {
							format!("; refused: {}", refused.join(", "))
						}
					);
				}
				Err(error) => {
					log::warn!(
						target: "cairn-provider",
						"a batch of {} proofs did not get into a block ({error}); they go again",
						keys.len()
					);
					proofs.lock().expect("proofs").mark(&keys, Sent::No);
				}
			}
		});
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_proof_goes_again_only_when_it_did_not_land() {
		let id = ShardId::new(0, 0);
		let mut proofs = Proofs::default();
		assert_eq!(proofs.step((id, 5), 100), Step::Prove);
		proofs.made.insert((id, 5), Made { bytes: vec![7], sent: Sent::No });
		assert_eq!(proofs.step((id, 5), 100), Step::Resend(vec![7]));
		// Followed, however long it takes.
		proofs.mark(&[(id, 5)], Sent::Pending);
		assert_eq!(proofs.step((id, 5), 1_000), Step::Wait);
		// In block 100; still wanted by the chain well after it: that block was replaced.
		proofs.mark(&[(id, 5)], Sent::In(100));
		assert_eq!(proofs.step((id, 5), 100 + RESEND_BLOCKS - 1), Step::Wait);
		assert_eq!(proofs.step((id, 5), 100 + RESEND_BLOCKS), Step::Resend(vec![7]));
		proofs.forget_before(6);
		assert_eq!(proofs.step((id, 5), 101), Step::Prove);
	}

	#[test]
	fn a_proof_that_cannot_land_in_time_is_passed_over() {
		let mut proofs = Proofs::default();
		// Nothing measured yet: anything with room to land is tried.
		assert!(proofs.in_time(100, 100 + MARGIN_BLOCKS));
		proofs.timed(Duration::from_secs(5));
		// Five seconds are three 2-second blocks, and the margin to land.
		assert!(proofs.in_time(100, 107));
		assert!(!proofs.in_time(100, 106));
	}

	#[test]
	fn a_proof_passed_over_is_counted_once_until_its_period_is_forgotten() {
		let mut proofs = Proofs::default();
		let id = ShardId::new(0, 0);
		assert!(proofs.pass_over((id, 5)));
		assert!(!proofs.pass_over((id, 5)));
		assert!(proofs.pass_over((id, 6)));
		proofs.forget_before(6);
		assert!(proofs.pass_over((id, 5)));
		assert!(!proofs.pass_over((id, 6)));
	}
}
