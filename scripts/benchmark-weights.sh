#!/usr/bin/env bash
# Writes `pallets/{providers,market}/src/weights.rs` from the pallets' benchmarks, run by the
# node in the WASM runtime (`cairn-node benchmark pallet`), with real Groth16 proofs.
#
#   scripts/benchmark-weights.sh                    # 20 steps, 10 repeats (the weights in the tree)
#   STEPS=2 REPEAT=1 scripts/benchmark-weights.sh   # a quick check that every benchmark runs
#
# Run it on the reference machine with nothing else busy: the figures are its execution times.
# It builds the node with `--features runtime-benchmarks` (a build of its own: the first one
# takes about as long as a cold build), which replaces `target/release/cairn-node` until the
# next ordinary `cargo build --release -p cairn-node`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

steps="${STEPS:-20}"
repeat="${REPEAT:-10}"

cargo build --release -p cairn-node --features runtime-benchmarks
node="$CARGO_TARGET_DIR/release/cairn-node"

for pallet in providers market; do
	echo "==> pallet_$pallet"
	"$node" benchmark pallet \
		--chain dev \
		--pallet "pallet_$pallet" \
		--extrinsic '*' \
		--steps "$steps" \
		--repeat "$repeat" \
		--wasm-execution compiled \
		--template scripts/benchmark/weights.hbs \
		--output "pallets/$pallet/src/weights.rs"
done
