//! `cairn-node`: the Cairn chain node, storage provider and client.
//!
//! One binary that runs a Substrate node with BABE block production and GRANDPA finality over
//! the Cairn runtime, with the standard RPC set so that polkadot.js and block explorers work, plus
//! the shard network (`cairn-net`), the provider service ([`provider`]), the client service
//! ([`files`]) with its token-guarded API ([`api`]), `devnet`, a whole local network in one
//! command, and `production-spec`, a production chain's specification ([`production_spec`]).

// `sc_cli::Error` and `sc_service::Error`, which the service and command APIs return, are large
// enums defined by polkadot-sdk; boxing them here would only add indirection at every call site.
#![allow(clippy::result_large_err)]

mod api;
mod bench;
mod chain_spec;
mod cli;
mod client;
mod command;
mod devnet;
mod explorer;
mod files;
#[cfg(test)]
mod fixtures;
mod involved;
mod local_file;
mod market_state;
mod metrics;
mod production_spec;
mod provider;
mod rpc;
mod service;
mod signer;
mod transfer;

fn main() -> sc_cli::Result<()> {
	command::run()
}
