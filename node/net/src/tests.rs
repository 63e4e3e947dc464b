use super::*;

struct Echo;

impl RequestHandler for Echo {
	fn handle(&self, _: PeerId, request: Request) -> BoxFuture<'static, Response> {
		Box::pin(async move {
			match request {
				Request::Get { len, .. } => Response::Data(vec![7; len as usize]),
				Request::Leaves { .. } => Response::Leaves(Vec::new()),
				Request::Put { .. } => Response::Refused("only Get and Leaves".into()),
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

	let request = Request::Get { contract: 1, shard: 0, offset: 0, len: CHUNK_BYTES as u32 };
	let response = client.request(server.peer_id(), addresses, request).await.unwrap();
	assert_eq!(response, Response::Data(vec![7; CHUNK_BYTES as usize]));

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
	let get = Request::Get { contract: 1, shard: 0, offset: 0, len: 8 };
	assert_eq!(client.request(peer, addresses, get).await.unwrap(), Response::Data(vec![7; 8]));
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
	let get = Request::Get { contract: 1, shard: 0, offset: 0, len: 8 };
	assert_eq!(
		greedy.request(server.peer_id(), addresses, get).await.unwrap(),
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
	let get = || Request::Get { contract: 1, shard: 0, offset: 0, len: 8 };
	// Two peers take every inbound connection the victim allows; a third is turned away.
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

async fn victim_answers(
	from: &Network,
	victim: PeerId,
	addresses: Vec<Multiaddr>,
	request: Request,
) -> bool {
	matches!(from.request(victim, addresses, request).await, Ok(Response::Data(_)))
}

#[tokio::test]
async fn unreachable_peers_fail_with_a_transient_error() {
	let client = node(local());
	let nobody = PeerId::random();
	let error = client
		.request(
			nobody,
			vec!["/ip4/127.0.0.1/tcp/1".parse().unwrap()],
			Request::Get { contract: 0, shard: 0, offset: 0, len: 1 },
		)
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
