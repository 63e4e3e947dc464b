//! Buckets made with `CreateBucket`, kept in `buckets.json` so that an empty bucket outlives a
//! restart. A bucket that holds objects needs no entry: its objects' names carry it.

use std::{
	collections::BTreeMap,
	io,
	path::{Path, PathBuf},
	sync::Mutex,
	time::{SystemTime, UNIX_EPOCH},
};

/// The buckets made here: name and when (Unix milliseconds).
pub struct Buckets {
	path: PathBuf,
	made: Mutex<BTreeMap<String, u64>>,
}

impl Buckets {
	/// The buckets recorded in `path` (none if it does not exist yet).
	pub fn open(path: &Path) -> io::Result<Self> {
		let made = match std::fs::read(path) {
			Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
				io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))
			})?,
			Err(error) if error.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
			Err(error) => return Err(error),
		};
		Ok(Self { path: path.to_path_buf(), made: Mutex::new(made) })
	}

	/// The buckets made here, and when.
	pub fn all(&self) -> BTreeMap<String, u64> {
		self.made.lock().expect("not poisoned").clone()
	}

	/// Records `name`; false if it was recorded already.
	pub fn make(&self, name: &str) -> io::Result<bool> {
		let mut made = self.made.lock().expect("not poisoned");
		if made.contains_key(name) {
			return Ok(false);
		}
		let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
		made.insert(name.to_string(), now.as_millis() as u64);
		self.save(&made).inspect_err(|_| {
			made.remove(name);
		})?;
		Ok(true)
	}

	/// Forgets `name`; false if it was not recorded.
	pub fn forget(&self, name: &str) -> io::Result<bool> {
		let mut made = self.made.lock().expect("not poisoned");
		let Some(when) = made.remove(name) else { return Ok(false) };
		self.save(&made).inspect_err(|_| {
			made.insert(name.to_string(), when);
		})?;
		Ok(true)
	}

	fn save(&self, made: &BTreeMap<String, u64>) -> io::Result<()> {
		let bytes = serde_json::to_vec_pretty(made).map_err(io::Error::other)?;
		cairn_files::local_file::write_private(&self.path, &bytes).map_err(io::Error::other)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn buckets_outlive_a_restart() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("buckets.json");
		let buckets = Buckets::open(&path).unwrap();
		assert!(buckets.make("photos").unwrap());
		assert!(!buckets.make("photos").unwrap());
		assert!(buckets.make("backups").unwrap());
		assert!(buckets.forget("backups").unwrap());
		assert!(!buckets.forget("backups").unwrap());
		let reopened = Buckets::open(&path).unwrap();
		assert_eq!(reopened.all().keys().collect::<Vec<_>>(), ["photos"]);
		std::fs::write(&path, b"not json").unwrap();
		assert!(Buckets::open(&path).is_err());
	}
}
