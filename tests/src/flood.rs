//! A flood on one provider's shard network, as a stranger with many peer ids would send it:
//!
//! - **connections**: many identities each hold a connection (ten times the provider's inbound
//!   limit between them), and dial again a second after the provider closes one;
//! - **hanging streams**: on each connection, requests that send a length prefix announcing the
//!   largest message and then nothing, opened again as soon as the provider drops them;
//! - **reads**: identities that send audits (`Leaves` of a real shard, which anyone may ask) and
//!   reads with forged grants, each at a fixed rate.
//!
//! The attacker runs on this machine, but on its own threads at the lowest CPU priority, so that
//! what the flood costs the provider is measured, not what it costs to send it. Everything
//! stops when the [`Flood`] is dropped.

use std::{
	io,
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc,
	},
	time::Duration,
};

use cairn_net::{
	identity,
	libp2p::{
		self,
		request_response::{self, ProtocolSupport},
		swarm::{dial_opts::DialOpts, SwarmEvent},
		StreamProtocol,
	},
	protocol::SHARD_PROTOCOL,
	Config, Grant, Request, Response, MAX_LEAVES, MAX_MESSAGE_BYTES,
};
use futures::{AsyncRead, AsyncWrite, AsyncWriteExt, StreamExt};

use crate::stranger::Target;

/// How hard to flood.
#[derive(Clone, Debug)]
pub struct Plan {
	/// Identities that hold a connection each.
	pub connections: usize,
	/// Hanging requests each of them keeps open.
	pub hanging_per_connection: usize,
	/// Identities that send audits and forged reads.
	pub readers: usize,
	/// Requests each reader sends per second.
	pub reads_per_second: u32,
}

/// What the flood did so far.
#[derive(Debug, Default)]
pub struct Tally {
	/// Connections the provider accepted.
	pub connected: AtomicU64,
	/// Of those, closed by the provider (to make room, idle, or failed).
	pub closed: AtomicU64,
	/// Dials the provider turned away.
	pub refused_dials: AtomicU64,
	/// Hanging requests opened.
	pub hanging: AtomicU64,
	/// Reads and audits sent.
	pub reads: AtomicU64,
	/// Audits answered with leaves.
	pub audits_served: AtomicU64,
	/// Reads and audits refused (no grant) or over budget.
	pub refused: AtomicU64,
	/// Reads and audits that got no response.
	pub failed: AtomicU64,
}

impl Tally {
	fn bump(counter: &AtomicU64) {
		counter.fetch_add(1, Ordering::Relaxed);
	}

	/// A counter's value.
	pub fn get(counter: &AtomicU64) -> u64 {
		counter.load(Ordering::Relaxed)
	}

	/// One line for the log.
	pub fn summary(&self) -> String {
		format!(
			"{} connections made ({} closed by the provider, {} dials refused), {} hanging \
			 streams, {} reads and audits sent ({} audits served, {} refused or told to wait, {} \
			 unanswered)",
			Self::get(&self.connected),
			Self::get(&self.closed),
			Self::get(&self.refused_dials),
			Self::get(&self.hanging),
			Self::get(&self.reads),
			Self::get(&self.audits_served),
			Self::get(&self.refused),
			Self::get(&self.failed),
		)
	}
}

/// A running flood.
pub struct Flood {
	/// What it did so far.
	pub tally: Arc<Tally>,
	/// The attacker's threads; dropping it ends every task of the flood.
	runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Flood {
	fn drop(&mut self) {
		if let Some(runtime) = self.runtime.take() {
			runtime.shutdown_background();
		}
	}
}

impl Flood {
	/// Starts flooding `target`'s provider per `plan`.
	pub fn start(target: &Target, plan: &Plan) -> anyhow::Result<Self> {
		let runtime = tokio::runtime::Builder::new_multi_thread()
			.worker_threads(2)
			.thread_name("flood")
			// Linux gives each thread its own nice value: the attacker's threads yield to
			// everything else on this machine.
			// SAFETY: setpriority on the calling thread (who = 0) has no memory effects.
			.on_thread_start(|| unsafe {
				libc::setpriority(libc::PRIO_PROCESS, 0, 19);
			})
			.enable_all()
			.build()?;
		let tally = Arc::new(Tally::default());
		for _ in 0..plan.connections {
			let (target, tally) = (target.clone(), tally.clone());
			let hanging = plan.hanging_per_connection;
			runtime.spawn(async move {
				if let Err(error) = hold_connection(target, hanging, tally).await {
					eprintln!("flood: a connection task ended: {error}");
				}
			});
		}
		for _ in 0..plan.readers {
			let (target, tally) = (target.clone(), tally.clone());
			let rate = plan.reads_per_second.max(1);
			runtime.spawn(async move {
				if let Err(error) = read_at_rate(target, rate, tally).await {
					eprintln!("flood: a reader ended: {error}");
				}
			});
		}
		Ok(Self { tally, runtime: Some(runtime) })
	}
}

/// One identity: holds a connection to the provider with `hanging` requests that never finish
/// sending, and dials again a second after the provider closes it.
async fn hold_connection(target: Target, hanging: usize, tally: Arc<Tally>) -> anyhow::Result<()> {
	let request_timeout = cairn_net::Limits::default().request_timeout + Duration::from_secs(5);
	let mut swarm =
		libp2p::SwarmBuilder::with_existing_identity(identity::Keypair::generate_ed25519())
			.with_tokio()
			.with_tcp(
				libp2p::tcp::Config::default().nodelay(true),
				libp2p::noise::Config::new,
				libp2p::yamux::Config::default,
			)?
			.with_behaviour(|_| {
				request_response::Behaviour::with_codec(
					Hanging,
					[(SHARD_PROTOCOL, ProtocolSupport::Outbound)],
					request_response::Config::default()
						.with_request_timeout(request_timeout)
						.with_max_concurrent_streams(hanging.max(1)),
				)
			})?
			.with_swarm_config(|config| {
				config.with_idle_connection_timeout(Duration::from_secs(3600))
			})
			.build();
	let dial = || DialOpts::peer_id(target.peer).addresses(target.addresses.clone()).build();
	swarm.dial(dial())?;
	loop {
		match swarm.select_next_some().await {
			SwarmEvent::ConnectionEstablished { .. } => {
				Tally::bump(&tally.connected);
				for _ in 0..hanging {
					swarm.behaviour_mut().send_request(&target.peer, ());
					Tally::bump(&tally.hanging);
				}
			}
			SwarmEvent::ConnectionClosed { num_established: 0, .. } => {
				Tally::bump(&tally.closed);
				tokio::time::sleep(Duration::from_secs(1)).await;
				swarm.dial(dial())?;
			}
			SwarmEvent::OutgoingConnectionError { .. } => {
				Tally::bump(&tally.refused_dials);
				tokio::time::sleep(Duration::from_secs(1)).await;
				swarm.dial(dial())?;
			}
			SwarmEvent::Behaviour(request_response::Event::OutboundFailure { .. })
				if swarm.is_connected(&target.peer) =>
			{
				// The provider dropped a hanging stream: open another.
				swarm.behaviour_mut().send_request(&target.peer, ());
				Tally::bump(&tally.hanging);
			}
			_ => {}
		}
	}
}

/// One identity: sends an audit of `target` and a read with a forged grant, in turn, `rate`
/// times a second, never waiting for the answers.
async fn read_at_rate(target: Target, rate: u32, tally: Arc<Tally>) -> anyhow::Result<()> {
	let config = Config::new("/ip4/127.0.0.1/tcp/0".parse()?);
	let (network, driver) = cairn_net::start(identity::Keypair::generate_ed25519(), config)
		.map_err(|e| anyhow::anyhow!("{e}"))?;
	tokio::spawn(driver);
	let mut ticks = tokio::time::interval(Duration::from_secs(1) / rate);
	for round in 0u64.. {
		ticks.tick().await;
		let request = if round % 2 == 0 {
			let first = (round * 7) % 1024;
			Request::Leaves {
				contract: target.contract,
				shard: target.index,
				indices: (first..first + MAX_LEAVES as u64).collect(),
			}
		} else {
			Request::Get {
				contract: target.contract,
				shard: target.index,
				offset: 0,
				len: cairn_net::CHUNK_BYTES as u32,
				grant: Grant { expires: u32::MAX, signature: [9; 64] },
			}
		};
		Tally::bump(&tally.reads);
		let (network, target, tally) = (network.clone(), target.clone(), tally.clone());
		tokio::spawn(async move {
			match network.request(target.peer, target.addresses.clone(), request).await {
				Ok(Response::Leaves(_)) => Tally::bump(&tally.audits_served),
				Ok(Response::Refused(_) | Response::Busy(_)) => Tally::bump(&tally.refused),
				Ok(other) => eprintln!("flood: a stranger was answered {other:?}"),
				Err(_) => Tally::bump(&tally.failed),
			}
		});
	}
	Ok(())
}

/// Sends a length prefix announcing the largest message, then nothing, ever.
#[derive(Clone, Default)]
struct Hanging;

#[async_trait::async_trait]
impl request_response::Codec for Hanging {
	type Protocol = StreamProtocol;
	type Request = ();
	type Response = ();

	async fn read_request<T>(&mut self, _: &StreamProtocol, _: &mut T) -> io::Result<()>
	where
		T: AsyncRead + Unpin + Send,
	{
		Ok(())
	}

	async fn read_response<T>(&mut self, _: &StreamProtocol, _: &mut T) -> io::Result<()>
	where
		T: AsyncRead + Unpin + Send,
	{
		Ok(())
	}

	async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, _: ()) -> io::Result<()>
	where
		T: AsyncWrite + Unpin + Send,
	{
		io.write_all(&(MAX_MESSAGE_BYTES as u32).to_le_bytes()).await?;
		io.flush().await?;
		std::future::pending().await
	}

	async fn write_response<T>(&mut self, _: &StreamProtocol, _: &mut T, _: ()) -> io::Result<()>
	where
		T: AsyncWrite + Unpin + Send,
	{
		Ok(())
	}
}

/// The resident memory of process `pid`, in bytes.
pub fn resident_bytes(pid: u32) -> anyhow::Result<u64> {
	let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
	let kib = status
		.lines()
		.find_map(|line| line.strip_prefix("VmRSS:"))
		.and_then(|value| value.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
		.ok_or_else(|| anyhow::anyhow!("no VmRSS for process {pid}"))?;
	Ok(kib * 1024)
}

/// Runs `work` (an honest client's transfer) on a runtime of its own whose threads run ahead of
/// the nodes (nice −5, where the user may raise priorities; the default elsewhere). The honest
/// client stands for the owner's machine, which here shares two cores with the provider and
/// eight other nodes: a flood that makes the provider busier would otherwise be measured as
/// much by what it takes from the client's share of the CPU as by the provider's service.
pub async fn on_client_cores<W, F, T>(work: W) -> anyhow::Result<T>
where
	W: FnOnce() -> F + Send + 'static,
	F: std::future::Future<Output = anyhow::Result<T>>,
	T: Send + 'static,
{
	// SAFETY (each call): setpriority on the calling thread (who = 0) has no memory effects.
	let raise = || unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, -5) };
	tokio::task::spawn_blocking(move || {
		let runtime = tokio::runtime::Builder::new_multi_thread()
			.worker_threads(2)
			.thread_name("client")
			.on_thread_start(move || {
				raise();
			})
			.enable_all()
			.build()?;
		// The work itself runs on this (pooled) thread: ahead too, and back after.
		raise();
		let done = runtime.block_on(work());
		drop(runtime);
		// SAFETY: as above.
		unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 0) };
		done
	})
	.await?
}

/// The CPU time process `pid` has used so far (user and system), in seconds.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
	let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
	// Fields after the command name (which may hold spaces), from the third on: utime is the
	// 14th field of the line, stime the 15th.
	let rest = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
	let fields: Vec<&str> = rest.split_whitespace().collect();
	let ticks = |index: usize| -> anyhow::Result<f64> {
		Ok(fields.get(index).ok_or_else(|| anyhow::anyhow!("short /proc/{pid}/stat"))?.parse()?)
	};
	// SAFETY: sysconf has no memory effects.
	let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
	Ok((ticks(11)? + ticks(12)?) / per_second)
}

/// The largest resident memory of process `pid` seen while it runs, sampled every 200 ms.
pub struct PeakMemory {
	peak: Arc<AtomicU64>,
	task: tokio::task::JoinHandle<()>,
}

impl PeakMemory {
	/// Starts sampling.
	pub fn watch(pid: u32) -> Self {
		let peak = Arc::new(AtomicU64::new(resident_bytes(pid).unwrap_or(0)));
		let seen = peak.clone();
		let task = tokio::spawn(async move {
			let mut ticks = tokio::time::interval(Duration::from_millis(200));
			loop {
				ticks.tick().await;
				if let Ok(bytes) = resident_bytes(pid) {
					seen.fetch_max(bytes, Ordering::Relaxed);
				}
			}
		});
		Self { peak, task }
	}

	/// The peak so far.
	pub fn peak(&self) -> u64 {
		self.peak.load(Ordering::Relaxed)
	}
}

impl Drop for PeakMemory {
	fn drop(&mut self) {
		self.task.abort();
	}
}

/// Reads `target` whole, again and again, for `duration`, as its owner's node does (four
/// pieces in flight, each with the owner's grant `grant` for `reader`): bytes per second.
pub async fn read_throughput(
	reader: &cairn_net::Network,
	target: &Target,
	grant: &Grant,
	duration: Duration,
) -> anyhow::Result<f64> {
	use futures::stream;
	let started = tokio::time::Instant::now();
	let mut bytes = 0u64;
	while started.elapsed() < duration {
		let offsets = (0..target.bytes).step_by(cairn_net::CHUNK_BYTES as usize);
		let mut pieces = stream::iter(offsets)
			.map(|offset| {
				let len = cairn_net::CHUNK_BYTES.min(target.bytes - offset) as u32;
				let request = Request::Get {
					contract: target.contract,
					shard: target.index,
					offset,
					len,
					grant: grant.clone(),
				};
				async move {
					// A provider that is busy, or a connection lost in the flood, is tried
					// again, as the owner's node does.
					let pause = || tokio::time::sleep(Duration::from_millis(50));
					while started.elapsed() < duration + Duration::from_secs(30) {
						let sent =
							reader.request(target.peer, target.addresses.clone(), request.clone());
						match sent.await {
							Ok(Response::Data(data)) if data.len() == len as usize => {
								return Ok::<_, anyhow::Error>(data.len() as u64)
							}
							Ok(Response::Busy(_)) => pause().await,
							Ok(other) => anyhow::bail!("the owner's read was answered {other:?}"),
							Err(error) if error.is_transient() => pause().await,
							Err(error) => return Err(error.into()),
						}
					}
					anyhow::bail!("the owner's read of piece {offset} was never answered")
				}
			})
			.buffer_unordered(4);
		while let Some(piece) = pieces.next().await {
			bytes += piece?;
		}
	}
	Ok(bytes as f64 / started.elapsed().as_secs_f64())
}
