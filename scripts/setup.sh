#!/usr/bin/env bash
# Installs what a fresh Debian machine needs to build and test Cairn. Safe to run again.
set -euo pipefail

packages=(clang libclang-dev protobuf-compiler pkg-config build-essential git)
missing=()
for pkg in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Node.js runs the polkadot.js client tests.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# Headless Chromium runs the explorer page's browser test.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# boto3, a real S3 client, drives the S3 gateway's test.
python3 -c 'import boto3' >/dev/null 2>&1 || missing+=(python3-boto3)
if [ "${#missing[@]}" -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v rustup >/dev/null 2>&1; then
	echo "setup: rustup is required (https://rustup.rs)" >&2
	exit 1
fi
rustup target list --installed | grep -qx wasm32v1-none || rustup target add wasm32v1-none
installed_components="$(rustup component list --installed)"
for component in rust-src clippy rustfmt; do
	grep -q "^$component" <<<"$installed_components" || rustup component add "$component"
done
echo "setup: ready ($(rustc --version))"
