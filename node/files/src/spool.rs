//! Files the client API's HTTP side and the S3 gateway hold for a moment: a request's body while
//! it is uploaded, and a download while it is sent back. They live in `incoming/` in the files
//! directory, readable by this user only.
//!
//! An upload's journal entry reads its source again after a crash ([`crate::journal`]), so a
//! spooled source lives as long as that entry and no longer: when the request ends, it is
//! removed unless an entry still reads it, and the entry removes it when it is done. What a
//! crash leaves that no entry reads is removed when the node starts.

use std::{
	fmt::Display,
	io::{self, Seek, SeekFrom},
	os::unix::fs::DirBuilderExt,
	path::{Path, PathBuf},
	sync::Arc,
};

use futures::{Stream, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{DownloadParams, Files, FilesError, UploadParams};

/// The spool's directory, in the files directory.
pub const DIR: &str = "incoming";

/// A spooled file, removed when dropped unless the upload journal still reads it.
pub struct Spooled {
	path: PathBuf,
	files: Arc<Files>,
}

impl Spooled {
	/// Where it is (absolute).
	pub fn path(&self) -> &Path {
		&self.path
	}

	/// Its path as the client service's parameters take it.
	pub fn param(&self) -> String {
		self.path.display().to_string()
	}
}

impl Drop for Spooled {
	fn drop(&mut self) {
		self.files.journal.release(&self.path);
	}
}

/// Why a request's body could not be spooled.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
	/// It is larger than the caller allows.
	#[error("{received} bytes: a file has at most {limit} bytes")]
	TooLarge {
		/// Bytes it said it has, or had sent when it crossed the limit.
		received: u64,
		/// The limit.
		limit: u64,
	},
	/// The body broke off.
	#[error("the body stopped after {received} bytes: {reason}")]
	Cut {
		/// Bytes received before.
		received: u64,
		/// What the sender's side said.
		reason: String,
	},
	/// The spooled file could not be made or written.
	#[error(transparent)]
	Files(#[from] FilesError),
}

/// Writes `body` to `file` as it arrives and syncs it; refuses it as soon as it passes `limit`
/// bytes. Returns the bytes written.
pub async fn write_stream<S, D, E>(
	file: std::fs::File,
	body: S,
	limit: u64,
) -> Result<u64, SpoolError>
where
	S: Stream<Item = Result<D, E>>,
	D: AsRef<[u8]>,
	E: Display,
{
	let local = |e| FilesError::local("spooling the upload", e);
	let mut file = tokio::fs::File::from_std(file);
	let mut body = std::pin::pin!(body);
	let mut received = 0u64;
	while let Some(chunk) = body.next().await {
		let chunk = chunk.map_err(|e| SpoolError::Cut { received, reason: e.to_string() })?;
		let chunk = chunk.as_ref();
		received += chunk.len() as u64;
		if received > limit {
			return Err(SpoolError::TooLarge { received, limit });
		}
		file.write_all(chunk).await.map_err(local)?;
	}
	// An upload's journal may read it again after a crash.
	file.sync_all().await.map_err(local)?;
	Ok(received)
}

/// `length` bytes of `file` from `first` on, read in chunks as they are asked for.
pub fn read_range(
	mut file: std::fs::File,
	first: u64,
	length: u64,
) -> io::Result<tokio_util::io::ReaderStream<tokio::io::Take<tokio::fs::File>>> {
	/// Bytes read at a time.
	const CHUNK_BYTES: usize = 256 * 1024;
	file.seek(SeekFrom::Start(first))?;
	let range = tokio::fs::File::from_std(file).take(length);
	Ok(tokio_util::io::ReaderStream::with_capacity(range, CHUNK_BYTES))
}

/// Removes `path`, which may be gone already.
pub(crate) fn remove(path: &Path) {
	match std::fs::remove_file(path) {
		Ok(()) => {}
		Err(error) if error.kind() == io::ErrorKind::NotFound => {}
		Err(error) => {
			log::warn!(target: "cairn-client", "{}: cannot remove it: {error}", path.display())
		}
	}
}

impl Files {
	fn spool_dir(&self) -> &Path {
		self.journal.spool()
	}

	/// A new, empty spooled file (mode 0600) and its handle, open for writing.
	pub fn spool(self: &Arc<Self>) -> Result<(Spooled, std::fs::File), FilesError> {
		let local = |e| FilesError::local("the client API's spool", e);
		let dir = self.spool_dir();
		std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(local)?;
		let path = dir.join(super::journal::Journal::new_id());
		let file = crate::local_file::create_private(&path).map_err(local)?;
		self.journal.hold(&path);
		Ok((Spooled { path, files: self.clone() }, file))
	}

	/// `body` in a new spooled file, refused beyond `limit` bytes; and its size.
	pub async fn spool_stream<S, D, E>(
		self: &Arc<Self>,
		body: S,
		limit: u64,
	) -> Result<(Spooled, u64), SpoolError>
	where
		S: Stream<Item = Result<D, E>>,
		D: AsRef<[u8]>,
		E: Display,
	{
		let (spooled, file) = self.spool()?;
		let size = write_stream(file, body, limit).await?;
		Ok((spooled, size))
	}

	/// Stores a spooled file as `params` say (its path is the spooled file's) and waits until
	/// every shard is confirmed on chain, as `client put` does: a file is read back only from
	/// providers that confirmed it. Returns what the upload returned.
	pub async fn store_spooled(
		&self,
		spooled: Spooled,
		mut params: UploadParams,
	) -> Result<Value, FilesError> {
		params.path = Some(spooled.param());
		let stored = self.upload(params, None).await?;
		self.await_confirmed(&stored, None).await?;
		Ok(stored)
	}

	/// Downloads a file into the spool and opens it; what the download returned. The spooled
	/// name is gone once this returns: the open file outlives it.
	pub async fn download_spooled(
		self: &Arc<Self>,
		mut which: DownloadParams,
	) -> Result<(std::fs::File, Value), FilesError> {
		// The download replaces this empty file with the decoded one.
		let (spooled, _) = self.spool()?;
		which.path = Some(spooled.param());
		let done = self.download(which, None).await?;
		let file = std::fs::File::open(spooled.path())
			.map_err(|e| FilesError::local("reading the download", e))?;
		Ok((file, done))
	}

	/// Removes what a crash left in the spool that no upload's journal entry reads.
	pub(super) fn sweep_spool(&self) {
		let Ok(listing) = std::fs::read_dir(self.spool_dir()) else { return };
		let read: Vec<PathBuf> = self
			.journal
			.entries()
			.into_iter()
			.filter_map(|(_, entry)| match entry.origin {
				super::journal::Origin::Path(path) => Some(PathBuf::from(path)),
				super::journal::Origin::Inline(_) => None,
			})
			.collect();
		for file in listing.flatten() {
			let path = file.path();
			if !read.contains(&path) {
				log::info!(target: "cairn-client", "{}: left by an earlier run, removed", path.display());
				remove(&path);
			}
		}
	}
}
