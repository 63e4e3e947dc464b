//! The node's client, database backend and transaction pool types, which the services share.

use cairn_runtime::{apis::RuntimeApi, opaque::Block};

/// Host functions the runtime may call.
#[cfg(not(feature = "runtime-benchmarks"))]
pub type HostFunctions =
	(sp_io::SubstrateHostFunctions, pallet_market::host::cairn_proofs::HostFunctions);
/// Host functions the runtime may call: a runtime built with its benchmarks imports those of
/// the benchmarks too, even where it only makes blocks.
#[cfg(feature = "runtime-benchmarks")]
pub type HostFunctions = (
	sp_io::SubstrateHostFunctions,
	frame_benchmarking::benchmarking::HostFunctions,
	BenchmarkHostFunctions,
);
/// Cairn's own host functions for `benchmark pallet`, which adds Substrate's and the
/// benchmarks'.
#[cfg(feature = "runtime-benchmarks")]
pub type BenchmarkHostFunctions = (
	pallet_market::host::cairn_proofs::HostFunctions,
	pallet_market::host::cairn_benchmark_proofs::HostFunctions,
);
/// The executor of the WASM runtime.
pub type RuntimeExecutor = sc_executor::WasmExecutor<HostFunctions>;
/// The full client.
pub type FullClient = sc_service::TFullClient<Block, RuntimeApi, RuntimeExecutor>;
/// The full client's database backend.
pub type FullBackend = sc_service::TFullBackend<Block>;
/// The transaction pool.
pub type FullPool = sc_transaction_pool::TransactionPoolHandle<Block, FullClient>;
