#!/usr/bin/env bash
# Builds cairn-node and runs a development chain on 127.0.0.1 (RPC on port 9944).
# Extra arguments go to cairn-node, e.g. `./scripts/dev.sh --base-path /tmp/cairn`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
./scripts/setup.sh
cargo build --release -p cairn-node
exec "$CARGO_TARGET_DIR/release/cairn-node" --dev "$@"
