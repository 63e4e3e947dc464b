#!/usr/bin/env bash
# Builds cairn-node and runs a whole local Cairn network on 127.0.0.1: three validators, the
# buyer's node (RPC on port 9944, explorer on http://127.0.0.1:9955/) and six storage providers,
# until Ctrl-C. Extra arguments go to `cairn-node devnet`, e.g. `./scripts/dev.sh --providers 9`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
./scripts/setup.sh
cargo build --release -p cairn-node
exec "$CARGO_TARGET_DIR/release/cairn-node" devnet "$@"
