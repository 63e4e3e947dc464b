//! Random JSON-RPC parameters for a running node: values of every JSON shape, with the field
//! names and string forms the `cairn_*` methods expect mixed in, so that the parsers behind
//! them see both garbage and near-misses. A node must answer each call with a result or a
//! JSON-RPC error, and never drop the connection or panic.

use jsonrpsee::{
	core::{client::ClientT, params::ArrayParams},
	ws_client::WsClient,
};
use rand_chacha::{
	rand_core::{RngCore, SeedableRng},
	ChaCha20Rng,
};
use serde_json::{json, Map, Value};

/// Field names the methods know, and some they do not.
const KEYS: [&str; 13] = [
	"path",
	"data",
	"k",
	"m",
	"duration",
	"autoRenew",
	"maxPrice",
	"encrypt",
	"contract",
	"blocks",
	"owner",
	"x",
	"",
];

/// Strings that look like what the methods parse.
const STRINGS: [&str; 12] = [
	"0x",
	"0x00ff",
	"0xzz",
	"/dev/zero",
	"/",
	"relative/path",
	"../../etc/passwd",
	"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
	"340282366920938463463374607431768211456",
	"-1",
	"\u{0}\u{ffff}",
	"",
];

/// Random JSON values, reproducible from a seed.
pub struct JsonFuzzer {
	rng: ChaCha20Rng,
}

impl JsonFuzzer {
	/// A fuzzer seeded with `seed`.
	pub fn new(seed: u64) -> Self {
		Self { rng: ChaCha20Rng::seed_from_u64(seed) }
	}

	fn below(&mut self, n: u32) -> u32 {
		self.rng.next_u32() % n
	}

	/// A random JSON value at most `depth` levels deep.
	pub fn value(&mut self, depth: u32) -> Value {
		let shapes = if depth == 0 { 7 } else { 9 };
		match self.below(shapes) {
			0 => Value::Null,
			1 => Value::Bool(self.below(2) == 1),
			2 => json!(self.rng.next_u64()),
			3 => json!(-(self.rng.next_u32() as i64)),
			4 => json!(f64::from(self.rng.next_u32()) / 7.0),
			5 => json!(STRINGS[self.below(STRINGS.len() as u32) as usize]),
			6 => {
				let len = self.below(40) as usize;
				let bytes: Vec<u8> = (0..len).map(|_| self.rng.next_u32() as u8).collect();
				json!(String::from_utf8_lossy(&bytes))
			}
			7 => Value::Array((0..self.below(4)).map(|_| self.value(depth - 1)).collect()),
			_ => {
				let mut object = Map::new();
				for _ in 0..self.below(5) {
					let key = KEYS[self.below(KEYS.len() as u32) as usize];
					object.insert(key.to_string(), self.value(depth - 1));
				}
				Value::Object(object)
			}
		}
	}

	/// Up to three random positional parameters.
	pub fn params(&mut self) -> (ArrayParams, Vec<Value>) {
		let values: Vec<Value> = (0..self.below(4)).map(|_| self.value(2)).collect();
		let mut params = ArrayParams::new();
		for value in &values {
			params.insert(value).expect("a JSON value serializes");
		}
		(params, values)
	}
}

/// Calls each of `methods` `rounds` times with random parameters; fails on the first call that
/// gets neither a result nor a JSON-RPC error (a dropped connection, a timeout).
pub async fn fuzz_methods(
	rpc: &WsClient,
	methods: &[&str],
	rounds: usize,
	seed: u64,
) -> anyhow::Result<usize> {
	let mut fuzzer = JsonFuzzer::new(seed);
	let mut calls = 0;
	for _ in 0..rounds {
		for method in methods {
			let (params, values) = fuzzer.params();
			match rpc.request::<Value, _>(method, params).await {
				Ok(_) | Err(jsonrpsee::core::client::Error::Call(_)) => calls += 1,
				Err(other) => anyhow::bail!("{method}({values:?}) broke the connection: {other}"),
			}
		}
	}
	Ok(calls)
}
