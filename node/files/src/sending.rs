//! The shards this node is sending now (an upload, a resumed upload, a repair): the repair loop
//! leaves them alone. Each is marked for as long as its [`Sending`] lives, so that a send dropped
//! half-way (its caller gone, as when `client put` is interrupted) releases its shards at once.

use std::{
	collections::HashSet,
	sync::{Arc, Mutex, MutexGuard},
};

use pallet_market::ContractId;

/// A shard of a contract.
type Key = (ContractId, u32);

/// The shards being sent; cloned handles share one set.
#[derive(Clone, Default)]
pub(super) struct BeingSent(Arc<Mutex<HashSet<Key>>>);

impl BeingSent {
	fn set(&self) -> MutexGuard<'_, HashSet<Key>> {
		self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// Whether shard `key` is being sent.
	pub fn contains(&self, key: &Key) -> bool {
		self.set().contains(key)
	}

	/// Marks `keys` as being sent until the returned guard is dropped; `None`, marking nothing,
	/// when one of them is being sent already.
	pub fn mark(&self, keys: Vec<Key>) -> Option<Sending> {
		let mut set = self.set();
		if keys.iter().any(|key| set.contains(key)) {
			return None;
		}
		set.extend(keys.iter().copied());
		Some(Sending { set: self.clone(), keys })
	}
}

/// Shards marked as being sent, released when this is dropped.
pub(super) struct Sending {
	set: BeingSent,
	keys: Vec<Key>,
}

impl Drop for Sending {
	fn drop(&mut self) {
		let mut set = self.set.set();
		for key in &self.keys {
			set.remove(key);
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_shard_is_marked_once_and_released_when_its_send_is_dropped() {
		let sent = BeingSent::default();
		let upload = sent.mark(vec![(1, 0), (1, 1)]).unwrap();
		assert!(sent.contains(&(1, 0)) && sent.contains(&(1, 1)));
		// A second send of one of them waits; marking nothing.
		assert!(sent.mark(vec![(1, 1), (2, 0)]).is_none());
		assert!(!sent.contains(&(2, 0)));
		let repair = sent.mark(vec![(2, 0)]).unwrap();
		drop(upload);
		assert!(!sent.contains(&(1, 0)) && !sent.contains(&(1, 1)));
		assert!(sent.contains(&(2, 0)));
		drop(repair);
		assert!(sent.mark(vec![(1, 1), (2, 0)]).is_some());
	}

	#[test]
	fn a_send_dropped_half_way_releases_its_shards() {
		let sent = BeingSent::default();
		let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
		let handle = sent.clone();
		let pushing = runtime.spawn(async move {
			let _sending = handle.mark(vec![(3, 2)]).unwrap();
			std::future::pending::<()>().await;
		});
		runtime.block_on(async {
			while !sent.contains(&(3, 2)) {
				tokio::task::yield_now().await;
			}
			// Its caller goes away.
			pushing.abort();
			let _ = pushing.await;
		});
		assert!(!sent.contains(&(3, 2)));
	}
}
