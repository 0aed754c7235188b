#!/usr/bin/env bash
# Builds one release archive, as the release workflow does for each
# target (.github/workflows/release.yml): OUT_DIR/pyve-TARGET.tar.gz,
# holding pyve-TARGET/{pyve,LICENSE,README.md}, and its .sha256
# ("HEX  pyve-TARGET.tar.gz", as sha256sum writes it). install.sh reads
# these names. Runs anywhere the target's standard library is installed
# (`rustup target add TARGET`): the Linux targets are musl, so the binary
# is static and starts as fast as a static build can.
#
#   bash scripts/release.sh x86_64-unknown-linux-musl dist
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:?usage: scripts/release.sh TARGET [OUT_DIR]}
out=${2:-target/release-assets}
cargo build --release --locked --target "$target"

name=pyve-$target
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
cp "target/$target/release/pyve" LICENSE README.md "$stage/$name/"
mkdir -p "$out"
# The same bytes from the same build: names in order, no owner or time
# (GNU tar; bsdtar on macOS has no such options), gzip without a name or time.
tar_options=()
if tar --version 2>/dev/null | grep -q 'GNU tar'; then
  tar_options=(--sort=name --owner=0 --group=0 --numeric-owner --mtime=@0)
fi
# (The `+` form: bash before 4.4, macOS's /bin/bash among them, calls an
# empty array unbound under `set -u`.)
tar ${tar_options[@]+"${tar_options[@]}"} -C "$stage" -cf - "$name" | gzip -n -9 >"$out/$name.tar.gz"
if command -v sha256sum >/dev/null; then
  (cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
else
  (cd "$out" && shasum -a 256 "$name.tar.gz" >"$name.tar.gz.sha256")
fi
echo "release.sh: $out/$name.tar.gz"
