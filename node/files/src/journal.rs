//! The upload journal: how far each upload has got, kept beside the file records
//! (`uploads/<id>.upload` in the files directory, each entry replaced whole or not at all, and
//! synced), so that an upload cut short by a crash or a kill is finished when the node runs
//! again, or its contract is ended and its escrow returned. Nothing is left half-made:
//!
//! 1. **Signed**: the file is coded and committed and `create_contract` signed (its nonce
//!    taken); written before the transaction is sent. After a restart the same bytes are sent
//!    again (an immortal transaction with that nonce lands at most once) and the contract is
//!    looked for on chain by its shards' digests; if there is none, nothing was paid.
//! 2. **Created**: the contract is in a finalized block. After a restart its shards are coded
//!    again from the source (the same key and nonce give the same bytes, checked against the
//!    chain's digests) and sent to the providers whose shards still wait for their data.
//! 3. Done once every shard is confirmed: the entry is removed. If the source is gone or has
//!    changed, the repair loop rebuilds the missing shards when `k` are confirmed; with fewer,
//!    the contract is ended and its escrow comes back.
//!
//! A file of several segments has one entry per segment, each reading its part of the source.
//! An upload cut short between two segments leaves the file's first segments stored and the
//! rest never made: listings show the file as incomplete, for its owner to remove or upload
//! again.

use std::{
	collections::HashSet,
	io::{self, Read},
	path::PathBuf,
	sync::Arc,
	time::Duration,
};

use cairn_runtime::{AccountId, Hash, RuntimeCall};
use cairn_storage::encoding::{Encryption, EncryptionKey, FileManifest};
use codec::{Decode, DecodeAll, Encode};
use pallet_market::{ContractId, ShardSpec, ShardStatus};

use super::{FileRecord, Files};
use crate::{
	shards::{code_into, CodingError, ReadThrough, Reader, ShardFile},
	transfer::OutgoingShard,
};

/// How long an upload that could not be taken further waits before it is tried again.
const RESUME_AGAIN: Duration = Duration::from_secs(30);

/// Where an upload's bytes are read from again.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub(super) enum Origin {
	/// A file on the node's machine (its absolute path).
	Path(String),
	/// Bytes given in the request (at most [`MAX_INLINE_BYTES`](super::MAX_INLINE_BYTES)).
	Inline(Vec<u8>),
}

impl Origin {
	/// Whether the bytes are read from the file at `path`.
	pub fn is_file(&self, path: &std::path::Path) -> bool {
		matches!(self, Origin::Path(source) if std::path::Path::new(source) == path)
	}
}

/// How far an upload has got.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub(super) enum Stage {
	/// `create_contract`, signed, sent or about to be.
	Signed { extrinsic: Vec<u8> },
	/// The contract, from a finalized block.
	Created { contract: ContractId },
}

/// One upload in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub(super) struct Entry {
	pub origin: Origin,
	pub record: FileRecord,
	pub specs: Vec<ShardSpec>,
	pub stage: Stage,
}

impl Entry {
	/// An entry as kept now, or as kept before files had segments.
	fn decode_any(bytes: &[u8]) -> Option<Self> {
		#[derive(Decode)]
		struct Whole {
			origin: Origin,
			record: super::WholeRecord,
			specs: Vec<ShardSpec>,
			stage: Stage,
		}
		Self::decode_all(&mut &bytes[..]).ok().or_else(|| {
			let Whole { origin, record, specs, stage } = Whole::decode_all(&mut &bytes[..]).ok()?;
			Some(Self { origin, record: record.into(), specs, stage })
		})
	}

	/// Where its bytes lie in its source, and the source's size.
	fn range(&self, manifest: &FileManifest) -> (u64, u64, u64) {
		match self.record.segment {
			Some(segment) => (segment.offset, manifest.plaintext_bytes, segment.total),
			None => (0, manifest.plaintext_bytes, manifest.plaintext_bytes),
		}
	}
}

/// The journal's directory, and the directory of spooled sources ([`crate::spool`]), which
/// live as long as their entries, or the requests that hold them.
pub(super) struct Journal {
	dir: PathBuf,
	spool: PathBuf,
	/// Spooled sources whose requests are running (a file of several segments is read by one
	/// entry after the other).
	held: std::sync::Mutex<HashSet<PathBuf>>,
}

impl Journal {
	pub fn new(dir: PathBuf, spool: PathBuf) -> Self {
		Self { dir, spool, held: Default::default() }
	}

	fn held(&self) -> std::sync::MutexGuard<'_, HashSet<PathBuf>> {
		self.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// `path`, a spooled source, is read by a request from now on.
	pub fn hold(&self, path: &std::path::Path) {
		self.held().insert(path.to_path_buf());
	}

	/// The request reading `path` has ended: removes it unless an entry reads it.
	pub fn release(&self, path: &std::path::Path) {
		self.held().remove(path);
		if !self.reads(path) {
			crate::spool::remove(path);
		}
	}

	/// The directory of spooled sources (absolute).
	pub fn spool(&self) -> &std::path::Path {
		&self.spool
	}

	/// A fresh entry id.
	pub fn new_id() -> String {
		use rand_chacha::rand_core::{RngCore, SeedableRng};
		let mut id = [0u8; 8];
		rand_chacha::ChaCha20Rng::from_entropy().fill_bytes(&mut id);
		hex::encode(id)
	}

	fn path(&self, id: &str) -> PathBuf {
		self.dir.join(format!("{id}.upload"))
	}

	/// Keeps `entry` under `id` (it may hold the file's bytes: mode 0600), durably, replacing
	/// what was there whole or not at all.
	pub fn write(&self, id: &str, entry: &Entry) -> io::Result<()> {
		std::fs::create_dir_all(&self.dir)?;
		crate::local_file::write_private(&self.path(id), &entry.encode()).map_err(io::Error::other)
	}

	/// Whether an entry reads its bytes from `path`.
	pub fn reads(&self, path: &std::path::Path) -> bool {
		self.entries().iter().any(|(_, entry)| entry.origin.is_file(path))
	}

	/// Forgets `id`, and the spooled source it read if it had one that neither a request nor
	/// another entry reads.
	pub fn remove(&self, id: &str) {
		let entry = std::fs::read(self.path(id)).ok().and_then(|b| Entry::decode_any(&b));
		match std::fs::remove_file(self.path(id)) {
			Ok(()) => {}
			Err(error) if error.kind() == io::ErrorKind::NotFound => {}
			Err(error) => {
				log::warn!(target: "cairn-client", "upload {id}: cannot forget it: {error}")
			}
		}
		if let Some(Origin::Path(source)) = entry.map(|entry| entry.origin) {
			let source = std::path::Path::new(&source);
			let held = self.held().contains(source);
			if source.parent() == Some(&self.spool) && !held && !self.reads(source) {
				crate::spool::remove(source);
			}
		}
	}

	/// Every entry, by id; one that does not decode is reported and left alone.
	pub fn entries(&self) -> Vec<(String, Entry)> {
		let Ok(listing) = std::fs::read_dir(&self.dir) else { return Vec::new() };
		let mut entries = Vec::new();
		for file in listing.flatten() {
			let path = file.path();
			let Some(id) = path
				.file_name()
				.and_then(|name| name.to_str())
				.and_then(|name| name.strip_suffix(".upload"))
			else {
				continue;
			};
			match std::fs::read(&path).ok().and_then(|b| Entry::decode_any(&b)) {
				Some(entry) => entries.push((id.to_string(), entry)),
				None => log::warn!(target: "cairn-client", "{}: not an upload", path.display()),
			}
		}
		entries
	}
}

/// An upload of this run of the node, for as long as its call runs: if the call fails or is
/// dropped (its caller gone) before the upload is taken as far as it goes, the entry is left to
/// [`Files::check_uploads`], which resumes it.
pub(super) struct Running<'a> {
	files: &'a Files,
	id: String,
	done: bool,
}

impl<'a> Running<'a> {
	pub fn new(files: &'a Files) -> Self {
		let id = Journal::new_id();
		files.running().insert(id.clone());
		Self { files, id, done: false }
	}

	pub fn id(&self) -> &str {
		&self.id
	}

	/// The upload went as far as it goes: its entry stays with this run (and is removed once
	/// every shard is confirmed).
	pub fn done(mut self) {
		self.done = true;
	}
}

impl Drop for Running<'_> {
	fn drop(&mut self) {
		if !self.done {
			self.files.running().remove(&self.id);
		}
	}
}

impl Files {
	/// The journal entries this run of the node works on.
	fn running(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
		self.uploads.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// On every block: each journal entry not handled by this run of the node (left by an
	/// earlier one) is resumed in the background; each whose contract has every shard
	/// confirmed, or has ended, is removed.
	pub(super) async fn check_uploads(self: &Arc<Self>, at: Hash) {
		// While the node catches up, its pool judges by an old state: a contract made since
		// would look unmade, and its transaction sent again would wait forever.
		if self.signer.as_ref().is_none_or(|signer| signer.caught_up().is_err()) {
			return;
		}
		for (id, entry) in self.journal.entries() {
			if !self.running().insert(id.clone()) {
				if let Stage::Created { contract } = entry.stage {
					self.forget_when_done(&id, at, contract).await;
				}
				continue;
			}
			log::info!(target: "cairn-client", "resuming the upload of {}", entry.record.name);
			let this = self.clone();
			tokio::spawn(async move {
				if let Err(error) = this.resume(&id, entry).await {
					log::warn!(
						target: "cairn-client",
						"upload {id}: {error} (tried again in {} s)",
						RESUME_AGAIN.as_secs()
					);
					tokio::time::sleep(RESUME_AGAIN).await;
					this.running().remove(&id);
				}
			});
		}
	}

	/// Removes `id` once `contract` holds every shard, or is gone.
	async fn forget_when_done(&self, id: &str, at: Hash, contract: ContractId) {
		let done = match self.state.contract(at, contract) {
			Ok(Some(chain)) => chain.shards.iter().all(|s| s.status == ShardStatus::Active),
			Ok(None) => true,
			Err(_) => false,
		};
		if done {
			log::info!(target: "cairn-client", "contract {contract}: the upload is complete");
			self.journal.remove(id);
			self.running().remove(id);
		}
	}

	/// Takes an upload left by an earlier run as far as it can go.
	async fn resume(&self, id: &str, mut entry: Entry) -> Result<(), String> {
		let signer = self.signer.clone().ok_or("this node has no Cairn account")?;
		if let Stage::Signed { extrinsic } = &entry.stage {
			// Sent again: included once at most. If it cannot be, it was or never will be.
			let sent = tokio::time::timeout(
				Duration::from_secs(600),
				signer.send_signed_and_finalize(extrinsic),
			)
			.await
			.unwrap_or_else(|_| {
				Err(cairn_chain::signer::SignerError::NotIncluded(
					"not finalized within ten minutes".into(),
				))
			});
			let made = match sent {
				Ok(included) => Some(created_contract(&included)?),
				Err(error) => {
					log::debug!(target: "cairn-client", "upload {id}: sent again: {error}");
					self.contract_with(&signer.account(), &entry.specs)?
				}
			};
			let Some(contract) = made else {
				log::warn!(
					target: "cairn-client",
					"the upload of {} stopped before its contract was made; nothing was paid",
					entry.record.name
				);
				self.journal.remove(id);
				return Ok(());
			};
			entry.stage = Stage::Created { contract };
			self.journal.write(id, &entry).map_err(|e| e.to_string())?;
			self.save_record(contract, &entry.record).map_err(|e| e.to_string())?;
		}
		let Stage::Created { contract } = entry.stage else { return Ok(()) };
		let at = self.state.at(None);
		let Some(chain) = self.state.contract(at, contract).map_err(|e| e.to_string())? else {
			self.journal.remove(id);
			return Ok(());
		};
		let waiting: Vec<usize> = (0..chain.shards.len())
			.filter(|&index| matches!(chain.shards[index].status, ShardStatus::Pending { .. }))
			.collect();
		if waiting.is_empty() {
			return Ok(());
		}
		let dir = self.shard_dir().map_err(|f| f.to_string())?;
		let recoded = {
			let (entry, key) =
				(entry.clone(), self.file_key(&entry.record).map_err(|f| f.to_string())?);
			let waiting = waiting.clone();
			let files = dir.create_all(entry.specs.len()).map_err(|e| e.to_string())?;
			tokio::task::spawn_blocking(move || {
				let mut shards: Vec<_> =
					recode(&entry, key.as_ref(), files)?.into_iter().map(Some).collect();
				Ok::<_, String>(
					waiting
						.iter()
						.filter_map(|&index| shards[index].take())
						.map(|(file, read)| OutgoingShard::new(file, read))
						.collect::<Vec<_>>(),
				)
			})
			.await
			.map_err(|e| e.to_string())?
		};
		match recoded {
			Ok(outgoing) => {
				// The repair loop leaves these shards alone while they are being sent.
				let now = self.state.number(at);
				let keys: Vec<(ContractId, u32)> =
					waiting.iter().map(|&index| (contract, index as u32)).collect();
				let Some(sending) = self.being_sent.mark(keys.clone()) else {
					return Err(format!("contract {contract}: its shards are being sent already"));
				};
				let providers = waiting.iter().map(|&index| chain.shards[index].provider.clone());
				let bytes = chain.shards[waiting[0]].spec.bytes;
				self.sent(keys.iter().copied().zip(providers), bytes, now).await;
				let sent = waiting.iter().zip(&outgoing).map(|(&index, shard)| {
					let who = &chain.shards[index].provider;
					async move {
						self.send_shard(at, contract, index as u32, who, shard, &|_| {})
							.await
							.map_err(|error| format!("shard {index}: {error}"))
					}
				});
				let failures: Vec<String> = futures::future::join_all(sent)
					.await
					.into_iter()
					.filter_map(Result::err)
					.collect();
				drop(sending);
				if !failures.is_empty() {
					return Err(format!(
						"contract {contract}: {} of {} waiting shards not sent ({})",
						failures.len(),
						waiting.len(),
						failures.join("; ")
					));
				}
				log::info!(
					target: "cairn-client",
					"contract {contract}: resumed the upload of {}: its {} waiting shards sent",
					entry.record.name,
					waiting.len(),
				);
				Ok(())
			}
			Err(why) => {
				let confirmed =
					chain.shards.iter().filter(|s| s.status == ShardStatus::Active).count();
				if confirmed >= usize::from(chain.k) {
					log::warn!(
						target: "cairn-client",
						"contract {contract}: cannot code {} again ({why}); its {confirmed} \
						 confirmed shards rebuild the rest",
						entry.record.name
					);
					return Ok(());
				}
				let end = RuntimeCall::Market(pallet_market::Call::end_contract { contract });
				signer.submit_and_finalize(end).await?;
				log::error!(
					target: "cairn-client",
					"contract {contract}: ENDED, its escrow returned: {} cannot be coded again \
					 ({why}) and only {confirmed} of its shards were confirmed",
					entry.record.name
				);
				self.journal.remove(id);
				Ok(())
			}
		}
	}

	/// The newest contract of `owner` whose shards are `specs`, in the best block.
	fn contract_with(
		&self,
		owner: &AccountId,
		specs: &[ShardSpec],
	) -> Result<Option<ContractId>, String> {
		let at = self.state.at(None);
		let contracts = self.state.contracts_of(at, Some(owner)).map_err(|e| e.to_string())?;
		Ok(contracts
			.iter()
			.rev()
			.find(|(_, c)| {
				&c.owner == owner
					&& c.shards.len() == specs.len()
					&& c.shards.iter().zip(specs).all(|(shard, spec)| shard.spec == *spec)
			})
			.map(|(id, _)| *id))
	}
}

/// The contract a `create_contract` made, from its events.
pub(super) fn created_contract(
	included: &cairn_chain::signer::Included,
) -> Result<ContractId, String> {
	Ok(included.market_event("ContractCreated", |event| match event {
		pallet_market::Event::ContractCreated { contract, .. } => Some(*contract),
		_ => None,
	})?)
}

/// The shards of `entry`'s file, coded again from its origin with the same key and nonce, each
/// checked against its digest; or why they cannot be.
fn recode(
	entry: &Entry,
	key: Option<&EncryptionKey>,
	files: Vec<ShardFile>,
) -> Result<Vec<(ShardFile, ReadThrough)>, String> {
	let manifest = FileManifest::from_bytes(&entry.record.manifest).map_err(|e| e.to_string())?;
	let encryption = match (key, manifest.encryption) {
		(Some(key), Some(header)) => Encryption::On { key, nonce_prefix: header.nonce_prefix },
		(None, None) => Encryption::Off,
		_ => return Err("the record and the manifest disagree on encryption".into()),
	};
	if files.len() != entry.specs.len() {
		return Err(format!("{} files for {} shards", files.len(), entry.specs.len()));
	}
	let (offset, bytes, total) = entry.range(&manifest);
	let (coded, read) = match &entry.origin {
		Origin::Path(path) => {
			let (file, len) =
				crate::local_file::open_source(path).map_err(|e| format!("the source: {e}"))?;
			if len != total {
				return Err(format!("{path} has changed ({len} bytes, not {total})"));
			}
			let part = Reader::at(Arc::new(file), offset).take(bytes);
			code_into(manifest.coding, encryption, std::io::BufReader::new(part), &files, false)
		}
		Origin::Inline(data) => {
			let part = usize::try_from(offset).ok().zip(usize::try_from(offset + bytes).ok());
			let part = part.and_then(|(start, end)| data.get(start..end));
			let part = part.ok_or("the inline source is shorter than its segment")?;
			code_into(manifest.coding, encryption, part, &files, false)
		}
	}
	.map_err(|e| match e {
		CodingError::Encoding(e) => e.to_string(),
		CodingError::Disk(e) => super::disk_text(e),
	})?;
	if coded != manifest {
		return Err("the source codes to another manifest: it has changed".into());
	}
	for (index, (through, spec)) in read.iter().zip(&entry.specs).enumerate() {
		if through.digest != spec.blake3 {
			return Err(format!(
				"shard {index} differs from the contract's: the source has changed"
			));
		}
	}
	Ok(files.into_iter().zip(read).collect())
}

#[cfg(test)]
mod tests {
	use cairn_storage::encoding::{encode_stream, CodingParams, SALT_BYTES};

	use super::*;
	use crate::{shards::ShardDir, FileKey, RenewalPolicy};

	/// A 4 + 2 upload of `bytes` (encrypted under `key` if given), as the journal keeps it,
	/// with the shards it made.
	fn upload_of(bytes: &[u8], key: Option<&EncryptionKey>) -> (Entry, Vec<Vec<u8>>) {
		let coding = CodingParams::new(4, 2).expect("a coding");
		let encryption = match key {
			Some(key) => Encryption::with_random_nonce(key),
			None => Encryption::Off,
		};
		let mut shards = vec![Vec::new(); 6];
		let manifest = encode_stream(coding, encryption, bytes, &mut shards).expect("coded");
		let specs = shards
			.iter()
			.map(|shard| ShardSpec {
				root: [0; 32],
				blake3: *blake3::hash(shard).as_bytes(),
				bytes: shard.len() as u64,
			})
			.collect();
		let record = FileRecord {
			manifest: manifest.to_bytes().to_vec(),
			key: key.map_or(FileKey::None, |_| FileKey::Derived([7; SALT_BYTES])),
			name: "a file".into(),
			renewal: RenewalPolicy::default(),
			segment: None,
		};
		let origin = Origin::Inline(bytes.to_vec());
		(Entry { origin, record, specs, stage: Stage::Created { contract: 3 } }, shards)
	}

	fn bytes(len: usize) -> Vec<u8> {
		(0..len).map(|i| (i * 31 + i / 7) as u8).collect()
	}

	/// [`recode`] into files of a new directory, and what they hold.
	fn coded_again(entry: &Entry, key: Option<&EncryptionKey>) -> Result<Vec<Vec<u8>>, String> {
		use std::io::Read;
		let root = tempfile::tempdir().expect("a directory");
		let dir = ShardDir::new(root.path()).expect("a directory for shards");
		let files = dir.create_all(entry.specs.len()).expect("files");
		let coded = recode(entry, key, files)?;
		Ok(coded
			.into_iter()
			.map(|(file, read)| {
				let mut bytes = Vec::new();
				file.reader().read_to_end(&mut bytes).expect("read back");
				assert_eq!(read.bytes, bytes.len() as u64);
				bytes
			})
			.collect())
	}

	#[test]
	fn the_same_source_codes_to_the_same_shards_with_or_without_encryption() {
		let key = EncryptionKey::from_bytes([9; 32]);
		for key in [None, Some(&key)] {
			let (entry, shards) = upload_of(&bytes(300_000), key);
			assert!(coded_again(&entry, key).expect("coded again") == shards);
		}
	}

	#[test]
	fn a_changed_source_or_a_wrong_key_is_refused() {
		let key = EncryptionKey::from_bytes([9; 32]);
		let (mut entry, _) = upload_of(&bytes(70_000), Some(&key));
		let other = EncryptionKey::from_bytes([8; 32]);
		assert!(coded_again(&entry, Some(&other)).unwrap_err().contains("differs"));
		assert!(coded_again(&entry, None).unwrap_err().contains("disagree"));
		let mut changed = bytes(70_000);
		changed[12_345] ^= 1;
		entry.origin = Origin::Inline(changed);
		assert!(coded_again(&entry, Some(&key)).unwrap_err().contains("differs"));

		// A file on disk that grew, or is gone.
		let dir = tempfile::tempdir().expect("a directory");
		let path = dir.path().join("source");
		std::fs::write(&path, bytes(70_001)).expect("written");
		entry.origin = Origin::Path(path.display().to_string());
		assert!(coded_again(&entry, Some(&key)).unwrap_err().contains("has changed"));
		std::fs::write(&path, bytes(70_000)).expect("written");
		assert!(coded_again(&entry, Some(&key)).is_ok());
		std::fs::remove_file(&path).expect("removed");
		assert!(coded_again(&entry, Some(&key)).unwrap_err().contains("the source"));
	}

	#[test]
	fn a_segment_codes_again_from_its_part_of_the_source() {
		let key = EncryptionKey::from_bytes([9; 32]);
		let file = bytes(250_000);
		let (offset, len) = (100_000, 80_000);
		let (mut entry, shards) = upload_of(&file[offset..offset + len], Some(&key));
		entry.record.segment = Some(crate::Segment {
			file: [5; crate::FILE_ID_BYTES],
			index: 1,
			count: 3,
			offset: offset as u64,
			total: file.len() as u64,
		});
		// From the whole source, inline or on disk.
		entry.origin = Origin::Inline(file.clone());
		assert!(coded_again(&entry, Some(&key)).expect("coded again") == shards);
		let dir = tempfile::tempdir().expect("a directory");
		let path = dir.path().join("source");
		std::fs::write(&path, &file).expect("written");
		entry.origin = Origin::Path(path.display().to_string());
		assert!(coded_again(&entry, Some(&key)).expect("coded again") == shards);
		// A source of another size, or a part of it that changed, is refused.
		std::fs::write(&path, &file[..200_000]).expect("written");
		assert!(coded_again(&entry, Some(&key)).unwrap_err().contains("has changed"));
		let mut changed = file.clone();
		changed[offset + 7] ^= 1;
		std::fs::write(&path, &changed).expect("written");
		assert!(coded_again(&entry, Some(&key)).unwrap_err().contains("differs"));
		// A change outside the segment's part is not its concern.
		let mut elsewhere = file.clone();
		elsewhere[offset - 1] ^= 1;
		std::fs::write(&path, &elsewhere).expect("written");
		assert!(coded_again(&entry, Some(&key)).is_ok());
		entry.origin = Origin::Inline(file[..150_000].to_vec());
		assert!(coded_again(&entry, Some(&key)).is_err(), "an inline source shorter than its part");
	}

	#[test]
	fn an_entry_kept_before_segments_still_reads() {
		#[derive(Encode)]
		struct Whole {
			origin: Origin,
			record: (Vec<u8>, FileKey, String, RenewalPolicy),
			specs: Vec<ShardSpec>,
			stage: Stage,
		}
		let (entry, _) = upload_of(&bytes(1_000), None);
		let record = &entry.record;
		let old = Whole {
			origin: entry.origin.clone(),
			record: (
				record.manifest.clone(),
				record.key.clone(),
				record.name.clone(),
				record.renewal,
			),
			specs: entry.specs.clone(),
			stage: entry.stage.clone(),
		};
		assert_eq!(Entry::decode_any(&old.encode()), Some(entry.clone()));
		assert_eq!(Entry::decode_any(&entry.encode()), Some(entry));
		assert_eq!(Entry::decode_any(b"garbage"), None);
	}

	#[test]
	fn entries_are_kept_whole_private_and_forgotten() {
		use std::os::unix::fs::PermissionsExt;
		let dir = tempfile::tempdir().expect("a directory");
		let journal = Journal::new(dir.path().join("uploads"), dir.path().join("incoming"));
		assert!(journal.entries().is_empty(), "no directory yet: no entries");
		let (mut entry, _) = upload_of(&bytes(1_000), None);
		entry.stage = Stage::Signed { extrinsic: vec![1, 2, 3] };
		let id = Journal::new_id();
		assert_ne!(id, Journal::new_id());
		journal.write(&id, &entry).expect("kept");
		let mode = std::fs::metadata(journal.path(&id)).expect("a file").permissions().mode();
		assert_eq!(mode & 0o777, 0o600);
		entry.stage = Stage::Created { contract: 11 };
		journal.write(&id, &entry).expect("replaced");
		// Garbage beside it is reported and skipped.
		std::fs::write(dir.path().join("uploads/bad.upload"), b"garbage").expect("written");
		assert_eq!(journal.entries(), vec![(id.clone(), entry)]);
		journal.remove(&id);
		journal.remove(&id);
		assert!(journal.entries().is_empty());
	}

	#[test]
	fn a_spooled_source_lives_as_long_as_its_entry() {
		let dir = tempfile::tempdir().expect("a directory");
		let spool = dir.path().join("incoming");
		std::fs::create_dir_all(&spool).expect("made");
		let journal = Journal::new(dir.path().join("uploads"), spool.clone());
		let (spooled, elsewhere) = (spool.join("a1b2"), dir.path().join("mine.txt"));
		for (path, kept) in [(&spooled, false), (&elsewhere, true)] {
			std::fs::write(path, bytes(5_000)).expect("written");
			let (mut entry, _) = upload_of(&bytes(5_000), None);
			entry.origin = Origin::Path(path.display().to_string());
			let id = Journal::new_id();
			journal.write(&id, &entry).expect("kept");
			assert!(journal.reads(path));
			journal.remove(&id);
			assert!(!journal.reads(path));
			// A spooled copy goes with its entry; a caller's own file is never touched.
			assert_eq!(path.exists(), kept, "{}", path.display());
		}
	}

	#[test]
	fn a_spooled_source_lives_while_its_request_or_any_entry_reads_it() {
		let dir = tempfile::tempdir().expect("a directory");
		let spool = dir.path().join("incoming");
		std::fs::create_dir_all(&spool).expect("made");
		let journal = Journal::new(dir.path().join("uploads"), spool.clone());
		let path = spool.join("c3d4");
		std::fs::write(&path, bytes(5_000)).expect("written");
		journal.hold(&path);
		let (mut entry, _) = upload_of(&bytes(5_000), None);
		entry.origin = Origin::Path(path.display().to_string());
		// A file of two segments: the first one's entry is done before the second's is made.
		let (first, second) = (Journal::new_id(), Journal::new_id());
		journal.write(&first, &entry).expect("kept");
		journal.remove(&first);
		assert!(path.exists(), "its request still reads it");
		journal.write(&second, &entry).expect("kept");
		journal.release(&path);
		assert!(path.exists(), "the second segment's entry still reads it");
		journal.remove(&second);
		assert!(!path.exists(), "nothing reads it any more");
		// Released with no entry: gone at once.
		std::fs::write(&path, bytes(5_000)).expect("written");
		journal.hold(&path);
		journal.release(&path);
		assert!(!path.exists());
	}
}
