//! Shards on disk while they are made, sent, fetched or rebuilt: each in a file of its own, in a
//! directory of `shards/` (in the files directory) that lives as long as the work on it. An
//! upload, a download or a repair then holds a stripe and a few pieces in memory, not whole
//! shards, whatever the file's size; the disk holds the shards meanwhile (`(k + m) / k` times the
//! file for an upload).
//!
//! A [`ShardFile`] is read and written by position, so any number of readers and writers share
//! it. Its directory is removed when its [`ShardDir`] is dropped; open files stay readable until
//! their last handle goes. What a crash leaves is removed when the node starts ([`sweep`]).

use std::{
	fs::File,
	io::{self, BufReader, BufWriter, Read},
	os::unix::fs::{DirBuilderExt, FileExt},
	path::{Path, PathBuf},
	sync::{
		atomic::{AtomicUsize, Ordering},
		Arc,
	},
};

use cairn_net::CHUNK_BYTES;
use cairn_storage::{
	commitment::{
		pieces::{PiecePath, PiecePaths},
		ShardCommitment, TreeBuilder,
	},
	encoding::read_full,
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
	/// Writes `data` at `offset` (on a blocking thread).
	pub async fn write_at(&self, offset: u64, data: Vec<u8>) -> io::Result<()> {
		let file = self.0.clone();
		tokio::task::spawn_blocking(move || file.write_all_at(&data, offset))
			.await
			.map_err(io::Error::other)?
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

	/// Its BLAKE3 digest (blocking).
	pub fn digest(&self) -> io::Result<[u8; 32]> {
		let mut digest = blake3::Hasher::new();
		io::copy(&mut self.reader(), &mut digest)?;
		Ok(*digest.finalize().as_bytes())
	}

	/// Reads the shard through once (blocking): its BLAKE3 digest, length and piece paths, and,
	/// if `commit`, its Poseidon commitment.
	pub fn read_through(&self, commit: bool) -> io::Result<ReadThrough> {
		// The tree hashes the bytes with BLAKE3 too.
		let mut tree = commit.then(TreeBuilder::<cairn_primitives::tree::Poseidon2Tree>::over);
		let mut digest = blake3::Hasher::new();
		let mut paths = PiecePaths::new(CHUNK_BYTES).map_err(io::Error::other)?;
		let mut reader = Reader { file: self.0.clone(), offset: 0 };
		let mut piece = vec![0u8; BUFFER_BYTES];
		loop {
			let filled = read_full(&mut reader, &mut piece)?;
			if filled == 0 {
				break;
			}
			let data = &piece[..filled];
			paths.push(data).map_err(io::Error::other)?;
			match &mut tree {
				Some(tree) => tree.update(data).map_err(io::Error::other)?,
				None => {
					digest.update(data);
				}
			}
			if filled < piece.len() {
				break;
			}
		}
		let commitment = tree.map(|tree| tree.finish().0);
		Ok(ReadThrough {
			digest: commitment.as_ref().map_or_else(|| *digest.finalize().as_bytes(), |c| c.blake3),
			bytes: reader.offset,
			paths: paths.finish(),
			commitment,
		})
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
			fetched.write_at(offset as u64, data[offset..end].to_vec()).await.unwrap();
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
			assert_eq!(shard.digest().unwrap(), expected.blake3);
		}
		// Past the end: an error, not short data.
		assert!(fetched.read_at(data.len() as u64 - 5, 10).await.is_err());
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
