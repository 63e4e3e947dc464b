//! Which addresses a node announces (a provider writes them into its on-chain record).
//!
//! The addresses given with `--shard-public-addr` are announced as they are. Without them, the
//! address the node listens on is announced once its port is known — unless it listens on an
//! unspecified address (`0.0.0.0`, `::`): then only the expansions to globally routable
//! addresses are announced, never loopback or private ones that others cannot reach and that
//! would tell the world about the host's internal networks.

use std::net::IpAddr;

use libp2p::{multiaddr::Protocol, Multiaddr, PeerId};

/// Decides the announced addresses as listen addresses appear.
pub struct Announcer {
	listen: Multiaddr,
	public: Vec<Multiaddr>,
	peer_id: PeerId,
	announced: Vec<Multiaddr>,
}

fn ip_of(address: &Multiaddr) -> Option<IpAddr> {
	address.iter().find_map(|protocol| match protocol {
		Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
		Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
		_ => None,
	})
}

/// Whether others on the Internet can reach `ip`: not loopback, private, shared, link-local,
/// multicast, reserved, benchmarking, documentation or unspecified (IPv4-mapped IPv6 addresses
/// are judged as the IPv4 address they carry).
pub fn is_global(ip: IpAddr) -> bool {
	match ip {
		IpAddr::V4(ip) => {
			let [a, b, c, _] = ip.octets();
			!(a == 0
				|| ip.is_loopback()
				|| ip.is_private()
				|| ip.is_link_local()
				|| ip.is_multicast()
				|| ip.is_broadcast()
				|| ip.is_documentation()
				|| a >= 240 || (a == 100 && (64..128).contains(&b))
				|| (a == 192 && b == 0 && c == 0)
				|| (a == 198 && (18..20).contains(&b)))
		}
		IpAddr::V6(ip) => {
			if let Some(v4) = ip.to_ipv4_mapped() {
				return is_global(IpAddr::V4(v4));
			}
			let [first, second, ..] = ip.segments();
			!(ip.is_loopback()
				|| ip.is_unspecified()
				|| ip.is_multicast()
				|| (first & 0xfe00) == 0xfc00
				|| (first & 0xffc0) == 0xfe80
				|| (first == 0x2001 && second == 0x0db8))
		}
	}
}

impl Announcer {
	/// For a node listening on `listen` with the public addresses `public` (maybe none).
	pub fn new(listen: Multiaddr, public: Vec<Multiaddr>, peer_id: PeerId) -> Self {
		let public: Vec<Multiaddr> = public
			.into_iter()
			.map(|address| address.with_p2p(peer_id).unwrap_or_else(|address| address))
			.collect();
		Self { listen, announced: public.clone(), public, peer_id }
	}

	/// The swarm listens on `address` now: the addresses to announce.
	pub fn on_listen(&mut self, address: Multiaddr) -> Vec<Multiaddr> {
		if !self.public.is_empty() {
			return self.public.clone();
		}
		let wildcard = ip_of(&self.listen).is_some_and(|ip| ip.is_unspecified());
		let usable = match ip_of(&address) {
			Some(ip) if wildcard => is_global(ip),
			Some(ip) => !ip.is_unspecified(),
			None => false,
		};
		if usable {
			let address = address.with_p2p(self.peer_id).unwrap_or_else(|address| address);
			if !self.announced.contains(&address) {
				self.announced.push(address);
			}
		} else if wildcard && self.announced.is_empty() {
			log::warn!(
				target: "cairn-net",
				"listening on {} and no globally routable address among {address}: set \
				 --shard-public-addr so that buyers can reach this node",
				self.listen
			);
		}
		self.announced.clone()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn addr(text: &str) -> Multiaddr {
		text.parse().unwrap()
	}

	#[test]
	fn a_specific_listen_address_is_announced_with_its_port() {
		let peer = PeerId::random();
		let mut announcer = Announcer::new(addr("/ip4/127.0.0.1/tcp/0"), vec![], peer);
		let announced = announcer.on_listen(addr("/ip4/127.0.0.1/tcp/4001"));
		assert_eq!(announced, vec![addr(&format!("/ip4/127.0.0.1/tcp/4001/p2p/{peer}"))]);
	}

	#[test]
	fn wildcard_expansions_announce_only_global_addresses() {
		let peer = PeerId::random();
		let mut announcer = Announcer::new(addr("/ip4/0.0.0.0/tcp/4001"), vec![], peer);
		for private in ["127.0.0.1", "10.1.2.3", "172.17.0.1", "192.168.1.9", "100.64.0.1"] {
			assert!(announcer.on_listen(addr(&format!("/ip4/{private}/tcp/4001"))).is_empty());
		}
		let announced = announcer.on_listen(addr("/ip4/203.0.114.7/tcp/4001"));
		assert_eq!(announced, vec![addr(&format!("/ip4/203.0.114.7/tcp/4001/p2p/{peer}"))]);
	}

	#[test]
	fn public_addresses_are_announced_as_given() {
		let peer = PeerId::random();
		let public = addr("/dns4/provider.example/tcp/30433");
		let mut announcer = Announcer::new(addr("/ip4/0.0.0.0/tcp/4001"), vec![public], peer);
		let expected = vec![addr(&format!("/dns4/provider.example/tcp/30433/p2p/{peer}"))];
		assert_eq!(announcer.on_listen(addr("/ip4/10.0.0.2/tcp/4001")), expected);
		assert_eq!(announcer.on_listen(addr("/ip4/127.0.0.1/tcp/4001")), expected);
	}

	#[test]
	fn global_means_reachable_from_anywhere() {
		for local in [
			"127.0.0.1",
			"10.0.0.1",
			"169.254.1.1",
			"0.0.0.0",
			"0.1.2.3",
			"224.0.0.1",
			"240.0.0.1",
			"198.18.0.1",
			"192.0.0.8",
			"::1",
			"fd00::1",
			"fe80::1",
			"ff02::1",
			"::ffff:10.0.0.1",
		] {
			assert!(!is_global(local.parse().unwrap()), "{local}");
		}
		for global in ["8.8.8.8", "203.0.114.7", "2a00:1450::1"] {
			assert!(is_global(global.parse().unwrap()), "{global}");
		}
	}
}
