#!/usr/bin/env bash
# The single test command (see README.md). On a fresh Debian machine, as
# root, it installs what the tests drive (zsh, fish, shellcheck, strace,
# direnv, git, curl, bzip2, Python's venv and pip, libarchive for
# micromamba, elvish, tcsh, nushell (npm), xonsh, uv, Poetry, conda-lock,
# the seed wheels and the guide's
# pytest and httpx from PyPI, rustup's musl target), builds and smoke-tests
# the static release archive, checks formatting and lints, runs the whole
# suite, and packages the crate and runs the package's unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v zsh >/dev/null || need+=(zsh)
# An environment rebuilt after approval is vouched for by asking git.
command -v git >/dev/null || need+=(git)
command -v fish >/dev/null || need+=(fish)
# The hooks for elvish and tcsh run in Debian's (nushell comes from npm
# and xonsh from PyPI, below).
command -v elvish >/dev/null || need+=(elvish)
command -v tcsh >/dev/null || need+=(tcsh)
command -v npm >/dev/null || need+=(npm)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v strace >/dev/null || need+=(strace)
command -v direnv >/dev/null || need+=(direnv)
# The man page is rendered by man(1) in the tests.
command -v man >/dev/null || need+=(man-db)
# The prompt-theme recipes run under Debian's powerlevel9k.
[ -f /usr/share/powerlevel9k/powerlevel9k.zsh-theme ] || need+=(zsh-theme-powerlevel9k)
# The Makefile recipe (docs/ci.md) runs under make.
command -v make >/dev/null || need+=(make)
# The micromamba bootstrap downloads with curl and unpacks with tar -j.
command -v curl >/dev/null || need+=(curl)
command -v bzip2 >/dev/null || need+=(bzip2)
if [ -x /usr/bin/python3 ] && ! /usr/bin/python3 -c 'import venv' 2>/dev/null; then
  need+=(python3-venv)
fi
[ -x /usr/bin/python3 ] || need+=(python3 python3-venv)
if ! python3 -m pip --version >/dev/null 2>&1 && ! /usr/bin/python3 -m pip --version >/dev/null 2>&1; then
  need+=(python3-pip)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "test.sh: missing ${need[*]}; install them (or run as root on Debian)" >&2
    exit 1
  fi
fi

# uv, pinned, from PyPI: its wheel holds the binary, so download and unpack
# it rather than install it anywhere global.
UV_VERSION=0.13.9
uv_dir="$PWD/target/tools/uv-$UV_VERSION"
if [ ! -x "$uv_dir/uv" ]; then
  echo "test.sh: fetching uv $UV_VERSION from PyPI"
  pip_python=python3
  python3 -m pip --version >/dev/null 2>&1 || pip_python=/usr/bin/python3
  rm -rf "$uv_dir.download" && mkdir -p "$uv_dir.download"
  "$pip_python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: --dest "$uv_dir.download" "uv==$UV_VERSION"
  "$pip_python" - "$uv_dir.download" "$uv_dir" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "uv-*.whl"))[0]
os.makedirs(sys.argv[2], exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.endswith(".data/scripts/uv"):
            target = os.path.join(sys.argv[2], "uv")
            with z.open(name) as src, open(target + ".part", "wb") as dst:
                dst.write(src.read())
            os.chmod(target + ".part", 0o755)
            os.rename(target + ".part", target)
PY
  rm -rf "$uv_dir.download"
fi
export PYVE_TEST_UV="$uv_dir/uv"
"$PYVE_TEST_UV" --version

# The real micromamba the conda tests drive (tests/conda/README.md):
# PYVE_TEST_MICROMAMBA, else `micromamba` on PATH, else the build shared
# beside this checkout. It needs libarchive at run time.
if [ -z "${PYVE_TEST_MICROMAMBA:-}" ]; then
  if command -v micromamba >/dev/null; then
    PYVE_TEST_MICROMAMBA="$(command -v micromamba)"
  else
    PYVE_TEST_MICROMAMBA="$(cd .. && pwd)/shared/tools/micromamba/bin/micromamba"
  fi
fi
if [ ! -x "$PYVE_TEST_MICROMAMBA" ]; then
  echo "test.sh: no micromamba at $PYVE_TEST_MICROMAMBA; set PYVE_TEST_MICROMAMBA" >&2
  exit 1
fi
if ! "$PYVE_TEST_MICROMAMBA" --version >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing libarchive13 for micromamba"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends libarchive13 >/dev/null
  fi
fi
echo "micromamba $("$PYVE_TEST_MICROMAMBA" --version) at $PYVE_TEST_MICROMAMBA"
export PYVE_TEST_MICROMAMBA

# A Python tool, pinned, from PyPI, in a tool venv of the system Python
# at target/tools/NAME-VERSION (kept while its command answers --version).
tool_venv() { # name version command
  local dir="$PWD/target/tools/$1-$2"
  if ! "$dir/bin/$3" --version >/dev/null 2>&1; then
    echo "test.sh: installing $1 $2 into $dir" >&2
    rm -rf "$dir"
    "$PYVE_TEST_UV" venv --quiet --no-project --no-config --no-python-downloads \
      --python /usr/bin/python3 "$dir"
    "$PYVE_TEST_UV" pip install --quiet --no-config --python "$dir/bin/python" "$1==$2"
  fi
  echo "$dir/bin/$3"
}
# Poetry: the tests install a poetry.lock through it
# (tests/it/integration/dependencies.rs).
PYVE_TEST_POETRY=$(tool_venv poetry 2.2.1 poetry)
export PYVE_TEST_POETRY
# conda-lock: `pyve lock` runs it, and tests make lock files with it
# (tests/it/backends/conda_lock.rs).
PYVE_TEST_CONDA_LOCK=$(tool_venv conda-lock 4.0.3 conda-lock)
export PYVE_TEST_CONDA_LOCK

# xonsh, whose hook is tested as the nushell and elvish ones are
# (tests/it/hook/more_shells.rs).
PYVE_TEST_XONSH=$(tool_venv xonsh 0.25.0 xonsh)
export PYVE_TEST_XONSH

# nushell's official release, as its npm package ships it (the `nushell`
# package's binary for this platform), pinned.
NU_VERSION=0.115.1
nu_dir="$PWD/target/tools/nu-$NU_VERSION"
if ! "$nu_dir/nu" --version >/dev/null 2>&1; then
  echo "test.sh: fetching nushell $NU_VERSION from npm"
  case "$(uname -m)" in
    x86_64) nu_package=linux-x64 ;;
    aarch64) nu_package=linux-arm64 ;;
    *) echo "test.sh: no nushell package for $(uname -m)" >&2; exit 1 ;;
  esac
  rm -rf "$nu_dir.download" && mkdir -p "$nu_dir.download"
  (cd "$nu_dir.download" && npm pack --silent "@nushell/$nu_package@$NU_VERSION" >/dev/null)
  tar xzf "$nu_dir.download"/*.tgz -C "$nu_dir.download"
  rm -rf "$nu_dir" && mkdir -p "$nu_dir"
  mv "$nu_dir.download/package/bin/nu" "$nu_dir/nu"
  rm -rf "$nu_dir.download"
fi
export PYVE_TEST_NU="$nu_dir/nu"
"$PYVE_TEST_NU" --version

# Pinned wheels from PyPI, without their dependencies, into DIR.
wheel_download() { # dir requirement...
  local dir=$1 pip_python=python3
  shift
  python3 -m pip --version >/dev/null 2>&1 || pip_python=/usr/bin/python3
  "$pip_python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: --dest "$dir" "$@"
}

# The wheels `uv venv --seed` installs (pip; setuptools, wheel and packaging too for
# Python < 3.12), pinned, from PyPI: the tests' local wheel directory
# holds them, so environments get pip offline (tests/deps/README.md).
seed_dir="$PWD/target/tools/seed-wheels-2"
if [ ! -f "$seed_dir/.done" ]; then
  echo "test.sh: fetching pip, setuptools and wheel from PyPI"
  mkdir -p "$seed_dir"
  wheel_download "$seed_dir" "pip==25.3" "setuptools==80.9.0" "wheel==0.45.1" "packaging==25.0"
  touch "$seed_dir/.done"
fi
export PYVE_TEST_SEED_WHEELS="$seed_dir"

# Real pytest and httpx with their dependencies, pinned, from PyPI, and a
# second pluggy: the getting-started test runs the guide's commands as
# written (`pytest`, `uv add httpx`, a pulled uv.lock) offline
# (tests/it/commands/getting_started.rs).
doc_dir="$PWD/target/tools/doc-wheels-1"
if [ ! -f "$doc_dir/.done" ]; then
  echo "test.sh: fetching pytest, httpx and their dependencies from PyPI"
  mkdir -p "$doc_dir"
  # One version of a project per pip call.
  wheel_download "$doc_dir" "pluggy==1.6.0"
  wheel_download "$doc_dir" "pytest==8.4.2" "pluggy==1.5.0" \
    "iniconfig==2.3.1" "packaging==26.4" "pygments==2.21.0" "colorama==0.4.6" \
    "httpx==0.28.1" "httpcore==1.0.9" "h11==0.16.0" "anyio==4.16.0" "idna==3.20" \
    "certifi==2026.10.19.post1" "typing_extensions==4.16.0"
  touch "$doc_dir/.done"
fi
export PYVE_TEST_DOC_WHEELS="$doc_dir"

# The release archive for this machine, built as the release workflow
# builds it (static, musl): the installer test installs from it
# (tests/it/integration/installer.rs).
release_target=$(uname -m)-unknown-linux-musl
if ! rustup target list --installed 2>/dev/null | grep -qx "$release_target"; then
  echo "test.sh: adding the $release_target target"
  rustup target add "$release_target"
fi
bash scripts/release.sh "$release_target" target/release-assets >/dev/null
bash scripts/smoke.sh "target/$release_target/release/pyve"
export PYVE_TEST_RELEASE_DIR="$PWD/target/release-assets"

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked

# The crate as crates.io will have it: it packages, builds, and passes its
# unit tests from the package alone (docs/release.md).
cargo package --locked --allow-dirty --quiet
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
(cd "target/package/pyve-$version" && CARGO_TARGET_DIR=../../package-test cargo test --locked --quiet --bin pyve)
