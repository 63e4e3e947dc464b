//! `cairn-node`: the Cairn chain node.
//!
//! One binary that runs a Substrate node with BABE block production and GRANDPA finality over
//! the Cairn runtime, with the standard RPC set so that polkadot.js and block explorers work.

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
