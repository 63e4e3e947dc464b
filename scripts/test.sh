#!/usr/bin/env bash
# Everything CI checks: formatting, lints, and every test, including the integration tests that
# start real nodes on 127.0.0.1 and the polkadot.js client tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
./scripts/setup.sh

step() { echo; echo "==> $* ($(date -u +%H:%M:%S))"; }

step "format"
cargo fmt --all --check

# The node first: the same command as a developer's first build, so its artifacts are shared.
step "build cairn-node (release)"
cargo build --release -p cairn-node

# Lints and tests select the same packages (the whole workspace), so that cargo resolves the same
# features for both and builds every dependency once.
step "clippy (every crate and target)"
cargo clippy --release --workspace --all-targets -- -D warnings
cargo clippy --release -p pallet-providers -p pallet-market --features runtime-benchmarks \
	--all-targets -- -D warnings

step "no_std: challenge rules and proof verifier build for the WASM runtime"
cargo build --release -p cairn-primitives -p cairn-prover --no-default-features --target wasm32v1-none

step "tests: unit, property, circuit, pallet, storage crash and node integration tests"
# One test at a time: the integration tests start networks of nodes, and this machine has few
# cores.
cargo test --release --workspace -- --test-threads 1

step "pallet benchmarks run as tests (real Groth16 proofs in the market's)"
cargo test --release -p pallet-providers -p pallet-market --features runtime-benchmarks

step "polkadot.js client and explorer browser tests (real node on 127.0.0.1, headless Chromium)"
(cd tests/js && npm ci --no-audit --no-fund >/dev/null && npm test)
step "all checks passed"
