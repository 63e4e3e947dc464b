//! A writer process is killed with SIGKILL in the middle of a put; the reopened store holds every
//! confirmed shard intact and nothing of the half-written one.
//!
//! The writer is this test binary itself, re-run with `--ignored` on `crash_writer_process` and the
//! store directory in `CAIRN_CRASH_STORE`. It prints `confirmed N` after each put returns and
//! `halfway N` once half of shard N's bytes went into the put.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

use cairn_storage::commitment::commit;
use cairn_storage::store::{RocksShardStore, ShardId, ShardReader, ShardStore, StoreConfig};
use cairn_storage::StorageError;

const SHARD_BYTES: usize = 2 << 20;
const STORE_ENV: &str = "CAIRN_CRASH_STORE";
const PAUSE_ENV: &str = "CAIRN_CRASH_PAUSE_HALFWAY";
const FIRST_ENV: &str = "CAIRN_CRASH_FIRST_SHARD";

fn shard_bytes(n: u64) -> Vec<u8> {
	let mut bytes = vec![0u8; SHARD_BYTES];
	let mut hasher = blake3::Hasher::new();
	hasher.update(&n.to_le_bytes());
	hasher.finalize_xof().fill(&mut bytes);
	bytes
}

/// Hands over the shard's bytes, announcing when half have been read; with `pause`, it then waits
/// on standard input, which the parent never writes, so the kill lands inside the put for sure.
struct AnnouncingReader {
	bytes: Vec<u8>,
	at: usize,
	shard: u64,
	pause: bool,
	announced: bool,
}

impl Read for AnnouncingReader {
	fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
		if !self.announced && self.at >= self.bytes.len() / 2 {
			self.announced = true;
			println!("halfway {}", self.shard);
			if self.pause {
				let mut never = String::new();
				io::stdin().read_line(&mut never)?;
			}
		}
		let count = buf.len().min(self.bytes.len() - self.at).min(64 << 10);
		buf[..count].copy_from_slice(&self.bytes[self.at..self.at + count]);
		self.at += count;
		Ok(count)
	}
}

#[test]
#[ignore = "run by the crash tests as a child process"]
fn crash_writer_process() {
	let Ok(path) = std::env::var(STORE_ENV) else { return };
	let first: u64 =
		std::env::var(FIRST_ENV).ok().and_then(|first| first.parse().ok()).unwrap_or(0);
	let pause = std::env::var(PAUSE_ENV).is_ok();
	let (store, _) =
		RocksShardStore::open(Path::new(&path), StoreConfig { capacity_bytes: 1 << 40 })
			.expect("opens");
	for n in first.. {
		let mut reader = AnnouncingReader {
			bytes: shard_bytes(n),
			at: 0,
			shard: n,
			pause: pause && n >= first + 3,
			announced: false,
		};
		store.put(ShardId::new(n, 0), SHARD_BYTES as u64, &mut reader, None).expect("stores");
		println!("confirmed {n}");
	}
}

fn spawn_writer(path: &Path, first: u64, pause: bool) -> (Child, BufReader<ChildStdout>) {
	let mut command = Command::new(std::env::current_exe().expect("test binary path"));
	command
		.args(["crash_writer_process", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
		.env(STORE_ENV, path)
		.env(FIRST_ENV, first.to_string())
		.stdin(Stdio::piped())
		.stdout(Stdio::piped());
	if pause {
		command.env(PAUSE_ENV, "1");
	}
	let mut child = command.spawn().expect("spawns writer");
	let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
	(child, stdout)
}

/// Reads the writer's lines until `halfway N` for a shard after at least `min_confirmed` were
/// confirmed; returns the confirmed ids and N.
fn wait_for_halfway(stdout: &mut BufReader<ChildStdout>, min_confirmed: usize) -> (Vec<u64>, u64) {
	let mut confirmed = Vec::new();
	let mut line = String::new();
	loop {
		line.clear();
		let read = stdout.read_line(&mut line).expect("reads writer output");
		assert!(read > 0, "writer exited early");
		let mut words = line.split_whitespace();
		match (words.next(), words.next().and_then(|n| n.parse::<u64>().ok())) {
			(Some("confirmed"), Some(n)) => confirmed.push(n),
			(Some("halfway"), Some(n)) if confirmed.len() >= min_confirmed => {
				return (confirmed, n)
			}
			_ => {}
		}
	}
}

fn kill(mut child: Child) {
	child.kill().expect("sends SIGKILL");
	child.wait().expect("reaps writer");
}

fn assert_intact(store: &RocksShardStore, confirmed: &[u64]) {
	for n in confirmed {
		let id = ShardId::new(*n, 0);
		let expected = shard_bytes(*n);
		let mut stored = Vec::new();
		io::copy(&mut ShardReader::new(store, id).expect("confirmed shard present"), &mut stored)
			.expect("reads");
		assert!(stored == expected, "shard {n} differs after the crash");
		assert_eq!(store.commitment(id).expect("present"), commit(&expected).expect("commits").0);
	}
}

#[test]
fn killed_writer_loses_nothing_confirmed_and_leaves_no_half_shard() {
	let dir = tempfile::tempdir().expect("tempdir");
	let config = StoreConfig { capacity_bytes: 1 << 40 };

	// Round 1: the writer is certainly inside put (paused halfway through its fourth shard).
	let (child, mut stdout) = spawn_writer(dir.path(), 0, true);
	let (confirmed, half_written) = wait_for_halfway(&mut stdout, 3);
	kill(child);
	let (store, report) = RocksShardStore::open(dir.path(), config).expect("reopens");
	assert_eq!(report.removed_pending, vec![ShardId::new(half_written, 0)]);
	assert_eq!(confirmed, vec![0, 1, 2]);
	assert_intact(&store, &confirmed);
	assert!(matches!(
		store.commitment(ShardId::new(half_written, 0)),
		Err(StorageError::UnknownShard(_))
	));
	assert_eq!(store.usage().used, (confirmed.len() * SHARD_BYTES) as u64);
	drop(store);

	// Round 2: killed at whatever point the writer reached after announcing halfway.
	let (child, mut stdout) = spawn_writer(dir.path(), half_written + 1, false);
	let (more, in_flight) = wait_for_halfway(&mut stdout, 1);
	assert!(!more.is_empty() && in_flight > half_written);
	kill(child);
	let (store, _) = RocksShardStore::open(dir.path(), config).expect("reopens");
	let all: Vec<u64> = confirmed.iter().chain(&more).copied().collect();
	assert_intact(&store, &all);
	match store.commitment(ShardId::new(in_flight, 0)) {
		Err(StorageError::UnknownShard(_)) => {}
		// The put may have finished between the announcement and the kill; then it is whole.
		Ok(_) => assert_intact(&store, &[in_flight]),
		Err(other) => panic!("unexpected error for the in-flight shard: {other}"),
	}
}
