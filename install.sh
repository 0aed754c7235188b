#!/bin/sh
# Installs pyve from a release: the build for this machine, checked
# against its sha256, into ~/.local/bin (or --to DIR). Never needs root;
# run again, it changes nothing when that build is already installed.
# Usage: see `usage` below, or `sh install.sh --help`. Messages go to
# stderr; exit 0 installed (or already there), 1 failed, 2 usage error.
set -eu

repository=https://github.com/pointmatic/pyve

say() { printf 'pyve-install: %s\n' "$1" >&2; }
fail() {
  say "error: $1"
  exit 1
}
usage_error() {
  say "error: $1 (see --help)"
  exit 2
}
usage() {
  cat <<'EOF'
Installs pyve from a release into ~/.local/bin (or --to DIR).

  curl -fsSL https://github.com/pointmatic/pyve/releases/latest/download/install.sh | sh
  sh install.sh --version 0.2.0 --sha256 HEX --to ~/bin

Options (or the variables in brackets):
  --version V   a release, 0.2.0 or v0.2.0 (PYVE_VERSION); default: the latest
  --sha256 HEX  the archive's sha256, pinned (PYVE_INSTALL_SHA256); default: the
                .sha256 file published beside it
  --to DIR      where to put pyve (PYVE_INSTALL_DIR); default: ~/.local/bin
  --url URL     where the release's files are, a URL or a directory
                (PYVE_INSTALL_URL); default: the GitHub release of the version
EOF
}

# Everything runs from here, called on the last line: a download cut short
# (`curl … | sh`) defines only part of it and runs nothing.
main() {
  version=${PYVE_VERSION:-latest}
  expected=${PYVE_INSTALL_SHA256:-}
  # Set but empty is a pin that went missing (a CI variable not defined):
  # refused, rather than quietly checked against the published file.
  if [ -n "${PYVE_INSTALL_SHA256+set}" ] && [ -z "$PYVE_INSTALL_SHA256" ]; then
    fail "PYVE_INSTALL_SHA256 is set but empty: set it to the archive's sha256, or unset it to check against the release's .sha256 file"
  fi
  to=${PYVE_INSTALL_DIR:-}
  base=${PYVE_INSTALL_URL:-}
  while [ $# -gt 0 ]; do
    case $1 in
      --version | --sha256 | --to | --url)
        [ $# -ge 2 ] || usage_error "$1 needs a value"
        case $1 in
          --version) version=$2 ;;
          --sha256) expected=$2 ;;
          --to) to=$2 ;;
          --url) base=$2 ;;
        esac
        shift 2
        ;;
      --version=*) version=${1#*=} && shift ;;
      --sha256=*) expected=${1#*=} && shift ;;
      --to=*) to=${1#*=} && shift ;;
      --url=*) base=${1#*=} && shift ;;
      -h | --help)
        usage
        exit 0
        ;;
      *) usage_error "unknown option $1" ;;
    esac
  done

  if [ -z "$to" ]; then
    [ -n "${HOME:-}" ] || fail "HOME is not set; choose a directory with --to DIR"
    to=$HOME/.local/bin
  fi
  version=${version#v}
  if [ -z "$base" ]; then
    if [ "$version" = latest ]; then
      base=$repository/releases/latest/download
    else
      base=$repository/releases/download/v$version
    fi
  fi
  expected=$(printf '%s' "$expected" | tr 'A-F' 'a-f')
  case $expected in
    *[!0-9a-f]*) usage_error "--sha256 takes the 64 hex digits of a sha256" ;;
    '' | ????????????????????????????????????????????????????????????????) ;;
    *) usage_error "--sha256 takes the 64 hex digits of a sha256" ;;
  esac

  # The build for this machine: static on Linux, so any distribution runs it.
  os=$(uname -s)
  arch=$(uname -m)
  case $os/$arch in
    Linux/x86_64 | Linux/amd64) target=x86_64-unknown-linux-musl ;;
    Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
    Darwin/x86_64) target=x86_64-apple-darwin ;;
    Darwin/arm64 | Darwin/aarch64) target=aarch64-apple-darwin ;;
    *) fail "no pyve release for $os on $arch; build it from source: cargo install --locked pyve" ;;
  esac
  name=pyve-$target
  archive=$name.tar.gz

  # Fetches $1 (under $base) to $2: a directory is read as is, a URL with
  # curl or wget.
  fetch() {
    case $base in
      *://*)
        if command -v curl >/dev/null 2>&1; then
          curl --proto '=https,file' --proto-redir '=https' --fail --silent --show-error --location \
            --output "$2" "$base/$1" || fail "cannot download $base/$1"
        elif command -v wget >/dev/null 2>&1; then
          wget --quiet --https-only --output-document="$2" "$base/$1" || fail "cannot download $base/$1"
        else
          fail "neither curl nor wget is installed; install one, or pass --url DIR with the release's files"
        fi
        ;;
      *) cp "$base/$1" "$2" 2>/dev/null || fail "no $1 in $base" ;;
    esac
  }

  sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
      sha256sum "$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
      shasum -a 256 "$1" | cut -d ' ' -f 1
    elif command -v openssl >/dev/null 2>&1; then
      openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1
    else
      fail "no sha256sum, shasum or openssl to check the download with"
    fi
  }

  scratch=$(mktemp -d 2>/dev/null || mktemp -d -t pyve-install)
  trap 'rm -rf "$scratch"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  fetch "$archive" "$scratch/$archive"
  if [ -z "$expected" ]; then
    fetch "$archive.sha256" "$scratch/$archive.sha256"
    expected=$(cut -d ' ' -f 1 <"$scratch/$archive.sha256" | tr 'A-F' 'a-f')
  fi
  actual=$(sha256_of "$scratch/$archive")
  if [ "$actual" != "$expected" ]; then
    fail "$archive: sha256 is $actual, not $expected: the download is damaged or not that release; nothing was installed"
  fi

  mkdir "$scratch/unpacked"
  tar -xzf "$scratch/$archive" -C "$scratch/unpacked" || fail "$archive is not a readable archive"
  binary=$scratch/unpacked/$name/pyve
  [ -f "$binary" ] || fail "$archive holds no $name/pyve"
  chmod 755 "$binary"
  release=$("$binary" --version 2>/dev/null) || fail "the pyve in $archive does not run on this machine ($os $arch)"

  mkdir -p "$to" || fail "cannot create $to; choose another directory with --to DIR"
  destination=$to/pyve
  if [ -f "$destination" ] && cmp -s "$binary" "$destination"; then
    say "$release is already installed at $destination; nothing changed"
  else
    # A new file renamed over the old: a shell running pyve at that moment
    # sees the old binary or the new one, never a part. The new file is
    # made by mktemp, so no link planted under a guessable name is
    # written through.
    partial=$(mktemp "$to/.pyve.install.XXXXXX" 2>/dev/null) ||
      fail "cannot write in $to; choose another directory with --to DIR"
    if ! { cat "$binary" >"$partial" && chmod 755 "$partial" && mv -f "$partial" "$destination"; }; then
      rm -f "$partial"
      fail "cannot write $destination; choose another directory with --to DIR"
    fi
    say "installed $release at $destination"
  fi

  case :${PATH:-}: in
    *:"$to":*) ;;
    *) say "$to is not on PATH: add it in your shell's startup file" ;;
  esac
  # The one hook line for the user's shell, shown as it is typed.
  # shellcheck disable=SC2016,SC2088
  case ${SHELL:-} in
    */zsh) rc='~/.zshrc' line='eval "$(pyve hook zsh)"' ;;
    */fish) rc='~/.config/fish/config.fish' line='pyve hook fish | source' ;;
    */bash) rc='~/.bashrc' line='eval "$(pyve hook bash)"' ;;
    *)
      say "pyve's hook is for bash, zsh and fish; for bash:"
      rc='~/.bashrc' line='eval "$(pyve hook bash)"'
      ;;
  esac
  say "add this line to $rc, then open a new shell:"
  printf '  %s\n' "$line" >&2
}

main "$@"
