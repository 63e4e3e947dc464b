#!/usr/bin/env bash
# Everything CI checks: formatting, lints, and every test, including the integration tests that
# start real nodes on 127.0.0.1 and the polkadot.js client tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
./scripts/setup.sh

step() { echo; echo "==> $*"; }

# The crates CI builds, lints and tests. `cairn-storage` and the pallets are not in this list yet:
# see docs/ARCHITECTURE.md, "Status".
packages=(-p cairn-node -p cairn-runtime -p cairn-primitives -p cairn-prover -p cairn-tests)

step "format"
cargo fmt --all --check

# The node first: the same command as a developer's first build, so its artifacts are shared.
step "build cairn-node (release)"
cargo build --release -p cairn-node

step "clippy"
cargo clippy --release "${packages[@]}" --all-targets -- -D warnings

step "no_std: challenge rules and proof verifier build for the WASM runtime"
cargo build --release -p cairn-primitives -p cairn-prover --no-default-features --target wasm32v1-none

step "unit, property and circuit tests"
cargo test --release -p cairn-primitives -p cairn-prover

step "integration tests (real nodes on 127.0.0.1)"
# One network at a time: each test starts several nodes, and this machine has few cores.
cargo test --release -p cairn-tests -- --test-threads 1

step "polkadot.js client tests (real node on 127.0.0.1)"
(cd tests/js && npm ci --no-audit --no-fund >/dev/null && npm test)
