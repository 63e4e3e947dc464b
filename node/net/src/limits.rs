//! The shard network's budgets: connections in and out; per peer a rate and a number of
//! requests in flight for each kind of request; for all peers together, requests in flight per
//! kind, bytes of requests being read ([`Reading`]), and serving slots and bytes of responses
//! being sent per kind. A request over budget is refused at once, with the reason, before any
//! work is done.

use std::{
	collections::HashMap,
	sync::{
		atomic::{AtomicUsize, Ordering},
		Arc,
	},
	time::{Duration, Instant},
};

use libp2p::PeerId;

use crate::protocol::RequestKind;

/// The shard network's limits. The defaults are written down in `docs/SECURITY.md`.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
	/// Established inbound connections, in total.
	pub max_inbound: u32,
	/// Established outbound connections, in total (apart from inbound ones, so that a flood
	/// of inbound connections never stops this node from dialing providers).
	pub max_outbound: u32,
	/// Inbound connections still handshaking.
	pub max_pending_inbound: u32,
	/// Connections with one peer.
	pub max_per_peer: u32,
	/// Streams open at once on one connection.
	pub max_streams: usize,
	/// A request and its response must be done within this, or the stream is closed.
	pub request_timeout: Duration,
	/// Connections with nothing to do are closed after this.
	pub idle_timeout: Duration,
	/// Requests one peer may send per second, per kind (the bucket holds twice as many).
	pub rates: Rates,
	/// Requests of one peer in flight at once.
	pub per_peer_in_flight: u32,
	/// Requests of each kind in flight at once, from all peers together (a `Put` holds its
	/// piece in memory until it is answered, so this bounds that memory).
	pub max_in_flight: u32,
	/// Bytes of inbound requests being read at once, from all streams together.
	pub reading_bytes: usize,
	/// `Put` requests being served at once, from all peers together, and again `Get` requests
	/// (a serving pool for each: only the owners' grantees reach them).
	pub serving_slots: usize,
	/// `Leaves` requests (audits, open to anyone) being served at once, from all peers
	/// together: each costs Merkle paths over the store, so strangers' audits take at most
	/// this many threads however many strangers there are.
	pub audit_slots: usize,
	/// Bytes of responses of each kind written but not yet taken by their peers: a peer that
	/// asks and never reads holds no more than this between all such peers.
	pub sending_bytes: usize,
	/// How long a request may wait for a serving slot before it is refused as busy.
	pub slot_wait: Duration,
}

/// Requests per second per peer, by kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rates {
	/// `Put`: one piece each (an upload of a 16 MiB shard is 16).
	pub put: f64,
	/// `Get`: up to 1 MiB each.
	pub get: f64,
	/// `Leaves`: up to 64 leaves with paths each, the costliest to answer.
	pub leaves: f64,
}

impl Rates {
	fn of(&self, kind: RequestKind) -> f64 {
		match kind {
			RequestKind::Put => self.put,
			RequestKind::Get => self.get,
			RequestKind::Leaves => self.leaves,
		}
	}
}

impl Default for Limits {
	fn default() -> Self {
		Self {
			max_inbound: 128,
			max_outbound: 128,
			max_pending_inbound: 32,
			max_per_peer: 2,
			max_streams: 8,
			request_timeout: Duration::from_secs(30),
			idle_timeout: Duration::from_secs(60),
			rates: Rates { put: 256.0, get: 256.0, leaves: 8.0 },
			per_peer_in_flight: 8,
			max_in_flight: 64,
			reading_bytes: 64 << 20,
			serving_slots: 4,
			audit_slots: 1,
			sending_bytes: 32 << 20,
			slot_wait: Duration::from_secs(5),
		}
	}
}

/// A token bucket: `rate` tokens a second, holding at most `burst`.
#[derive(Clone, Debug)]
struct Bucket {
	tokens: f64,
	updated: Instant,
}

impl Bucket {
	fn full(burst: f64, now: Instant) -> Self {
		Self { tokens: burst, updated: now }
	}

	fn take(&mut self, rate: f64, burst: f64, now: Instant) -> bool {
		let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
		self.tokens = (self.tokens + elapsed * rate).min(burst);
		self.updated = now;
		if self.tokens >= 1.0 {
			self.tokens -= 1.0;
			true
		} else {
			false
		}
	}
}

/// One peer's budget.
#[derive(Clone, Debug)]
struct PeerBudget {
	buckets: HashMap<RequestKind, Bucket>,
	in_flight: u32,
	last_seen: Instant,
}

/// Why a request was refused before it was served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OverBudget {
	/// The peer sent requests of this kind faster than its rate.
	#[error("rate limit: too many {0:?} requests from this peer; slow down")]
	Rate(RequestKind),
	/// The peer has too many requests in flight.
	#[error("too many requests in flight from this peer (at most {0})")]
	InFlight(u32),
	/// This node serves as many requests of this kind as it takes at once.
	#[error("this node is serving as many {0:?} requests as it takes; try again later")]
	Full(RequestKind),
}

/// Every peer's budget. Peers idle for a minute are forgotten, so the table stays as small as
/// the set of connected peers.
#[derive(Debug)]
pub struct Budgets {
	limits: Limits,
	peers: HashMap<PeerId, PeerBudget>,
	/// Requests in flight by kind, from all peers.
	in_flight: HashMap<RequestKind, u32>,
	last_sweep: Instant,
}

impl Budgets {
	/// Budgets under `limits`.
	pub fn new(limits: Limits) -> Self {
		Self {
			limits,
			peers: HashMap::new(),
			in_flight: HashMap::new(),
			last_sweep: Instant::now(),
		}
	}

	/// Admits a request of `kind` from `peer` at `now`, counting it in flight until
	/// [`Budgets::finish`], or says why not.
	pub fn admit(
		&mut self,
		peer: PeerId,
		kind: RequestKind,
		now: Instant,
	) -> Result<(), OverBudget> {
		self.sweep(now);
		let rate = self.limits.rates.of(kind);
		let burst = (2.0 * rate).max(1.0);
		let budget = self.peers.entry(peer).or_insert_with(|| PeerBudget {
			buckets: HashMap::new(),
			in_flight: 0,
			last_seen: now,
		});
		budget.last_seen = now;
		if budget.in_flight >= self.limits.per_peer_in_flight {
			return Err(OverBudget::InFlight(self.limits.per_peer_in_flight));
		}
		let total = self.in_flight.entry(kind).or_default();
		if *total >= self.limits.max_in_flight {
			return Err(OverBudget::Full(kind));
		}
		let bucket = budget.buckets.entry(kind).or_insert_with(|| Bucket::full(burst, now));
		if !bucket.take(rate, burst, now) {
			return Err(OverBudget::Rate(kind));
		}
		*total += 1;
		budget.in_flight += 1;
		Ok(())
	}

	/// A request of `kind` from `peer` that was admitted is answered (or its peer left).
	pub fn finish(&mut self, peer: &PeerId, kind: RequestKind) {
		if let Some(budget) = self.peers.get_mut(peer) {
			budget.in_flight = budget.in_flight.saturating_sub(1);
		}
		if let Some(total) = self.in_flight.get_mut(&kind) {
			*total = total.saturating_sub(1);
		}
	}

	fn sweep(&mut self, now: Instant) {
		const FORGET_AFTER: Duration = Duration::from_secs(60);
		if now.saturating_duration_since(self.last_sweep) < FORGET_AFTER {
			return;
		}
		self.last_sweep = now;
		self.peers.retain(|_, budget| {
			budget.in_flight > 0 || now.saturating_duration_since(budget.last_seen) < FORGET_AFTER
		});
	}

	/// Peers with a budget now.
	#[cfg(test)]
	fn tracked(&self) -> usize {
		self.peers.len()
	}
}

/// Bytes being read from all inbound streams together, under a cap. Each reader [`hold`]s its
/// bytes as they come and lets go of them when its message is whole or the stream fails.
///
/// [`hold`]: Reading::hold
#[derive(Clone, Debug)]
pub struct Reading {
	held: Arc<AtomicUsize>,
	cap: usize,
}

impl Default for Reading {
	fn default() -> Self {
		Self::new(Limits::default().reading_bytes)
	}
}

impl Reading {
	/// A budget of `cap` bytes.
	pub fn new(cap: usize) -> Self {
		Self { held: Arc::new(AtomicUsize::new(0)), cap }
	}

	/// No cap (for reading what this node asked for itself).
	pub fn unbounded() -> Self {
		Self::new(usize::MAX)
	}

	/// Whether it has no cap.
	pub fn is_unbounded(&self) -> bool {
		self.cap == usize::MAX
	}

	/// Bytes held by all readers now.
	pub fn held(&self) -> usize {
		self.held.load(Ordering::Relaxed)
	}

	/// A reader's share, empty at first.
	pub fn hold(&self) -> Held<'_> {
		Held { budget: self, bytes: 0 }
	}
}

/// One reader's bytes of a [`Reading`] budget, returned when dropped.
#[derive(Debug)]
pub struct Held<'a> {
	budget: &'a Reading,
	bytes: usize,
}

impl Held<'_> {
	/// Takes `bytes` more, if the budget has them.
	pub fn grow(&mut self, bytes: usize) -> bool {
		let taken = self.budget.held.fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
			held.checked_add(bytes).filter(|&total| total <= self.budget.cap)
		});
		if taken.is_ok() {
			self.bytes += bytes;
		}
		taken.is_ok()
	}
}

impl Drop for Held<'_> {
	fn drop(&mut self) {
		self.budget.held.fetch_sub(self.bytes, Ordering::AcqRel);
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn readers_share_one_byte_budget_and_return_it() {
		let reading = Reading::new(100);
		let mut first = reading.hold();
		assert!(first.grow(60));
		let mut second = reading.hold();
		assert!(!second.grow(60), "over the cap");
		assert!(second.grow(40));
		assert_eq!(reading.held(), 100);
		drop(first);
		assert_eq!(reading.held(), 40);
		assert!(second.grow(60));
		drop(second);
		assert_eq!(reading.held(), 0);
	}

	#[test]
	fn requests_in_flight_are_capped_for_all_peers_together() {
		let mut budgets = Budgets::new(Limits { max_in_flight: 3, ..Limits::default() });
		let now = Instant::now();
		let peers: Vec<PeerId> = (0..4).map(|_| PeerId::random()).collect();
		for peer in &peers[..3] {
			budgets.admit(*peer, RequestKind::Leaves, now).unwrap();
		}
		assert_eq!(
			budgets.admit(peers[3], RequestKind::Leaves, now),
			Err(OverBudget::Full(RequestKind::Leaves))
		);
		// Other kinds have room of their own.
		budgets.admit(peers[3], RequestKind::Get, now).unwrap();
		budgets.finish(&peers[0], RequestKind::Leaves);
		budgets.admit(peers[3], RequestKind::Leaves, now).unwrap();
	}

	#[test]
	fn a_peer_over_its_rate_is_refused_and_others_are_not() {
		let limits = Limits {
			rates: Rates { put: 10.0, get: 10.0, leaves: 1.0 },
			per_peer_in_flight: 1000,
			..Limits::default()
		};
		let mut budgets = Budgets::new(limits);
		let (greedy, polite) = (PeerId::random(), PeerId::random());
		let start = Instant::now();
		// The bucket holds two seconds' worth.
		for _ in 0..2 {
			budgets.admit(greedy, RequestKind::Leaves, start).unwrap();
		}
		assert_eq!(
			budgets.admit(greedy, RequestKind::Leaves, start),
			Err(OverBudget::Rate(RequestKind::Leaves))
		);
		// Other kinds and other peers have budgets of their own.
		budgets.admit(greedy, RequestKind::Get, start).unwrap();
		budgets.admit(polite, RequestKind::Leaves, start).unwrap();
		// The bucket refills with time.
		let later = start + Duration::from_millis(1100);
		budgets.admit(greedy, RequestKind::Leaves, later).unwrap();
		assert!(budgets.admit(greedy, RequestKind::Leaves, later).is_err());
	}

	#[test]
	fn requests_in_flight_are_capped_per_peer_and_released() {
		let mut budgets = Budgets::new(Limits { per_peer_in_flight: 2, ..Limits::default() });
		let peer = PeerId::random();
		let now = Instant::now();
		budgets.admit(peer, RequestKind::Get, now).unwrap();
		budgets.admit(peer, RequestKind::Get, now).unwrap();
		assert_eq!(budgets.admit(peer, RequestKind::Get, now), Err(OverBudget::InFlight(2)));
		budgets.finish(&peer, RequestKind::Get);
		budgets.admit(peer, RequestKind::Get, now).unwrap();
	}

	#[test]
	fn idle_peers_are_forgotten() {
		let mut budgets = Budgets::new(Limits::default());
		let now = Instant::now();
		for _ in 0..100 {
			let peer = PeerId::random();
			budgets.admit(peer, RequestKind::Get, now).unwrap();
			budgets.finish(&peer, RequestKind::Get);
		}
		assert_eq!(budgets.tracked(), 100);
		budgets.admit(PeerId::random(), RequestKind::Get, now + Duration::from_secs(61)).unwrap();
		assert_eq!(budgets.tracked(), 1);
	}
}
