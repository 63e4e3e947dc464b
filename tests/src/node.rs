//! Starting and stopping `cairn-node` processes.

use std::{
	io::{BufRead, BufReader, Write},
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::{
		atomic::{AtomicU32, Ordering},
		Arc, Mutex,
	},
	time::Duration,
};

use anyhow::{bail, Context};
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use tokio::sync::watch;

/// The `cairn-node` binary under test: `$CAIRN_NODE` if set, else the one next to this test's
/// build directory (`target/<profile>/cairn-node`).
pub fn node_binary() -> anyhow::Result<PathBuf> {
	if let Some(path) = std::env::var_os("CAIRN_NODE") {
		return Ok(PathBuf::from(path));
	}
	let exe = std::env::current_exe()?;
	// target/<profile>/deps/<test binary>
	let profile_dir = exe
		.parent()
		.and_then(Path::parent)
		.context("the test binary is not inside a cargo target directory")?;
	let binary = profile_dir.join("cairn-node");
	if !binary.exists() {
		bail!(
			"{} does not exist: build it first (cargo build --release -p cairn-node)",
			binary.display()
		);
	}
	Ok(binary)
}

/// Runs `cairn-node` with `args`; its standard output, or an error with its standard error.
pub fn cli(args: &[&str]) -> anyhow::Result<String> {
	let output = std::process::Command::new(node_binary()?).args(args).output()?;
	anyhow::ensure!(
		output.status.success(),
		"cairn-node {args:?} failed: {}",
		String::from_utf8_lossy(&output.stderr)
	);
	Ok(String::from_utf8(output.stdout)?)
}

/// Runs `cairn-node` with `args` and `input` on its standard input, for at most `limit`; its
/// standard output as bytes, or an error with its standard error.
pub async fn cli_with_input(
	args: &[&str],
	input: &[u8],
	limit: Duration,
) -> anyhow::Result<Vec<u8>> {
	use tokio::io::AsyncWriteExt;
	let mut child = tokio::process::Command::new(node_binary()?)
		.args(args)
		.stdin(Stdio::piped())
		.stdout(Stdio::piped())
		.stderr(Stdio::piped())
		.kill_on_drop(true)
		.spawn()?;
	let mut stdin = child.stdin.take().context("the command's standard input")?;
	let input = input.to_vec();
	// A command that fails before reading it all closes its end: its error says why.
	let writer = tokio::spawn(async move {
		let _ = stdin.write_all(&input).await;
	});
	let output = tokio::time::timeout(limit, child.wait_with_output())
		.await
		.with_context(|| format!("cairn-node {args:?} ran past {limit:?}"))??;
	writer.abort();
	anyhow::ensure!(
		output.status.success(),
		"cairn-node {args:?} failed: {}",
		String::from_utf8_lossy(&output.stderr)
	);
	Ok(output.stdout)
}

/// A port on 127.0.0.1 that was free a moment ago and that no other call in this process has
/// returned.
///
/// Ports come from below the kernel's ephemeral range (32768 and up by default), so no outgoing
/// connection and no bind to port 0 takes one between this call and the node's bind. Each is
/// handed out once: libp2p listens with `SO_REUSEPORT`, so two nodes given the same port would
/// both bind it and the kernel would split the connections between them — a dial then reaches
/// the wrong peer ("Unexpected peer ID") instead of failing loudly.
pub fn free_port() -> anyhow::Result<u16> {
	const FIRST: u32 = 20_000;
	const COUNT: u32 = 12_000;
	static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
	// Test binaries of one run start from different places, so they rarely try the same ports.
	let start = std::process::id().wrapping_mul(7_919) % COUNT;
	let _ = NEXT.compare_exchange(u32::MAX, start, Ordering::Relaxed, Ordering::Relaxed);
	for _ in 0..COUNT {
		let offset = NEXT.fetch_add(1, Ordering::Relaxed) % COUNT;
		let port = u16::try_from(FIRST + offset).expect("below 32,000");
		if TcpListener::bind(("127.0.0.1", port)).is_ok() {
			return Ok(port);
		}
	}
	bail!("no free port on 127.0.0.1 between {FIRST} and {}", FIRST + COUNT)
}

/// How to start one node.
#[derive(Clone, Debug)]
pub struct NodeConfig {
	/// `--chain`: `dev`, `local` or a path.
	pub chain: String,
	/// `--base-path`.
	pub base_path: PathBuf,
	/// A well-known development identity (`alice`, `bob`, …), which also makes it a validator.
	pub identity: Option<String>,
	/// The JSON-RPC port on 127.0.0.1.
	pub rpc_port: u16,
	/// The p2p port on 127.0.0.1.
	pub p2p_port: u16,
	/// The client API's port on 127.0.0.1.
	pub api_port: u16,
	/// The Prometheus endpoint's port on 127.0.0.1.
	pub prometheus_port: u16,
	/// The shard network's port on 127.0.0.1, kept across restarts as a provider's address is
	/// (the chain lists it).
	pub shard_port: u16,
	/// Multiaddresses of bootnodes.
	pub bootnodes: Vec<String>,
	/// The libp2p identity key (hex), fixed so a restarted node keeps its peer id.
	pub node_key: String,
	/// Any further arguments.
	pub extra_args: Vec<String>,
}

impl NodeConfig {
	/// A single-validator development chain (Alice) in `base_path`.
	pub fn dev(base_path: &Path) -> Self {
		Self::new("dev", base_path, Some("alice"))
	}

	/// A node of chain `chain` with free ports.
	pub fn new(chain: &str, base_path: &Path, identity: Option<&str>) -> Self {
		Self {
			chain: chain.into(),
			base_path: base_path.into(),
			identity: identity.map(Into::into),
			rpc_port: free_port().expect("127.0.0.1 has a free port"),
			p2p_port: free_port().expect("127.0.0.1 has a free port"),
			api_port: free_port().expect("127.0.0.1 has a free port"),
			prometheus_port: free_port().expect("127.0.0.1 has a free port"),
			shard_port: free_port().expect("127.0.0.1 has a free port"),
			bootnodes: Vec::new(),
			node_key: hex::encode(sp_crypto_hashing::blake2_256(
				base_path.display().to_string().as_bytes(),
			)),
			extra_args: Vec::new(),
		}
	}

	fn args(&self) -> Vec<String> {
		let mut args = vec![
			"--chain".into(),
			self.chain.clone(),
			"--base-path".into(),
			self.base_path.display().to_string(),
			"--rpc-port".into(),
			self.rpc_port.to_string(),
			"--listen-addr".into(),
			format!("/ip4/127.0.0.1/tcp/{}", self.p2p_port),
			"--prometheus-port".into(),
			self.prometheus_port.to_string(),
			"--no-telemetry".into(),
			"--no-mdns".into(),
			"--api-addr".into(),
			format!("127.0.0.1:{}", self.api_port),
			"--node-key".into(),
			self.node_key.clone(),
			"--shard-listen".into(),
			format!("/ip4/127.0.0.1/tcp/{}", self.shard_port),
		];
		if let Some(identity) = &self.identity {
			args.push(format!("--{identity}"));
		}
		for bootnode in &self.bootnodes {
			args.push("--bootnodes".into());
			args.push(bootnode.clone());
		}
		args.extend(self.extra_args.iter().cloned());
		args
	}
}

/// A running `cairn-node` process. Dropping it stops the process.
pub struct Node {
	/// How it was started.
	pub config: NodeConfig,
	child: Option<Child>,
	/// Every log line the node printed so far.
	log: Arc<Mutex<Vec<String>>>,
	/// Bumped for every new log line, so waiters can react to output instead of polling.
	log_events: watch::Receiver<usize>,
}

impl Node {
	/// Starts the node; its output is collected (and echoed with its name when `CAIRN_TEST_LOG`
	/// is set).
	pub fn start(config: NodeConfig) -> anyhow::Result<Self> {
		let binary = node_binary()?;
		let mut child = Command::new(&binary)
			.args(config.args())
			.env("RUST_LOG", std::env::var("CAIRN_NODE_LOG").unwrap_or_else(|_| "info".into()))
			.stdin(Stdio::null())
			.stdout(Stdio::null())
			.stderr(Stdio::piped())
			.spawn()
			.with_context(|| format!("starting {}", binary.display()))?;
		let stderr = child.stderr.take().context("stderr is piped")?;
		let log = Arc::new(Mutex::new(Vec::new()));
		let (events_tx, log_events) = watch::channel(0usize);
		let name = config.identity.clone().unwrap_or_else(|| "node".into());
		let echo = std::env::var_os("CAIRN_TEST_LOG").is_some();
		let sink = log.clone();
		std::thread::spawn(move || {
			for line in BufReader::new(stderr).lines().map_while(Result::ok) {
				if echo {
					let _ = writeln!(std::io::stderr(), "[{name}] {line}");
				}
				let count = {
					let mut lines = sink.lock().expect("log lock is never poisoned");
					lines.push(line);
					lines.len()
				};
				let _ = events_tx.send(count);
			}
		});
		Ok(Self { config, child: Some(child), log, log_events })
	}

	/// The node's OS process id.
	pub fn pid(&self) -> Option<u32> {
		self.child.as_ref().map(Child::id)
	}

	/// The WebSocket JSON-RPC address.
	pub fn rpc_url(&self) -> String {
		format!("ws://127.0.0.1:{}", self.config.rpc_port)
	}

	/// The node's Prometheus metrics now.
	pub async fn metrics(&self) -> anyhow::Result<crate::metrics::Metrics> {
		crate::metrics::Metrics::scrape(self.config.prometheus_port).await
	}

	/// The client API's WebSocket address.
	pub fn api_url(&self) -> String {
		format!("ws://127.0.0.1:{}", self.config.api_port)
	}

	/// The client API's token, from the file the node names in its log at start.
	pub async fn api_token(&self) -> anyhow::Result<String> {
		let line = self.wait_for_log("Cairn client API on", Duration::from_secs(120)).await?;
		let path = line
			.split("(token in ")
			.nth(1)
			.and_then(|rest| rest.trim_end().strip_suffix(')'))
			.with_context(|| format!("no token file in {line:?}"))?;
		Ok(std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?.trim().into())
	}

	/// The S3 gateway's URL and secret key, from the line the node logs at start (it serves one
	/// when started with `--s3-addr`).
	pub async fn s3_gateway(&self) -> anyhow::Result<(String, String)> {
		let line = self.wait_for_log("Cairn S3 gateway on", Duration::from_secs(120)).await?;
		let rest = line.split("Cairn S3 gateway on ").nth(1).context("the gateway's line")?;
		let url = rest.split_whitespace().next().context("the gateway's URL")?;
		let path = rest
			.split("secret key in ")
			.nth(1)
			.and_then(|rest| rest.trim_end().strip_suffix(')'))
			.with_context(|| format!("no secret file in {line:?}"))?;
		let secret = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
		Ok((url.to_string(), secret.trim().to_string()))
	}

	/// A client of the node's client API with `headers` (`Authorization`, `Origin`, …).
	pub async fn api_with(&self, headers: &[(&'static str, String)]) -> anyhow::Result<WsClient> {
		let mut map = jsonrpsee::ws_client::HeaderMap::new();
		for (name, value) in headers {
			map.insert(*name, value.parse().context("a header value")?);
		}
		WsClientBuilder::default()
			.request_timeout(Duration::from_secs(600))
			.set_headers(map)
			.build(self.api_url())
			.await
			.with_context(|| format!("connecting to {}", self.api_url()))
	}

	/// A client of the node's client API, with its token.
	pub async fn api(&self) -> anyhow::Result<WsClient> {
		let token = self.api_token().await?;
		self.api_with(&[("authorization", format!("Bearer {token}"))]).await
	}

	/// The last `n` log lines, for failure messages.
	pub fn log_tail(&self, n: usize) -> String {
		let lines = self.log.lock().expect("log lock is never poisoned");
		lines[lines.len().saturating_sub(n)..].join("\n")
	}

	/// The last `n` log lines of each node, under its RPC address, for failure messages.
	pub fn log_tails<'a>(nodes: impl IntoIterator<Item = &'a Node>, n: usize) -> String {
		let tails: Vec<String> = nodes
			.into_iter()
			.map(|node| format!("{}:\n{}", node.rpc_url(), node.log_tail(n)))
			.collect();
		tails.join("\n")
	}

	/// Every log line that contains `needle`.
	pub fn log_lines(&self, needle: &str) -> Vec<String> {
		let lines = self.log.lock().expect("log lock is never poisoned");
		lines.iter().filter(|line| line.contains(needle)).cloned().collect()
	}

	/// Waits until a log line contains `needle`.
	pub async fn wait_for_log(&self, needle: &str, limit: Duration) -> anyhow::Result<String> {
		let mut events = self.log_events.clone();
		let mut seen = 0;
		let search = async {
			loop {
				{
					let lines = self.log.lock().expect("log lock is never poisoned");
					if let Some(line) = lines[seen..].iter().find(|l| l.contains(needle)) {
						return Ok(line.clone());
					}
					seen = lines.len();
				}
				if events.changed().await.is_err() {
					bail!(
						"the node exited before logging {needle:?}; last lines:\n{}",
						self.log_tail(30)
					);
				}
			}
		};
		match tokio::time::timeout(limit, search).await {
			Ok(found) => found,
			Err(_) => bail!(
				"no log line with {needle:?} within {limit:?}; last lines:\n{}",
				self.log_tail(30)
			),
		}
	}

	/// Waits until the JSON-RPC server is up.
	pub async fn wait_ready(&self) -> anyhow::Result<()> {
		self.wait_for_log("Running JSON-RPC server", Duration::from_secs(120)).await.map(|_| ())
	}

	/// A fresh WebSocket client to the node.
	pub async fn rpc(&self) -> anyhow::Result<WsClient> {
		WsClientBuilder::default()
			.request_timeout(Duration::from_secs(60))
			.build(self.rpc_url())
			.await
			.with_context(|| format!("connecting to {}", self.rpc_url()))
	}

	/// This node's p2p address with its peer id, for other nodes' `--bootnodes`.
	pub async fn multiaddr(&self) -> anyhow::Result<String> {
		let rpc = self.rpc().await?;
		let peer_id = crate::rpc::local_peer_id(&rpc).await?;
		Ok(format!("/ip4/127.0.0.1/tcp/{}/p2p/{peer_id}", self.config.p2p_port))
	}

	/// Kills the node with SIGKILL, as a crash or a power cut would, and waits until it is gone.
	pub fn kill(&mut self) -> anyhow::Result<()> {
		let Some(mut child) = self.child.take() else { return Ok(()) };
		child.kill().context("SIGKILL")?;
		child.wait().context("reaping the killed node")?;
		Ok(())
	}

	/// Waits up to `limit` for the node to exit on its own, and returns how it exited.
	pub fn wait_exit(&mut self, limit: Duration) -> anyhow::Result<std::process::ExitStatus> {
		let Some(mut child) = self.child.take() else { anyhow::bail!("the node was stopped") };
		let (exited_tx, exited_rx) = std::sync::mpsc::channel();
		let pid = child.id();
		std::thread::spawn(move || {
			let _ = exited_tx.send(child.wait());
		});
		match exited_rx.recv_timeout(limit) {
			Ok(status) => Ok(status?),
			Err(_) => {
				let pid = libc::pid_t::try_from(pid).context("pid fits pid_t")?;
				// SAFETY: our own child, not reaped yet: the waiting thread reaps it now.
				unsafe { libc::kill(pid, libc::SIGKILL) };
				anyhow::bail!("the node was still running after {limit:?}")
			}
		}
	}

	/// Stops the node with SIGTERM and waits for it to exit (SIGKILL after `grace`).
	/// Returns whether it exited on its own within the grace period.
	pub fn stop(&mut self, grace: Duration) -> anyhow::Result<bool> {
		let Some(mut child) = self.child.take() else { return Ok(true) };
		let pid = libc::pid_t::try_from(child.id()).context("pid fits pid_t")?;
		// SAFETY: `pid` is our own child, which has not been reaped yet (we hold `child`).
		unsafe { libc::kill(pid, libc::SIGTERM) };
		let (exited_tx, exited_rx) = std::sync::mpsc::channel();
		std::thread::spawn(move || {
			let _ = exited_tx.send(child.wait());
		});
		match exited_rx.recv_timeout(grace) {
			Ok(status) => {
				status?;
				Ok(true)
			}
			Err(_) => {
				// SAFETY: as above; the waiting thread reaps it once it dies.
				unsafe { libc::kill(pid, libc::SIGKILL) };
				exited_rx.recv().context("the waiting thread reports the exit")??;
				Ok(false)
			}
		}
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		let _ = self.stop(Duration::from_secs(20));
	}
}
