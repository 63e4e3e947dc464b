# Shared environment of Cairn's scripts (sourced, not run).
# Build output lives outside the work tree, so a fresh checkout starts from a warm cache.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
