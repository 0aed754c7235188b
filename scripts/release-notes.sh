#!/usr/bin/env bash
# Prints the CHANGELOG.md section of release VERSION, for the release's
# notes, after checking that the tag names the version Cargo.toml says:
# a release whose binary reports another version, or with no notes, is
# refused. Reads Cargo.toml and CHANGELOG.md in the current directory.
#
#   bash scripts/release-notes.sh 0.2.0 > NOTES.md
set -euo pipefail

version=${1:?usage: scripts/release-notes.sh VERSION}
version=${version#v}
crate=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
if [ "$crate" != "$version" ]; then
  echo "release-notes.sh: the tag is v$version, but Cargo.toml's version is $crate; set it and tag again" >&2
  exit 1
fi
notes=$(awk -v heading="## [$version]" '
  index($0, heading) == 1 { found = 1; next }
  found && /^## / { exit }
  found { print }
' CHANGELOG.md)
if [ -z "${notes//[[:space:]]/}" ]; then
  echo "release-notes.sh: CHANGELOG.md has no \"## [$version]\" section; rename [Unreleased] to it, with the date" >&2
  exit 1
fi
printf '%s\n' "$notes"
