//! The files a client names by path on the node's machine: a source read for an upload, a target
//! written by a download. A caller names them, but the node opens them, so every path is checked
//! as the node sees it: absolute (the node's working directory is not the caller's), a regular
//! file (never a directory, FIFO or device, which would hang or leak the node), and a download
//! never follows a symbolic link: it is written to a new file beside the target, made
//! exclusively (never through a link), and renamed over the target once complete, so a failed
//! download leaves the old file as it was and a complete one appears at once.

use std::{
	fs::File,
	io,
	os::unix::fs::{FileTypeExt, OpenOptionsExt},
	path::PathBuf,
};

/// Why a path was refused, in words for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
	/// Relative paths mean nothing to the node.
	#[error(
		"{0} is not an absolute path (the node does not share the caller's working directory)"
	)]
	NotAbsolute(PathBuf),
	/// Not there, or not readable.
	#[error("cannot read {0}: {1}")]
	Unreadable(PathBuf, String),
	/// A directory, FIFO, socket or device.
	#[error("{0} is not a regular file ({1})")]
	NotRegular(PathBuf, &'static str),
	/// A download target that is a symbolic link.
	#[error("{0} is a symbolic link: downloads never write through links")]
	Symlink(PathBuf),
	/// A download target whose folder does not exist.
	#[error("{0} is not a directory")]
	NoDirectory(PathBuf),
	/// The target could not be written.
	#[error("cannot write {0}: {1}")]
	Unwritable(PathBuf, String),
}

fn kind(file_type: std::fs::FileType) -> &'static str {
	if file_type.is_dir() {
		"a directory"
	} else if file_type.is_fifo() {
		"a FIFO"
	} else if file_type.is_socket() {
		"a socket"
	} else if file_type.is_block_device() || file_type.is_char_device() {
		"a device"
	} else if file_type.is_symlink() {
		"a symbolic link"
	} else {
		"not a file"
	}
}

fn absolute(path: &str) -> Result<PathBuf, PathError> {
	let path = PathBuf::from(path);
	if path.is_absolute() {
		Ok(path)
	} else {
		Err(PathError::NotAbsolute(path))
	}
}

/// Opens an upload's source: an absolute path to a regular file (through links, which the
/// caller may name). Returns the open file and its length; the file checked is the file read.
pub fn open_source(path: &str) -> Result<(File, u64), PathError> {
	let path = absolute(path)?;
	// Non-blocking, so that a FIFO is refused instead of waiting for a writer.
	let file = std::fs::OpenOptions::new()
		.read(true)
		.custom_flags(libc::O_NONBLOCK)
		.open(&path)
		.map_err(|e| PathError::Unreadable(path.clone(), e.to_string()))?;
	let metadata =
		file.metadata().map_err(|e| PathError::Unreadable(path.clone(), e.to_string()))?;
	if !metadata.file_type().is_file() {
		return Err(PathError::NotRegular(path, kind(metadata.file_type())));
	}
	Ok((file, metadata.len()))
}

/// A download's target, checked before any work: an absolute path in an existing directory,
/// not a link, and a regular file if it exists.
#[derive(Debug, Clone)]
pub struct Target(PathBuf);

impl Target {
	/// Checks `path`, which a caller named, as a download target.
	pub fn check(path: &str) -> Result<Self, PathError> {
		Self::at(absolute(path)?)
	}

	/// Checks `path`, which the node chose, as a file to write: in an existing directory, not
	/// a link, a regular file if it exists.
	fn at(path: PathBuf) -> Result<Self, PathError> {
		let parent = path.parent().ok_or_else(|| PathError::NotRegular(path.clone(), "a root"))?;
		if !parent.is_dir() {
			return Err(PathError::NoDirectory(parent.to_path_buf()));
		}
		match std::fs::symlink_metadata(&path) {
			Ok(metadata) if metadata.file_type().is_symlink() => Err(PathError::Symlink(path)),
			Ok(metadata) if !metadata.file_type().is_file() => {
				Err(PathError::NotRegular(path, kind(metadata.file_type())))
			}
			Ok(_) => Ok(Self(path)),
			Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(Self(path)),
			Err(error) => Err(PathError::Unwritable(path, error.to_string())),
		}
	}

	/// Starts writing the download: a new file (mode 0600) beside the target, made with
	/// `O_EXCL | O_NOFOLLOW`, which [`Download::finish`] renames over the target.
	pub fn create(&self) -> Result<Download, PathError> {
		let path = &self.0;
		let parent = path.parent().ok_or_else(|| PathError::NotRegular(path.clone(), "a root"))?;
		let name = path.file_name().map(|name| name.to_string_lossy()).unwrap_or_default();
		let mut random = [0u8; 8];
		rand_chacha::rand_core::RngCore::fill_bytes(
			&mut <rand_chacha::ChaCha20Rng as rand_chacha::rand_core::SeedableRng>::from_entropy(),
			&mut random,
		);
		let partial = parent.join(format!(".{name}.{}.part", hex::encode(random)));
		let file = create_private(&partial)
			.map_err(|e| PathError::Unwritable(path.clone(), e.to_string()))?;
		Ok(Download { file: Some(file), partial, target: path.clone() })
	}
}

/// A new file at `path`, for this user only (0600), open for reading and writing; made with
/// `O_EXCL | O_NOFOLLOW`, so that nothing already there, a link included, is opened instead.
pub fn create_private(path: &std::path::Path) -> io::Result<File> {
	std::fs::OpenOptions::new()
		.read(true)
		.write(true)
		.create_new(true)
		.mode(0o600)
		.custom_flags(libc::O_NOFOLLOW)
		.open(path)
}

/// Replaces the file at `path` (in a directory that exists) with `bytes`, readable by this
/// user only (0600), as a download is written: a new file beside it, synced and renamed over
/// it, so that a crash leaves the old file or the new one, never part of either.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<(), PathError> {
	use std::io::Write;
	let mut file = Target::at(path.to_path_buf())?.create()?;
	file.file()
		.write_all(bytes)
		.map_err(|e| PathError::Unwritable(path.to_path_buf(), e.to_string()))?;
	file.finish()
}

/// A download being written; removed unless [`Download::finish`] is called.
pub struct Download {
	file: Option<File>,
	partial: PathBuf,
	target: PathBuf,
}

impl Download {
	/// The file to write.
	pub fn file(&mut self) -> &mut File {
		self.file.as_mut().expect("the file is taken only by finish, which consumes self")
	}

	/// Makes the download durable and puts it at the target (replacing a regular file there,
	/// or a link planted since the check, never what a link points to).
	pub fn finish(mut self) -> Result<(), PathError> {
		let unwritable = |e: io::Error| PathError::Unwritable(self.target.clone(), e.to_string());
		let file = self.file.take().expect("finish runs once");
		file.sync_all().map_err(unwritable)?;
		std::fs::rename(&self.partial, &self.target).map_err(unwritable)?;
		if let Some(parent) = self.target.parent() {
			let _ = File::open(parent).and_then(|dir| dir.sync_all());
		}
		Ok(())
	}
}

impl Drop for Download {
	fn drop(&mut self) {
		if self.file.is_some() {
			let _ = std::fs::remove_file(&self.partial);
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn text(path: &std::path::Path) -> String {
		path.display().to_string()
	}

	#[test]
	fn sources_are_absolute_regular_files() {
		let dir = tempfile::tempdir().unwrap();
		let file = dir.path().join("data");
		std::fs::write(&file, b"hello").unwrap();
		let (_, len) = open_source(&text(&file)).unwrap();
		assert_eq!(len, 5);
		let link = dir.path().join("link");
		std::os::unix::fs::symlink(&file, &link).unwrap();
		assert_eq!(open_source(&text(&link)).unwrap().1, 5, "a link the caller names is followed");

		assert!(matches!(open_source("data"), Err(PathError::NotAbsolute(_))));
		assert!(matches!(
			open_source(&text(dir.path())),
			Err(PathError::NotRegular(_, "a directory"))
		));
		assert!(matches!(open_source("/dev/zero"), Err(PathError::NotRegular(_, "a device"))));
		let fifo = dir.path().join("fifo");
		let c_path = std::ffi::CString::new(text(&fifo)).unwrap();
		// SAFETY: a valid NUL-terminated path.
		assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
		assert!(matches!(open_source(&text(&fifo)), Err(PathError::NotRegular(_, "a FIFO"))));
		assert!(matches!(
			open_source(&text(&dir.path().join("missing"))),
			Err(PathError::Unreadable(..))
		));
	}

	#[test]
	fn targets_never_write_through_links() {
		use std::io::Write;
		let dir = tempfile::tempdir().unwrap();
		let precious = dir.path().join("precious");
		std::fs::write(&precious, b"keep me").unwrap();
		let link = dir.path().join("out");
		std::os::unix::fs::symlink(&precious, &link).unwrap();
		assert!(matches!(Target::check(&text(&link)), Err(PathError::Symlink(_))));
		// A link planted after the check is replaced, not followed.
		let fresh = dir.path().join("fresh");
		let target = Target::check(&text(&fresh)).unwrap();
		std::os::unix::fs::symlink(&precious, &fresh).unwrap();
		let mut download = target.create().unwrap();
		download.file().write_all(b"downloaded").unwrap();
		download.finish().unwrap();
		assert_eq!(std::fs::read(&precious).unwrap(), b"keep me");
		assert_eq!(std::fs::read(&fresh).unwrap(), b"downloaded");
		assert!(!std::fs::symlink_metadata(&fresh).unwrap().file_type().is_symlink());

		assert!(matches!(
			Target::check(&text(&dir.path().join("no/such/dir/file"))),
			Err(PathError::NoDirectory(_))
		));
		assert!(matches!(Target::check("relative"), Err(PathError::NotAbsolute(_))));
		assert!(matches!(Target::check(&text(dir.path())), Err(PathError::NotRegular(..))));
	}

	#[test]
	fn a_failed_download_leaves_the_old_file_and_no_litter() {
		use std::io::Write;
		let dir = tempfile::tempdir().unwrap();
		let out = dir.path().join("result");
		std::fs::write(&out, b"old contents").unwrap();
		let target = Target::check(&text(&out)).unwrap();
		let mut failed = target.create().unwrap();
		failed.file().write_all(b"half").unwrap();
		drop(failed);
		assert_eq!(std::fs::read(&out).unwrap(), b"old contents");
		let mut done = target.create().unwrap();
		done.file().write_all(b"new").unwrap();
		done.finish().unwrap();
		assert_eq!(std::fs::read(&out).unwrap(), b"new");
		let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
		assert_eq!(names.len(), 1, "only the result: {names:?}");
	}
}
