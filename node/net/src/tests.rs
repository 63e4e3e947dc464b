use super::*;

/// Serves `Get` with a grant whose signature is all ones (a stand-in for the owner's), and
/// `Leaves` to anyone.
struct Echo;

const GRANTED: Grant = Grant { expires: 0, signature: [1; 64] };

fn get(len: u32) -> Request {
	Request::Get { contract: 1, shard: 0, offset: 0, len, grant: GRANTED }
}

impl RequestHandler for Echo {
	fn check(&self, _: PeerId, request: &Request) -> Result<Standing, Response> {
		match request {
			Request::Get { grant, .. } if *grant == GRANTED => Ok(Standing::Granted),
			Request::Leaves { .. } => Ok(Standing::Open),
			_ => Err(Response::Refused("no grant".into())),
		}
	}

	fn handle(&self, _: PeerId, request: Request) -> BoxFuture<'static, Response> {
		Box::pin(async move {
			match request {
				Request::Get { len, .. } => Response::Data(vec![7; len as usize]),
				Request::Leaves { .. } => Response::Leaves(Vec::new()),
				Request::Put { .. } | Request::Pieces { .. } => {
					Response::Refused("only Get and Leaves".into())
				}
			}
		})
	}
}

fn local() -> Config {
	Config::new("/ip4/127.0.0.1/tcp/0".parse().unwrap())
}

fn node(config: Config) -> Network {
	let (network, driver) = start(identity::Keypair::generate_ed25519(), config).unwrap();
	tokio::spawn(driver);
	network
}

#[tokio::test]
async fn two_nodes_exchange_full_chunks_over_loopback() {
	let server = node(local());
	let client = node(local());
	server.set_handler(Arc::new(Echo)).unwrap();
	let addresses = server.listening().await;
	assert_eq!(server.announced_addresses(), addresses, "a loopback listener announces itself");

	let response =
		client.request(server.peer_id(), addresses.clone(), get(CHUNK_BYTES as u32)).await.unwrap();
	assert_eq!(response, Response::Data(vec![7; CHUNK_BYTES as usize]));
	// A request its handler's check refuses is refused, with the reason.
	let forged = Request::Get {
		contract: 1,
		shard: 0,
		offset: 0,
		len: 8,
		grant: Grant { expires: 0, signature: [2; 64] },
	};
	let refused = client.request(server.peer_id(), addresses, forged).await.unwrap();
	assert_eq!(refused, Response::Refused("no grant".into()));

	// Nodes without a handler refuse, with a reason.
	let refused = server
		.request(
			client.peer_id(),
			client.listening().await,
			Request::Leaves { contract: 1, shard: 0, indices: vec![0] },
		)
		.await
		.unwrap();
	assert!(matches!(refused, Response::Refused(reason) if reason.contains("no shards")));
}

#[tokio::test]
async fn a_node_answers_peers_after_its_own_services_let_go_of_the_network() {
	let server = node(local());
	server.set_handler(Arc::new(Echo)).unwrap();
	let (peer, addresses) = (server.peer_id(), server.listening().await);
	drop(server);
	let client = node(local());
	assert_eq!(client.request(peer, addresses, get(8)).await.unwrap(), Response::Data(vec![7; 8]));
}

#[tokio::test]
async fn a_peer_over_its_budget_is_told_to_wait_and_others_are_served() {
	let mut config = local();
	config.limits.rates.leaves = 2.0;
	let server = node(config);
	server.set_handler(Arc::new(Echo)).unwrap();
	let addresses = server.listening().await;
	let (greedy, polite) = (node(local()), node(local()));
	let leaves = || Request::Leaves { contract: 1, shard: 0, indices: vec![0] };

	let mut busy = 0;
	for _ in 0..10 {
		match greedy.request(server.peer_id(), addresses.clone(), leaves()).await.unwrap() {
			Response::Busy(reason) => {
				assert!(reason.contains("rate limit"), "{reason}");
				busy += 1;
			}
			Response::Leaves(_) => {}
			other => panic!("unexpected {other:?}"),
		}
	}
	assert!(busy >= 5, "only {busy} of 10 quick Leaves requests over a rate of 2/s were refused");
	let served = polite.request(server.peer_id(), addresses.clone(), leaves()).await.unwrap();
	assert_eq!(served, Response::Leaves(Vec::new()));
	// Other kinds of request have budgets of their own.
	assert_eq!(
		greedy.request(server.peer_id(), addresses, get(8)).await.unwrap(),
		Response::Data(vec![7; 8])
	);
}

#[tokio::test]
async fn a_full_inbound_limit_never_stops_dialing_out() {
	let mut config = local();
	config.limits.max_inbound = 2;
	config.limits.max_pending_inbound = 2;
	let victim = node(config);
	victim.set_handler(Arc::new(Echo)).unwrap();
	let addresses = victim.listening().await;
	let get = || get(8);
	// Two granted peers take every inbound connection the victim allows; a third is turned
	// away (a stranger's connection would have made room).
	let crowd: Vec<Network> = (0..3).map(|_| node(local())).collect();
	let mut served = 0;
	for peer in &crowd {
		if victim_answers(peer, victim.peer_id(), addresses.clone(), get()).await {
			served += 1;
		}
	}
	assert_eq!(served, 2, "the inbound limit admits exactly two peers");
	// The victim still dials out to a provider of its own.
	let provider = node(local());
	provider.set_handler(Arc::new(Echo)).unwrap();
	let provider_addresses = provider.listening().await;
	let answer = victim.request(provider.peer_id(), provider_addresses, get()).await.unwrap();
	assert_eq!(answer, Response::Data(vec![7; 8]));
	drop(crowd);
}

#[tokio::test]
async fn strangers_filling_the_inbound_limit_never_lock_out_a_granted_peer() {
	let mut config = local();
	config.limits.max_inbound = 4;
	let victim = node(config);
	victim.set_handler(Arc::new(Echo)).unwrap();
	let addresses = victim.listening().await;
	let audit = || Request::Leaves { contract: 1, shard: 0, indices: vec![0] };
	let mut strangers = Vec::new();
	let mut crowd = |count: usize| {
		let new: Vec<Network> = (0..count).map(|_| node(local())).collect();
		strangers.extend(new.iter().cloned());
		new
	};
	// Strangers take every inbound connection...
	for stranger in crowd(4) {
		stranger.request(victim.peer_id(), addresses.clone(), audit()).await.unwrap();
	}
	// ...and a buyer with its grant still gets in, in place of the oldest of them.
	let buyer = node(local());
	assert!(victim_answers(&buyer, victim.peer_id(), addresses.clone(), get(8)).await);
	// More strangers come; each takes another stranger's place, never the buyer's.
	for stranger in crowd(8) {
		stranger.request(victim.peer_id(), addresses.clone(), audit()).await.unwrap();
	}
	assert!(buyer.is_connected(victim.peer_id()).await, "the buyer's connection was kept");
	assert!(victim_answers(&buyer, victim.peer_id(), addresses, get(8)).await);
}

async fn victim_answers(
	from: &Network,
	victim: PeerId,
	addresses: Vec<Multiaddr>,
	request: Request,
) -> bool {
	matches!(from.request(victim, addresses, request).await, Ok(Response::Data(_)))
}

/// Serves `Get` as [`Echo`] does, after a pause: its requests stay in flight a while.
struct Slow;

impl RequestHandler for Slow {
	fn check(&self, peer: PeerId, request: &Request) -> Result<Standing, Response> {
		Echo.check(peer, request)
	}

	fn handle(&self, peer: PeerId, request: Request) -> BoxFuture<'static, Response> {
		let answer = Echo.handle(peer, request);
		Box::pin(async move {
			tokio::time::sleep(std::time::Duration::from_millis(300)).await;
			answer.await
		})
	}
}

#[tokio::test]
async fn a_connection_full_of_requests_says_so_and_takes_more_once_they_are_answered() {
	let server = node(local());
	let client = node(local());
	server.set_handler(Arc::new(Slow)).unwrap();
	let addresses = server.listening().await;
	let ask = || client.request(server.peer_id(), addresses.clone(), get(8));
	// Connected first, so that the requests below share the connection.
	assert_eq!(ask().await.unwrap(), Response::Data(vec![7; 8]));
	// Three times what a connection takes at once (two connections at most): the rest are
	// refused at once as this node's own load, not as a failure of the peer.
	let streams = Limits::default().max_streams;
	let answers = futures::future::join_all((0..3 * streams).map(|_| ask())).await;
	let saturated = answers
		.iter()
		.filter(
			|answer| matches!(answer, Err(NetError::Saturated { peer }) if *peer == server.peer_id()),
		)
		.count();
	assert!(saturated >= streams, "{answers:?}");
	assert!(
		answers.iter().all(|answer| matches!(answer, Ok(_) | Err(NetError::Saturated { .. }))),
		"{answers:?}"
	);
	assert_eq!(ask().await.unwrap(), Response::Data(vec![7; 8]));
}

#[tokio::test]
async fn unreachable_peers_fail_with_a_transient_error() {
	let client = node(local());
	let nobody = PeerId::random();
	let error = client
		.request(nobody, vec!["/ip4/127.0.0.1/tcp/1".parse().unwrap()], get(1))
		.await
		.unwrap_err();
	assert!(matches!(error, NetError::Unreachable { peer, .. } if peer == nobody), "{error}");
	assert!(error.is_transient());
}

#[test]
fn network_keys_persist_and_are_private() {
	use std::os::unix::fs::PermissionsExt;
	let dir = std::env::temp_dir().join(format!("cairn-net-key-{}", std::process::id()));
	let path = dir.join("network_key");
	let first = load_or_create_key(&path).unwrap();
	let again = load_or_create_key(&path).unwrap();
	assert_eq!(first.public().to_peer_id(), again.public().to_peer_id());
	assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
	let _ = std::fs::remove_dir_all(dir);
}
