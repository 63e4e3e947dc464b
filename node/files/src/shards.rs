//! Shards on disk while they are made, sent, fetched or rebuilt: each in a file of its own, in a
//! directory of `shards/` (in the files directory) that lives as long as the work on it. An
//! upload, a download or a repair then holds a stripe and a few pieces in memory, not whole
//! shards, whatever the file's size; the disk holds the shards meanwhile (`(k + m) / k` times the
//! file for an upload).
//!
//! A [`ShardFile`] is read and written by position, so any number of readers and writers share
//! it. Its directory is removed when its [`ShardDir`] is dropped; open files stay readable until
//! their last handle goes. What a crash leaves is removed when the node starts ([`sweep`]).
//!
//! A fetched shard is written from its start, in order, as its pieces arrive and check; a
//! [`Filling`] tells how far, and its [`Follower`]s read behind the fetch, so that a download
//! decodes while its shards arrive.

use std::{
	fs::File,
	io::{self, BufReader, BufWriter, Read},
	os::unix::fs::{DirBuilderExt, FileExt},
	path::{Path, PathBuf},
	sync::{
		atomic::{AtomicUsize, Ordering},
		Arc, Condvar, Mutex, PoisonError,
	},
};

use cairn_net::CHUNK_BYTES;
use cairn_storage::{
	commitment::{
		pieces::{paths_of, PiecePath, PieceValues},
		ShardCommitment, TreeBuilder,
	},
	encoding::{encode_stream, read_full, CodingParams, Encryption, FileManifest},
};

/// The directory, in the files directory.
pub const DIR: &str = "shards";

/// Bytes read or written at a time.
const BUFFER_BYTES: usize = CHUNK_BYTES as usize;

/// A directory for one operation's shards, removed with everything in it when dropped.
pub struct ShardDir {
	path: PathBuf,
	/// Files made so far (their names).
	made: AtomicUsize,
}

impl ShardDir {
	/// A new, empty directory under `root` (mode 0700).
	pub fn new(root: &Path) -> io::Result<Self> {
		std::fs::DirBuilder::new().recursive(true).mode(0o700).create(root)?;
		let path = root.join(crate::journal::Journal::new_id());
		std::fs::DirBuilder::new().mode(0o700).create(&path)?;
		Ok(Self { path, made: AtomicUsize::new(0) })
	}

	/// A new, empty shard file (mode 0600).
	pub fn create(&self) -> io::Result<ShardFile> {
		let name = self.made.fetch_add(1, Ordering::Relaxed).to_string();
		let file = crate::local_file::create_private(&self.path.join(name))?;
		Ok(ShardFile(Arc::new(file)))
	}

	/// `count` new, empty shard files.
	pub fn create_all(&self, count: usize) -> io::Result<Vec<ShardFile>> {
		(0..count).map(|_| self.create()).collect()
	}
}

impl Drop for ShardDir {
	fn drop(&mut self) {
		remove_all(&self.path);
	}
}

/// Removes what a crash left under `root`.
pub fn sweep(root: &Path) {
	remove_all(root);
}

fn remove_all(path: &Path) {
	match std::fs::remove_dir_all(path) {
		Ok(()) => {}
		Err(error) if error.kind() == io::ErrorKind::NotFound => {}
		Err(error) => {
			log::warn!(target: "cairn-client", "{}: cannot remove it: {error}", path.display())
		}
	}
}

/// A shard in a file, read and written by position.
#[derive(Clone)]
pub struct ShardFile(Arc<File>);

impl ShardFile {
	/// Writes `data` at `offset` (blocking).
	pub fn write_all_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
		self.0.write_all_at(data, offset)
	}

	/// `len` bytes from `offset` (on a blocking thread).
	pub async fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
		let file = self.0.clone();
		tokio::task::spawn_blocking(move || {
			let mut data = vec![0; len];
			file.read_exact_at(&mut data, offset)?;
			Ok(data)
		})
		.await
		.map_err(io::Error::other)?
	}

	/// Writes from the start, buffered (blocking).
	pub fn writer(&self) -> BufWriter<Writer> {
		BufWriter::with_capacity(BUFFER_BYTES, Writer { file: self.0.clone(), offset: 0 })
	}

	/// Reads from the start, buffered (blocking).
	pub fn reader(&self) -> BufReader<Reader> {
		BufReader::with_capacity(BUFFER_BYTES, Reader { file: self.0.clone(), offset: 0 })
	}

	/// Reads the shard through once (blocking): its BLAKE3 digest, length and piece paths, and,
	/// if `commit`, its Poseidon commitment.
	pub fn read_through(&self, commit: bool) -> io::Result<ReadThrough> {
		let mut through = Through::new(commit)?;
		let mut reader = Reader { file: self.0.clone(), offset: 0 };
		let mut buffer = vec![0u8; BUFFER_BYTES];
		loop {
			let filled = read_full(&mut reader, &mut buffer)?;
			through.update(&buffer[..filled])?;
			if filled < buffer.len() {
				break;
			}
		}
		through.finish()
	}
}

/// A shard read through as its bytes pass in order, in slices of any size: BLAKE3 digest,
/// length, the paths of its pieces of [`CHUNK_BYTES`] and, if asked for, the Poseidon
/// commitment.
struct Through {
	/// The tree hashes the bytes with BLAKE3 too: `digest` is used only without it.
	tree: Option<TreeBuilder<cairn_primitives::tree::Poseidon2Tree>>,
	digest: blake3::Hasher,
	/// The chaining value of each piece, which the paths are worked out from.
	values: PieceValues,
	bytes: u64,
}

impl Through {
	fn new(commit: bool) -> io::Result<Self> {
		Ok(Self {
			tree: commit.then(TreeBuilder::over),
			digest: blake3::Hasher::new(),
			values: PieceValues::new(CHUNK_BYTES).map_err(io::Error::other)?,
			bytes: 0,
		})
	}

	/// The shard's next bytes.
	fn update(&mut self, data: &[u8]) -> io::Result<()> {
		self.values.update(data);
		match &mut self.tree {
			Some(tree) => tree.update(data).map_err(io::Error::other)?,
			None => {
				self.digest.update(data);
			}
		}
		self.bytes += data.len() as u64;
		Ok(())
	}

	fn finish(self) -> io::Result<ReadThrough> {
		let pieces = self.bytes.div_ceil(CHUNK_BYTES).max(1);
		let paths = paths_of(CHUNK_BYTES, self.bytes, &self.values.finish(), 0..pieces)
			.map_err(io::Error::other)?;
		let commitment = self.tree.map(|tree| tree.finish().0);
		Ok(ReadThrough {
			digest: commitment
				.as_ref()
				.map_or_else(|| *self.digest.finalize().as_bytes(), |c| c.blake3),
			bytes: self.bytes,
			paths,
			commitment,
		})
	}
}

/// Stripes the coding runs ahead of the hashing, at most.
const QUEUED_STRIPES: usize = 2;

/// Why [`code_into`] failed.
#[derive(Debug, thiserror::Error)]
pub enum CodingError {
	/// The input could not be read or coded.
	#[error("encoding: {0}")]
	Encoding(#[from] cairn_storage::StorageError),
	/// A shard file could not be written.
	#[error("{0}")]
	Disk(#[from] io::Error),
}

/// Encrypts and codes `input` into `files`, one per shard, in one pass: each shard's bytes are
/// written to its file and read through ([`ReadThrough`], with the commitment if `commit`) on
/// another thread as they come, so that the hashing runs beside the coding, not after it, and
/// nothing is read back. Memory: a stripe, [`QUEUED_STRIPES`] more queued, and a piece and the
/// tree's batch per shard (blocking).
pub fn code_into(
	coding: CodingParams,
	encryption: Encryption<'_>,
	input: impl Read,
	files: &[ShardFile],
	commit: bool,
) -> Result<(FileManifest, Vec<ReadThrough>), CodingError> {
	let writes = QUEUED_STRIPES * files.len();
	let (queue, queued) = std::sync::mpsc::sync_channel::<(usize, Vec<u8>)>(writes);
	std::thread::scope(|scope| {
		let hashing = std::thread::Builder::new().name("shard-hashing".into()).spawn_scoped(
			scope,
			move || {
				let mut throughs: Vec<Through> =
					files.iter().map(|_| Through::new(commit)).collect::<io::Result<_>>()?;
				for (index, data) in queued {
					throughs[index].update(&data)?;
				}
				throughs.into_iter().map(Through::finish).collect::<io::Result<Vec<_>>>()
			},
		)?;
		let mut writers: Vec<Teeing> = files
			.iter()
			.enumerate()
			.map(|(index, file)| Teeing {
				file: file.writer(),
				index,
				queue: queue.clone(),
				failed: None,
			})
			.collect();
		drop(queue);
		let coded = encode_stream(coding, encryption, input, &mut writers);
		let failed = writers.iter_mut().find_map(|writer| writer.failed.take());
		let written: io::Result<()> = writers
			.into_iter()
			.try_for_each(|writer| writer.file.into_inner().map(drop).map_err(|e| e.into_error()));
		// Every sender is gone: the hashing ends with the last bytes queued.
		let read = match hashing.join() {
			Ok(read) => read,
			Err(panic) => std::panic::resume_unwind(panic),
		};
		// The first cause: the coding's own failure may only be that one of them stopped it.
		let read = read?;
		if let Some(error) = failed {
			return Err(CodingError::Disk(error));
		}
		let manifest = coded?;
		written?;
		Ok((manifest, read))
	})
}

/// A shard's writer that queues each write for the hashing too.
struct Teeing {
	file: BufWriter<Writer>,
	index: usize,
	queue: std::sync::mpsc::SyncSender<(usize, Vec<u8>)>,
	/// Why the file could not be written (the coding sees only that it failed).
	failed: Option<io::Error>,
}

impl io::Write for Teeing {
	fn write(&mut self, data: &[u8]) -> io::Result<usize> {
		if let Err(error) = self.file.write_all(data) {
			let kind = error.kind();
			self.failed = Some(error);
			return Err(io::Error::new(kind, "a shard file could not be written"));
		}
		self.queue
			.send((self.index, data.to_vec()))
			.map_err(|_| io::Error::other("the shard's hashing stopped"))?;
		Ok(data.len())
	}

	fn flush(&mut self) -> io::Result<()> {
		self.file.flush()
	}
}

/// A shard file that a fetch fills from its start, in order, and that [`Follower`]s read
/// behind the fetch. The fetch says how far it got once those bytes are written and checked
/// ([`filled`](Self::filled)), then that it is [`done`](Self::done), or that it
/// [`failed`](Self::fail): a follower waiting for bytes that will not come then gets an error
/// instead of waiting for ever.
#[derive(Clone)]
pub struct Filling(Arc<FillingFile>);

struct FillingFile {
	file: ShardFile,
	fill: Mutex<Fill>,
	changed: Condvar,
}

#[derive(Clone, Copy, Default)]
struct Fill {
	/// Bytes written and checked, from the start.
	to: u64,
	/// No more will come: the fetch ended (`failed`, or well).
	done: bool,
	failed: bool,
}

impl Filling {
	/// `file`, empty so far.
	pub fn new(file: ShardFile) -> Self {
		Self(Arc::new(FillingFile { file, fill: Mutex::default(), changed: Condvar::new() }))
	}

	/// The file.
	pub fn file(&self) -> &ShardFile {
		&self.0.file
	}

	/// Its first `to` bytes are written and checked.
	pub fn filled(&self, to: u64) {
		self.update(|fill| fill.to = fill.to.max(to));
	}

	/// The fetch ended well: the file is whole.
	pub fn done(&self) {
		self.update(|fill| fill.done = true);
	}

	/// The fetch ended without filling the file (a no-op once it is done).
	pub fn fail(&self) {
		self.update(|fill| {
			fill.failed |= !fill.done;
			fill.done = true;
		});
	}

	/// Whether the fetch ended well.
	pub fn is_whole(&self) -> bool {
		let fill = *self.0.fill.lock().unwrap_or_else(PoisonError::into_inner);
		fill.done && !fill.failed
	}

	/// Reads the file from the start as it fills (blocking; unbuffered: a stripe's reads are
	/// large).
	pub fn follower(&self) -> Follower {
		Follower { filling: self.clone(), offset: 0 }
	}

	fn update(&self, change: impl FnOnce(&mut Fill)) {
		change(&mut self.0.fill.lock().unwrap_or_else(PoisonError::into_inner));
		self.0.changed.notify_all();
	}

	/// Bytes filled, once there are more than `offset` or the fetch is over (blocking); an
	/// error if it failed short of `offset`.
	fn wait_past(&self, offset: u64) -> io::Result<u64> {
		let mut fill = self.0.fill.lock().unwrap_or_else(PoisonError::into_inner);
		loop {
			match *fill {
				Fill { to, .. } if to > offset => return Ok(to),
				Fill { failed: true, .. } => {
					return Err(io::Error::other("the shard's fetch failed before this byte"))
				}
				Fill { to, done: true, .. } => return Ok(to),
				_ => fill = self.0.changed.wait(fill).unwrap_or_else(PoisonError::into_inner),
			}
		}
	}
}

/// Reads a [`Filling`] from the start, waiting for bytes the fetch has not written yet; the end
/// of the file once the fetch is done.
pub struct Follower {
	filling: Filling,
	offset: u64,
}

impl Read for Follower {
	fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
		if buffer.is_empty() {
			return Ok(0);
		}
		let filled = self.filling.wait_past(self.offset)?;
		let available = usize::try_from(filled.saturating_sub(self.offset)).unwrap_or(usize::MAX);
		let wanted = buffer.len().min(available);
		let read = self.filling.0.file.0.read_at(&mut buffer[..wanted], self.offset)?;
		self.offset += read as u64;
		Ok(read)
	}
}

/// What one reading of a shard gives ([`ShardFile::read_through`]).
pub struct ReadThrough {
	/// Its BLAKE3 digest.
	pub digest: [u8; 32],
	/// Its length.
	pub bytes: u64,
	/// The BLAKE3 path of each of its pieces of [`CHUNK_BYTES`].
	pub paths: Vec<PiecePath>,
	/// Its Poseidon commitment, if asked for.
	pub commitment: Option<ShardCommitment>,
}

/// Reads a file by position (other readers do not move it).
pub struct Reader {
	file: Arc<File>,
	offset: u64,
}

impl Reader {
	/// Reads `file` from `offset` on.
	pub fn at(file: Arc<File>, offset: u64) -> Self {
		Self { file, offset }
	}
}

impl Read for Reader {
	fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
		let read = self.file.read_at(buffer, self.offset)?;
		self.offset += read as u64;
		Ok(read)
	}
}

/// Writes a shard file from the start, by position.
pub struct Writer {
	file: Arc<File>,
	offset: u64,
}

impl io::Write for Writer {
	fn write(&mut self, data: &[u8]) -> io::Result<usize> {
		let written = self.file.write_at(data, self.offset)?;
		self.offset += written as u64;
		Ok(written)
	}

	fn flush(&mut self) -> io::Result<()> {
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use std::io::Write;

	use super::*;

	fn bytes(len: usize) -> Vec<u8> {
		let mut data = vec![0; len];
		blake3::Hasher::new().update(b"shard").finalize_xof().fill(&mut data);
		data
	}

	#[tokio::test]
	async fn a_shard_on_disk_reads_as_it_would_in_memory() {
		let root = tempfile::tempdir().unwrap();
		let dir = ShardDir::new(&root.path().join(DIR)).unwrap();
		// Pieces in any order, as a fetch writes them.
		let data = bytes(3 * BUFFER_BYTES + 12_345);
		let fetched = dir.create().unwrap();
		for offset in (0..data.len()).step_by(BUFFER_BYTES).rev() {
			let end = (offset + BUFFER_BYTES).min(data.len());
			fetched.write_all_at(&data[offset..end], offset as u64).unwrap();
		}
		// And from the start, as coding writes them.
		let coded = dir.create().unwrap();
		let mut writer = coded.writer();
		writer.write_all(&data).unwrap();
		writer.flush().unwrap();
		drop(writer);

		let (expected, _) = cairn_storage::commitment::commit(&data).unwrap();
		let paths = cairn_storage::commitment::pieces::piece_paths(&data, CHUNK_BYTES).unwrap();
		for shard in [&fetched, &coded] {
			let mut back = Vec::new();
			shard.reader().read_to_end(&mut back).unwrap();
			assert!(back == data);
			assert_eq!(
				shard.read_at(BUFFER_BYTES as u64, 10).await.unwrap(),
				&data[BUFFER_BYTES..][..10]
			);
			let read = shard.read_through(true).unwrap();
			assert_eq!(read.digest, expected.blake3);
			assert_eq!(read.bytes, data.len() as u64);
			assert_eq!(read.paths, paths);
			let commitment = read.commitment.unwrap();
			assert_eq!((commitment.root, commitment.bytes), (expected.root, expected.bytes));
			let read = shard.read_through(false).unwrap();
			assert!(read.commitment.is_none() && read.digest == expected.blake3);
		}
		// Past the end: an error, not short data.
		assert!(fetched.read_at(data.len() as u64 - 5, 10).await.is_err());
		// An empty shard: one piece, with an empty path.
		let empty = dir.create().unwrap().read_through(false).unwrap();
		assert_eq!((empty.digest, empty.bytes), (*blake3::hash(&[]).as_bytes(), 0));
		assert_eq!(
			empty.paths,
			cairn_storage::commitment::pieces::piece_paths(&[], CHUNK_BYTES).unwrap()
		);
	}

	/// Coding in one pass gives the shards, manifest and readings that coding and then reading
	/// each shard through give. A source that fails half-way fails the coding, and a shard file
	/// that cannot be written fails it as the disk's error; neither leaves the hashing waiting.
	#[test]
	fn coding_in_one_pass_is_coding_then_reading_through() {
		let root = tempfile::tempdir().unwrap();
		let dir = ShardDir::new(&root.path().join(DIR)).unwrap();
		// Shards of a few whole pieces and a part of one.
		let data = bytes(9 * BUFFER_BYTES + 4_321);
		let coding = CodingParams::new(4, 2).unwrap();
		let key = cairn_storage::encoding::EncryptionKey::from_bytes([3; 32]);
		let nonce_prefix = cairn_storage::encoding::random_nonce_prefix();
		let encryption = || Encryption::On { key: &key, nonce_prefix };
		let mut shards = vec![Vec::new(); 6];
		let expected = encode_stream(coding, encryption(), &data[..], &mut shards).unwrap();
		for commit in [true, false] {
			let files = dir.create_all(6).unwrap();
			let (manifest, read) =
				code_into(coding, encryption(), &data[..], &files, commit).unwrap();
			assert_eq!(manifest, expected);
			for ((file, read), shard) in files.iter().zip(&read).zip(&shards) {
				let mut back = Vec::new();
				file.reader().read_to_end(&mut back).unwrap();
				assert!(back == *shard);
				assert_eq!(read.digest, *blake3::hash(shard).as_bytes());
				assert_eq!(read.bytes, shard.len() as u64);
				let paths = cairn_storage::commitment::pieces::piece_paths(shard, CHUNK_BYTES);
				assert_eq!(read.paths, paths.unwrap());
				let root = read.commitment.as_ref().map(|commitment| commitment.root);
				let expected = cairn_storage::commitment::commit(shard).unwrap().0.root;
				assert_eq!(root, commit.then_some(expected));
			}
		}

		struct FailsAfter<'a>(&'a [u8]);
		impl Read for FailsAfter<'_> {
			fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
				if self.0.is_empty() {
					return Err(io::Error::other("the source went away"));
				}
				let len = buffer.len().min(self.0.len());
				buffer[..len].copy_from_slice(&self.0[..len]);
				self.0 = &self.0[len..];
				Ok(len)
			}
		}
		let files = dir.create_all(6).unwrap();
		let error =
			code_into(coding, encryption(), FailsAfter(&data[..3 * BUFFER_BYTES]), &files, true)
				.map(drop)
				.unwrap_err();
		assert!(
			matches!(&error, CodingError::Encoding(e) if e.to_string().contains("went away")),
			"{error}"
		);

		// A shard file opened for reading only.
		let mut files = dir.create_all(6).unwrap();
		let path = dir.path.join(dir.made.load(Ordering::Relaxed).saturating_sub(1).to_string());
		files[5] = ShardFile(Arc::new(File::open(path).unwrap()));
		let error = code_into(coding, encryption(), &data[..], &files, true).map(drop).unwrap_err();
		assert!(matches!(error, CodingError::Disk(_)), "{error}");
	}

	/// A follower reads what is filled, waits for the rest, and ends with the file once the
	/// fetch is done; one waiting for bytes of a fetch that fails gets an error, after the bytes
	/// that were filled.
	#[test]
	fn a_follower_reads_behind_its_filling_and_stops_when_the_fetch_fails() {
		let root = tempfile::tempdir().unwrap();
		let dir = ShardDir::new(&root.path().join(DIR)).unwrap();
		let data = bytes(2 * BUFFER_BYTES + 777);
		for fails in [false, true] {
			let filling = Filling::new(dir.create().unwrap());
			let mut follower = filling.follower();
			let file = filling.file().0.clone();
			file.write_all_at(&data[..1000], 0).unwrap();
			filling.filled(1000);
			let mut first = vec![0; 1000];
			follower.read_exact(&mut first).unwrap();
			assert!(first == data[..1000]);
			// The rest is read on another thread, which waits for it.
			let reading = std::thread::spawn(move || {
				let mut rest = Vec::new();
				let result = follower.read_to_end(&mut rest);
				(result, rest)
			});
			let half = BUFFER_BYTES + 5;
			file.write_all_at(&data[1000..half], 1000).unwrap();
			filling.filled(half as u64);
			if fails {
				filling.fail();
			} else {
				file.write_all_at(&data[half..], half as u64).unwrap();
				filling.filled(data.len() as u64);
				filling.done();
			}
			let (result, rest) = reading.join().unwrap();
			assert_eq!(filling.is_whole(), !fails);
			if fails {
				assert!(result.is_err());
				assert!(rest == data[1000..half], "the filled bytes come before the error");
			} else {
				assert_eq!(result.unwrap(), data.len() - 1000);
				assert!(rest == data[1000..]);
			}
			// Done or failed, it stays so.
			filling.fail();
			assert_eq!(filling.is_whole(), !fails);
		}
	}

	#[test]
	fn a_directory_goes_when_dropped_and_its_open_files_stay_readable() {
		let root = tempfile::tempdir().unwrap();
		let shards = root.path().join(DIR);
		let dir = ShardDir::new(&shards).unwrap();
		let made = dir.create_all(3).unwrap();
		let mut writer = made[1].writer();
		writer.write_all(b"kept").unwrap();
		writer.flush().unwrap();
		drop(writer);
		let listed = std::fs::read_dir(&shards).unwrap().flatten().next().unwrap().path();
		assert_eq!(std::fs::read_dir(&listed).unwrap().count(), 3);
		drop(dir);
		assert!(!listed.exists());
		let mut back = String::new();
		made[1].reader().read_to_string(&mut back).unwrap();
		assert_eq!(back, "kept");
		// What a crash leaves.
		let left = ShardDir::new(&shards).unwrap();
		std::mem::forget(left);
		sweep(&shards);
		assert!(!shards.exists());
	}
}
