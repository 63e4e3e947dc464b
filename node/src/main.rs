//! `cairn-node`: the Cairn chain node, storage provider and client.
//!
//! One binary that runs a Substrate node with BABE block production and GRANDPA finality over
//! the Cairn runtime, with the standard RPC set so that polkadot.js and block explorers work, plus
//! the services it wires together, one crate each:
//!
//! - `cairn-chain`: the market read through the runtime APIs, the node's signer and the client
//!   types the services share;
//! - `cairn-net`: the shard network;
//! - `cairn-provider`: the provider service;
//! - `cairn-files`: the client service (uploads, downloads, renewals, repairs);
//! - `cairn-rpc`: the `cairn_*` RPC and the token-guarded client API.
//!
//! This crate adds the command line, the chain specifications (`production-spec` among them),
//! the Substrate service that starts everything, `devnet`, a whole local network in one
//! command, and `bench`.

// `sc_cli::Error` and `sc_service::Error`, which the service and command APIs return, are large
// enums defined by polkadot-sdk; boxing them here would only add indirection at every call site.
#![allow(clippy::result_large_err)]

mod bench;
mod chain_spec;
mod cli;
mod client;
mod command;
mod devnet;
mod explorer;
#[cfg(test)]
mod metrics;
mod production_spec;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
