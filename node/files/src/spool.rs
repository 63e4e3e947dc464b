//! Files the client API's HTTP side holds for a moment: the body of `PUT /files/<name>` while it
//! is uploaded, and a download while it is sent back. They live in `incoming/` in the files
//! directory, readable by this user only.
//!
//! An upload's journal entry reads its source again after a crash ([`crate::journal`]), so a
//! spooled source lives as long as that entry and no longer: when the request ends, it is
//! removed unless an entry still reads it, and the entry removes it when it is done. What a
//! crash leaves that no entry reads is removed when the node starts.

use std::{
	io,
	os::unix::fs::{DirBuilderExt, OpenOptionsExt},
	path::{Path, PathBuf},
	sync::Arc,
};

use super::{Files, FilesError};

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
		if !self.files.journal.reads(&self.path) {
			remove(&self.path);
		}
	}
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
		let file = std::fs::OpenOptions::new()
			.write(true)
			.read(true)
			.create_new(true)
			.mode(0o600)
			.custom_flags(libc::O_NOFOLLOW)
			.open(&path)
			.map_err(local)?;
		Ok((Spooled { path, files: self.clone() }, file))
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
