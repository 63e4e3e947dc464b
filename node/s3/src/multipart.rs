//! Multipart uploads in progress, on disk: `<id>/object` holds the object's name, and each part
//! is a file `<number>.<etag>`, written as it arrives. Completing one joins its parts into a
//! spooled file, which is stored as one file.

use std::{
	collections::{BTreeMap, HashSet},
	io,
	os::unix::fs::DirBuilderExt,
	path::{Path, PathBuf},
	sync::Mutex,
	time::{Duration, SystemTime},
};

/// Uploads in progress at once; more are refused until some are completed or aborted.
pub const MAX_UPLOADS: usize = 64;

/// Highest part number, as S3's.
pub const MAX_PART: i32 = 10_000;

/// An upload whose parts have not changed for this long is removed when the node starts.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

/// Why a multipart request cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum MultipartError {
	/// No such upload (never made, completed or aborted).
	#[error("no multipart upload {0:?}")]
	NoSuchUpload(String),
	/// The upload is for another object.
	#[error("multipart upload {0:?} is for another object")]
	OtherObject(String),
	/// Too many uploads in progress.
	#[error("{MAX_UPLOADS} multipart uploads are in progress: complete or abort some first")]
	TooMany,
	/// A part number outside 1 to [`MAX_PART`].
	#[error("part number {0} is not between 1 and {MAX_PART}")]
	PartNumber(i32),
	/// The upload is being completed already.
	#[error("multipart upload {0:?} is being completed")]
	Completing(String),
	/// The parts a completion lists are not the parts uploaded.
	#[error("{0}")]
	Parts(String),
	/// Its parts would be larger than one file may be.
	#[error("the parts come to more than {0} bytes, the most a file holds")]
	TooLarge(u64),
	/// The disk.
	#[error("multipart upload: {0}")]
	Io(#[from] io::Error),
}

/// A part as uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
	pub path: PathBuf,
	pub etag: String,
	pub bytes: u64,
}

/// The uploads in progress, under one directory.
pub struct Uploads {
	dir: PathBuf,
	/// Uploads being completed: their parts must not change.
	completing: Mutex<HashSet<String>>,
}

impl Uploads {
	/// The uploads under `dir`; removes those untouched for [`ABANDONED_AFTER`].
	pub fn open(dir: &Path) -> io::Result<Self> {
		std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
		let now = SystemTime::now();
		for entry in std::fs::read_dir(dir)?.flatten() {
			let touched = entry.metadata().and_then(|m| m.modified()).unwrap_or(now);
			if now.duration_since(touched).unwrap_or_default() > ABANDONED_AFTER {
				log::info!(target: "cairn-s3", "multipart upload {:?} abandoned: removed", entry.file_name());
				let _ = std::fs::remove_dir_all(entry.path());
			}
		}
		Ok(Self { dir: dir.to_path_buf(), completing: Mutex::default() })
	}

	/// Starts an upload of the object `name`; its id.
	pub fn create(&self, name: &str) -> Result<String, MultipartError> {
		if std::fs::read_dir(&self.dir)?.count() >= MAX_UPLOADS {
			return Err(MultipartError::TooMany);
		}
		let id = crate::random_hex(16);
		let dir = self.dir.join(&id);
		std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
		cairn_files::local_file::write_private(&dir.join("object"), name.as_bytes())
			.map_err(io::Error::other)?;
		Ok(id)
	}

	/// The directory of upload `id` of the object `name`.
	fn upload(&self, id: &str, name: &str) -> Result<PathBuf, MultipartError> {
		// An id is what `create` made: hex digits only, never a path.
		if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
			return Err(MultipartError::NoSuchUpload(id.to_string()));
		}
		let dir = self.dir.join(id);
		match std::fs::read(dir.join("object")) {
			Ok(object) if object == name.as_bytes() => Ok(dir),
			Ok(_) => Err(MultipartError::OtherObject(id.to_string())),
			Err(error) if error.kind() == io::ErrorKind::NotFound => {
				Err(MultipartError::NoSuchUpload(id.to_string()))
			}
			Err(error) => Err(error.into()),
		}
	}

	/// The parts of upload `id` by number.
	fn parts(dir: &Path) -> io::Result<BTreeMap<i32, Part>> {
		let mut parts = BTreeMap::new();
		for entry in std::fs::read_dir(dir)?.flatten() {
			let file_name = entry.file_name();
			let Some((number, etag)) = file_name.to_str().and_then(|n| n.split_once('.')) else {
				continue;
			};
			let Ok(number) = number.parse::<i32>() else { continue };
			let bytes = entry.metadata()?.len();
			parts.insert(number, Part { path: entry.path(), etag: etag.to_string(), bytes });
		}
		Ok(parts)
	}

	/// Where part `number` of upload `id` of `name` is to be written, with its etag, and how
	/// many bytes it may have so that all parts fit in `limit`. The caller writes it and then
	/// calls [`Uploads::keep_part`].
	pub fn new_part(
		&self,
		id: &str,
		name: &str,
		number: i32,
		limit: u64,
	) -> Result<(PathBuf, u64), MultipartError> {
		if !(1..=MAX_PART).contains(&number) {
			return Err(MultipartError::PartNumber(number));
		}
		let dir = self.upload(id, name)?;
		if self.completing.lock().expect("not poisoned").contains(id) {
			return Err(MultipartError::Completing(id.to_string()));
		}
		let others: u64 = Self::parts(&dir)?
			.into_iter()
			.filter(|(n, _)| *n != number)
			.map(|(_, part)| part.bytes)
			.sum();
		let room = limit.checked_sub(others).ok_or(MultipartError::TooLarge(limit))?;
		Ok((dir.join(format!("{number}.{}", crate::random_hex(16))), room))
	}

	/// Makes the part written at `path` part `number`, replacing any earlier one; its etag.
	pub fn keep_part(&self, path: &Path, number: i32) -> Result<String, MultipartError> {
		let dir = path.parent().expect("a part is in its upload's directory");
		for (n, part) in Self::parts(dir)? {
			if n == number && part.path != path {
				std::fs::remove_file(&part.path)?;
			}
		}
		let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
		Ok(name.split_once('.').map(|(_, etag)| etag.to_string()).unwrap_or_default())
	}

	/// The parts `listed` (number and etag, in order) of upload `id`, checked against those
	/// uploaded, and marks it as being completed. [`Uploads::finish`] ends that.
	pub fn begin_completion(
		&self,
		id: &str,
		name: &str,
		listed: &[(i32, String)],
		limit: u64,
	) -> Result<Vec<Part>, MultipartError> {
		let dir = self.upload(id, name)?;
		let uploaded = Self::parts(&dir)?;
		if listed.is_empty() {
			return Err(MultipartError::Parts("a completion lists at least one part".into()));
		}
		let mut chosen = Vec::with_capacity(listed.len());
		let mut previous = 0;
		for (number, etag) in listed {
			if *number <= previous {
				return Err(MultipartError::Parts(format!(
					"parts are listed in ascending order, once each: {number} after {previous}"
				)));
			}
			previous = *number;
			let part = uploaded
				.get(number)
				.filter(|part| part.etag == etag.trim_matches('"'))
				.ok_or_else(|| {
					MultipartError::Parts(format!("no part {number} with etag {etag} was uploaded"))
				})?;
			chosen.push(part.clone());
		}
		if chosen.iter().map(|part| part.bytes).sum::<u64>() > limit {
			return Err(MultipartError::TooLarge(limit));
		}
		if !self.completing.lock().expect("not poisoned").insert(id.to_string()) {
			return Err(MultipartError::Completing(id.to_string()));
		}
		Ok(chosen)
	}

	/// Ends a completion of upload `id`: its parts are removed if it was stored, and kept for
	/// the client to try again if not.
	pub fn finish(&self, id: &str, stored: bool) {
		self.completing.lock().expect("not poisoned").remove(id);
		if stored {
			self.remove(id);
		}
	}

	/// Aborts upload `id` of `name`: its parts are removed.
	pub fn abort(&self, id: &str, name: &str) -> Result<(), MultipartError> {
		self.upload(id, name)?;
		if self.completing.lock().expect("not poisoned").contains(id) {
			return Err(MultipartError::Completing(id.to_string()));
		}
		self.remove(id);
		Ok(())
	}

	fn remove(&self, id: &str) {
		if let Err(error) = std::fs::remove_dir_all(self.dir.join(id)) {
			log::warn!(target: "cairn-s3", "multipart upload {id}: cannot remove its parts: {error}");
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn write(uploads: &Uploads, id: &str, number: i32, bytes: &[u8]) -> String {
		let (path, room) = uploads.new_part(id, "b/k", number, 100).unwrap();
		assert!(bytes.len() as u64 <= room);
		std::fs::write(&path, bytes).unwrap();
		uploads.keep_part(&path, number).unwrap()
	}

	#[test]
	fn parts_are_kept_replaced_checked_and_removed() {
		let dir = tempfile::tempdir().unwrap();
		let uploads = Uploads::open(dir.path()).unwrap();
		let id = uploads.create("b/k").unwrap();
		let first = write(&uploads, &id, 1, b"hello ");
		let _replaced = write(&uploads, &id, 2, b"earth");
		let second = write(&uploads, &id, 2, b"world");
		// Only the parts' room is left for another part.
		let (_, room) = uploads.new_part(&id, "b/k", 3, 100).unwrap();
		assert_eq!(room, 100 - 11);
		for bad in [0, MAX_PART + 1] {
			assert!(matches!(
				uploads.new_part(&id, "b/k", bad, 100),
				Err(MultipartError::PartNumber(_))
			));
		}
		assert!(matches!(
			uploads.new_part(&id, "b/other", 1, 100),
			Err(MultipartError::OtherObject(_))
		));
		for unknown in ["", "../x", "00"] {
			assert!(matches!(
				uploads.new_part(unknown, "b/k", 1, 100),
				Err(MultipartError::NoSuchUpload(_))
			));
		}

		let listed = |parts: &[(i32, &str)]| -> Vec<(i32, String)> {
			parts.iter().map(|(n, e)| (*n, format!("\"{e}\""))).collect()
		};
		for wrong in [
			listed(&[]),
			listed(&[(2, &second), (1, &first)]),
			listed(&[(1, &first), (1, &first)]),
			listed(&[(1, &second)]),
			listed(&[(1, &first), (3, &second)]),
		] {
			let refused = uploads.begin_completion(&id, "b/k", &wrong, 100);
			assert!(matches!(refused, Err(MultipartError::Parts(_))), "{wrong:?}");
		}
		let both = listed(&[(1, &first), (2, &second)]);
		assert!(matches!(
			uploads.begin_completion(&id, "b/k", &both, 10),
			Err(MultipartError::TooLarge(10))
		));
		let parts = uploads.begin_completion(&id, "b/k", &both, 100).unwrap();
		let joined: Vec<u8> = parts.iter().flat_map(|p| std::fs::read(&p.path).unwrap()).collect();
		assert_eq!(joined, b"hello world");
		// Being completed: no second completion, no new part, no abort.
		assert!(matches!(
			uploads.begin_completion(&id, "b/k", &both, 100),
			Err(MultipartError::Completing(_))
		));
		assert!(matches!(uploads.new_part(&id, "b/k", 3, 100), Err(MultipartError::Completing(_))));
		assert!(matches!(uploads.abort(&id, "b/k"), Err(MultipartError::Completing(_))));
		// A failed store keeps the parts for another try; a stored one removes them.
		uploads.finish(&id, false);
		assert!(uploads.begin_completion(&id, "b/k", &both, 100).is_ok());
		uploads.finish(&id, true);
		assert!(matches!(uploads.abort(&id, "b/k"), Err(MultipartError::NoSuchUpload(_))));

		let aborted = uploads.create("b/k").unwrap();
		uploads.abort(&aborted, "b/k").unwrap();
		assert!(matches!(
			uploads.new_part(&aborted, "b/k", 1, 100),
			Err(MultipartError::NoSuchUpload(_))
		));
		for _ in 0..MAX_UPLOADS {
			uploads.create("b/k").unwrap();
		}
		assert!(matches!(uploads.create("b/k"), Err(MultipartError::TooMany)));
	}
}
