"""A micromamba stand-in for pyve's tests, on a real conda engine (py-rattler).

Run as `<tool python> tests/conda/micromamba.py ARGS...`, usually through a
`micromamba` wrapper script that execs it. It implements only what pyve
drives: `--version`, and `create [-y] -p PREFIX -f FILE` from an
environment.yml or a conda-lock v1 file (`*-lock.yml`), offline, against
local channels. Anything else exits 2 with a message naming the arguments.
See README.md beside this file for the environment variables it reads.
"""

import asyncio
import json
import os
import shlex
import sys
import time

VERSION = "2.3.0"
PLATFORM = "linux-64"
SUBDIRS = [PLATFORM, "noarch"]


class Failure(Exception):
    """Ends the run: print LINES to stderr, exit with CODE."""

    def __init__(self, *lines, code=1):
        super().__init__(lines[-1] if lines else "")
        self.lines = lines
        self.code = code


def critical(message, *before):
    return Failure(*before, f"critical libmamba {message}")


def log_invocation(args):
    path = os.environ.get("PYVE_STANDIN_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(args) + "\n")


def unsupported(args):
    return Failure(
        "error: the pyve test stand-in does not implement: " + " ".join(shlex.quote(a) for a in args),
        code=2,
    )


def parse_create(args):
    """The prefix and file of `create` ARGS (the arguments after `create`)."""
    prefix = file = None
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if arg in ("-y", "--yes"):
            i += 1
            continue
        if name in ("-p", "--prefix", "-f", "--file"):
            if eq:
                value = inline
                i += 1
            elif i + 1 < len(args):
                value = args[i + 1]
                i += 2
            else:
                return None
            if name in ("-p", "--prefix"):
                if prefix is not None:
                    return None
                prefix = value
            else:
                if file is not None:
                    return None
                file = value
            continue
        return None
    if not prefix or not file:
        return None
    return prefix, file


# ---------------------------------------------------------------- input files


def is_lockfile(path):
    return path.endswith("-lock.yml") or path.endswith("-lock.yaml")


def load_yaml(path, what):
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            # BaseLoader keeps every scalar a string, as yaml-cpp hands them
            # to micromamba (`1.10` stays "1.10", `on` stays "on").
            return yaml.load(f, Loader=yaml.BaseLoader)
    except yaml.YAMLError as e:
        detail = " ".join(str(e).split())
        if what == "lockfile":
            raise critical(
                f"YAML parsing error while reading environment lockfile located at '{path}' : {detail}"
            )
        raise critical(detail, f"error    libmamba YAML error in spec file '{path}'")
    except OSError as e:
        raise critical(f"Could not read '{path}': {e.strerror}")


def read_environment_yml(path):
    doc = load_yaml(path, "yaml")
    if doc is None or doc == "":
        doc = {}
    if not isinstance(doc, dict):
        raise critical(
            f"invalid spec file '{path}': expected a mapping at the top level, found {type(doc).__name__}",
            f"error    libmamba YAML error in spec file '{path}'",
        )

    channels = doc.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise critical(
            "bad conversion",
            f"error    libmamba Could not read 'channels' as vector of strings from '{path}'",
        )

    deps = doc.get("dependencies") or []
    if not isinstance(deps, list):
        deps = []
    specs = []
    for dep in deps:
        if isinstance(dep, str):
            specs.append(dep)
        elif isinstance(dep, dict) and ("pip" in dep or "uv" in dep):
            raise critical(f"pip dependencies are not supported by the stand-in (in '{path}')")
        else:
            raise critical(f"this kind of dependency is not supported by the stand-in: {dep!r} (in '{path}')")

    variables = doc.get("variables") or {}
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise critical(
            "bad conversion",
            f"error    libmamba 'variables' in spec file '{path}' must map names to strings",
        )
    return {"channels": channels, "specs": specs, "variables": variables}


def lock_error(message):
    return critical(message)


def read_lockfile(path):
    """Validate PATH as micromamba reads a conda-lock v1 file; return the
    `main` conda packages for linux-64 (as dicts from the file)."""
    doc = load_yaml(path, "lockfile")
    if not isinstance(doc, dict):
        raise lock_error(f"Error while reading environment lockfile located at '{path}': not a mapping")
    version = doc.get("version")
    if version is None:
        raise lock_error(f"Error while reading environment lockfile located at '{path}': missing key 'version'")
    if version != "1":
        raise lock_error(f"Failed to read environment lockfile at '{path}' : unknown version '{version}'")

    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
    if not _nonempty_list(meta.get("platforms")):
        raise lock_error("at least one 'metadata.platform.*' must be specified, found none")
    if not _nonempty_list(meta.get("sources")):
        raise lock_error("at least one 'metadata.source.*' must be specified, found none")
    for channel in meta.get("channels") or []:
        if not isinstance(channel, dict) or "url" not in channel or "used_env_vars" not in channel:
            raise lock_error(
                f"Error while reading environment lockfile located at '{path}': "
                "each 'metadata.channels' entry needs 'url' and 'used_env_vars'"
            )
    content_hash = meta.get("content_hash")
    if not isinstance(content_hash, dict) or not content_hash:
        raise lock_error("at least one 'metadata.content_hash.*' value must be specified, found none")

    packages = doc.get("package") or []
    if not isinstance(packages, list):
        raise lock_error(f"Error while reading environment lockfile located at '{path}': 'package' is not a list")
    chosen = []
    for pkg in packages:
        if not isinstance(pkg, dict):
            raise lock_error(f"Error while reading environment lockfile located at '{path}': bad 'package' entry")
        for key in ("name", "manager", "platform", "version", "url"):
            if not isinstance(pkg.get(key), str):
                raise lock_error(
                    f"Error while reading environment lockfile located at '{path}': "
                    f"package '{pkg.get('name', '?')}' has no '{key}'"
                )
        hashes = pkg.get("hash") if isinstance(pkg.get("hash"), dict) else {}
        if not hashes.get("md5") and not hashes.get("sha256"):
            raise lock_error(
                "either package 'package.info.hash.md5' or 'package.info.hash.sha256' must be specified, found none"
            )
        if pkg.get("category", "main") != "main" or pkg["platform"] != PLATFORM:
            continue
        if pkg["manager"] != "conda":
            raise critical(
                f"{pkg['manager']} packages in lock files are not supported by the stand-in ('{pkg['name']}')"
            )
        chosen.append(pkg)
    return chosen


def _nonempty_list(value):
    return isinstance(value, list) and len(value) > 0


# ------------------------------------------------------------------ channels


def resolve_channels(names):
    """file:// URLs for the channel NAMES (`nodefaults` dropped, as micromamba does)."""
    root = os.environ.get("PYVE_STANDIN_CHANNELS")
    urls = []
    for name in names:
        if name == "nodefaults":
            continue
        if name.startswith("file://"):
            path = name[len("file://"):]
            url = name.rstrip("/")
        elif "://" in name:
            raise unreachable(name, f"only local channels are reachable from the stand-in: {name}")
        elif os.path.isabs(name):
            path = name
            url = "file://" + name.rstrip("/")
        else:
            if not root:
                raise unreachable(name, "PYVE_STANDIN_CHANNELS is not set")
            path = os.path.join(root, name)
            url = "file://" + os.path.abspath(path)
        if not os.path.isdir(path):
            raise unreachable(name, f"{path} does not exist")
        urls.append(url)
    if not urls:
        raise critical(
            "Could not solve for environment specs: no channels configured (add 'channels:' to the file)",
            "warning  libmamba No 'channels' specified",
        )
    return urls


def unreachable(name, why):
    return Failure(
        f"warning  libmamba Unable to retrieve repodata for channel '{name}' (pyve test stand-in: {why})",
        "critical libmamba Multiple errors occurred:",
        f"    Unable to retrieve repodata (response: 404) for '{name}/{PLATFORM}/repodata.json'",
        f"    Subdir {name}/{PLATFORM} not loaded!",
    )


# ------------------------------------------------------------------- output


def human_size(n):
    for unit in ("B", "kB", "MB"):
        if n < 1000 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def channel_label(record):
    url = record.url
    parts = url.rstrip("/").split("/")
    return parts[-3] if len(parts) >= 3 else url


def print_transaction(prefix, specs, records):
    out = sys.stdout
    out.write("\n\nTransaction\n\n")
    out.write(f"  Prefix: {prefix}\n\n")
    if specs:
        out.write("  Updating specs:\n\n")
        for spec in specs:
            out.write(f"   - {spec}\n")
        out.write("\n")
    rows = [
        (r.name.normalized, str(r.version), str(r.build), channel_label(r), human_size(r.size or 0))
        for r in sorted(records, key=lambda r: r.name.normalized)
    ]
    head = ("Package", "Version", "Build", "Channel", "Size")
    widths = [max(len(x[i]) for x in rows + [head]) for i in range(5)]

    def line(cols, lead):
        return lead + "  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip() + "\n"

    out.write(line(head, "  "))
    out.write("  " + "─" * (sum(widths) + 8) + "\n\n")
    out.write("  Install:\n  " + "─" * (sum(widths) + 8) + "\n\n")
    for row in rows:
        out.write(line(row, "  + "))
    out.write("\n  Summary:\n\n")
    out.write(f"  Install: {len(rows)} packages\n\n")
    total = sum(r.size or 0 for r in records)
    out.write(f"  Total download: {human_size(total)}\n\n")
    out.write("  " + "─" * (sum(widths) + 8) + "\n\n\n")
    out.flush()


def print_linking(records):
    sys.stdout.write("\nTransaction starting\n")
    for r in records:
        sys.stdout.write(f"Linking {r.name.normalized}-{r.version}-{r.build}\n")
    sys.stdout.write("\nTransaction finished\n\n")


def print_done(prefix):
    sys.stdout.write(
        "To activate this environment, use:\n\n"
        f"    micromamba activate {prefix}\n\n"
        "Or to execute a single command in this environment, use:\n\n"
        f"    micromamba run -p {prefix} mycommand\n\n"
    )
    sys.stdout.flush()


# ------------------------------------------------------------------- create


def cache_dir():
    explicit = os.environ.get("PYVE_STANDIN_CACHE")
    if explicit:
        return os.path.abspath(explicit)
    return os.path.join(os.path.expanduser("~"), ".cache", "pyve-standin")


def check_prefix(prefix):
    if os.path.lexists(prefix):
        if not os.path.isdir(prefix):
            raise critical("Aborting.", "error    libmamba Non-conda folder exists at prefix")
        if os.listdir(prefix):
            if os.path.isdir(os.path.join(prefix, "conda-meta")):
                # micromamba -y would remove it and go on; pyve never asks
                # for that, so the stand-in refuses.
                raise critical(
                    "Aborting.",
                    f"error    libmamba Found conda-prefix at '{prefix}' "
                    "(the pyve test stand-in does not overwrite it)",
                )
            raise critical("Aborting.", "error    libmamba Non-conda folder exists at prefix")


def register_environment(prefix):
    """Append PREFIX to ~/.conda/environments.txt, as micromamba does."""
    home = os.path.expanduser("~")
    path = os.path.join(home, ".conda", "environments.txt")
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            with open(path, encoding="utf-8") as f:
                known = {line.strip() for line in f}
        except FileNotFoundError:
            known = set()
        if prefix not in known:
            with open(path, "a", encoding="utf-8") as f:
                f.write(prefix + "\n")
    except OSError:
        pass


def write_state(prefix, variables):
    """conda-meta/state as micromamba 2.x writes it: names upper-cased, sorted
    (a std::map into nlohmann::json), dumped with an indent of 4."""
    if not variables:
        return
    path = os.path.join(prefix, "conda-meta", "state")
    state = {}
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
        if not isinstance(state, dict):
            state = {}
    except (OSError, ValueError):
        state = {}
    env_vars = state.get("env_vars") if isinstance(state.get("env_vars"), dict) else {}
    for key, value in variables.items():
        env_vars[key.upper()] = value
    state["env_vars"] = dict(sorted(env_vars.items()))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(dict(sorted(state.items())), indent=4))


async def solve(urls, specs, cache):
    import rattler

    gateway = rattler.Gateway(cache_dir=os.path.join(cache, "repodata"))
    try:
        return await rattler.solve(urls, specs, gateway=gateway, platforms=SUBDIRS, virtual_packages=[])
    except Exception as e:  # rattler's SolverError, InvalidMatchSpecError, ...
        message = str(e).strip() or type(e).__name__
        raise Failure(
            "error    libmamba Could not solve for environment specs",
            *message.splitlines(),
            "critical libmamba Could not solve for environment specs",
        )


def lock_records(path, packages):
    """RepoDataRecords for the lock file's chosen PACKAGES, read by rattler."""
    import rattler

    try:
        env = rattler.LockFile.from_path(path).default_environment()
    except Exception as e:
        raise critical(f"Error while reading environment lockfile located at '{path}': {e}")
    wanted = {p["url"] for p in packages}
    records = []
    if env is not None:
        for platform in env.platforms():
            if platform.name == PLATFORM:
                records = [r for r in env.conda_repodata_records_for_platform(platform) or [] if r.url in wanted]
    found = {r.url for r in records}
    missing = sorted(wanted - found)
    if missing:
        raise critical(f"Error while reading environment lockfile located at '{path}': could not read {missing[0]}")
    return records


def verify_archives(records):
    """Check each local package archive against its record, as micromamba
    checks a download (rattler 0.28 trusts a file:// archive as it is)."""
    import hashlib

    for r in records:
        if not r.url.startswith("file://"):
            continue
        path = r.url[len("file://"):]
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise critical(f"Download error: {e.strerror}: {r.url}")
        if r.sha256 is not None:
            if hashlib.sha256(data).digest() != bytes(r.sha256):
                raise critical(
                    f"File not valid: SHA256 sum doesn't match expectation ({path})",
                    f"error    libmamba File not valid: SHA256 sum doesn't match expectation {path}",
                )
        elif r.md5 is not None:
            if hashlib.md5(data).digest() != bytes(r.md5):
                raise critical(
                    f"File not valid: MD5 sum doesn't match expectation ({path})",
                    f"error    libmamba File not valid: MD5 sum doesn't match expectation {path}",
                )


async def install(records, prefix, cache, specs):
    import rattler

    requested = None
    if specs:
        # py-rattler 0.28.0 hands this list to its Rust side as is, which
        # wants the wrapped PyMatchSpec, not the Python MatchSpec.
        requested = [rattler.MatchSpec(s)._match_spec for s in specs]
    await rattler.install(
        records,
        target_prefix=prefix,
        cache_dir=os.path.join(cache, "pkgs"),
        show_progress=False,
        requested_specs=requested,
        execute_link_scripts=False,
    )


def sort_topologically(records):
    import rattler

    # sort_topologically hands back plain PackageRecords (no url, no
    # channel): use it for the order only.
    by_name = {r.name.normalized: r for r in records}
    try:
        order = [p.name.normalized for p in rattler.PackageRecord.sort_topologically(records)]
    except Exception:
        return records
    return [by_name[n] for n in order if n in by_name]


def tidy_prefix(prefix, tag):
    """Undo what rattler does and micromamba does not: a CACHEDIR.TAG in the
    prefix, and conda-meta records readable by their owner only."""
    if tag and os.path.exists(tag):
        os.remove(tag)
    meta = os.path.join(prefix, "conda-meta")
    umask = os.umask(0)
    os.umask(umask)
    for name in os.listdir(meta):
        if name.endswith(".json"):
            os.chmod(os.path.join(meta, name), 0o666 & ~umask)


def write_history(prefix, args, specs, records):
    """A conda-meta/history entry in micromamba's format."""
    lines = [
        time.strftime("==> %Y-%m-%d %H:%M:%S <=="),
        "# cmd: micromamba " + " ".join(args),
        "# conda version: 3.8.0",
    ]
    for r in records:
        lines.append(f"+{channel_label(r)}/{r.subdir}::{r.name.normalized}-{r.version}-{r.build}")
    if specs:
        lines.append("# update specs: " + json.dumps(specs, separators=(", ", ": ")))
    with open(os.path.join(prefix, "conda-meta", "history"), "a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def create(prefix_arg, file_arg, args):
    fail = os.environ.get("PYVE_STANDIN_FAIL", "")
    if fail not in ("", "after-install"):
        raise Failure(f"error: PYVE_STANDIN_FAIL={fail}: the stand-in knows only 'after-install'", code=2)
    file = os.path.realpath(os.path.expanduser(file_arg))
    if not os.path.exists(file):
        if is_lockfile(file_arg):
            raise critical(f"File not found: {file}", f"error    libmamba Lockfile '{file}' not found")
        raise critical("File not found. Aborting.", f"error    libmamba YAML spec file '{file}' not found")
    prefix = os.path.realpath(os.path.expanduser(prefix_arg))

    if is_lockfile(file_arg):
        check_prefix(prefix)
        packages = read_lockfile(file)
        specs, variables = [], {}
        records = lock_records(file, packages)
    else:
        env = read_environment_yml(file)
        check_prefix(prefix)
        urls = resolve_channels(env["channels"])
        specs, variables = env["specs"], env["variables"]
        records = asyncio.run(solve(urls, specs, cache_dir())) if specs else []

    verify_archives(records)
    print_transaction(prefix, specs, records)
    # micromamba creates the prefix (conda-meta/history) before it links.
    os.makedirs(os.path.join(prefix, "conda-meta"), exist_ok=True)
    with open(os.path.join(prefix, "conda-meta", "history"), "a", encoding="utf-8"):
        pass
    register_environment(prefix)

    delay = os.environ.get("PYVE_STANDIN_SLEEP")
    if delay:
        time.sleep(float(delay))

    if records:
        tag = os.path.join(prefix, "CACHEDIR.TAG")
        had_tag = os.path.lexists(tag)
        try:
            asyncio.run(install(records, prefix, cache_dir(), specs))
        except Exception as e:
            raise critical(str(e).strip() or type(e).__name__, "error    libmamba Transaction failed")
        tidy_prefix(prefix, None if had_tag else tag)
    records = sort_topologically(records)
    print_linking(records)
    write_history(prefix, args, specs, records)
    write_state(prefix, variables)

    if fail == "after-install":
        raise critical("pyve test stand-in: failing after install (PYVE_STANDIN_FAIL=after-install)")
    print_done(prefix)


def main(argv):
    args = argv[1:]
    log_invocation(args)
    if args == ["--version"]:
        print(VERSION)
        return 0
    parsed = parse_create(args[1:]) if args[:1] == ["create"] else None
    if parsed is None:
        raise unsupported(args)
    create(*parsed, args)
    return 0


if __name__ == "__main__":
    try:
        code = main(sys.argv)
    except Failure as failure:
        sys.stdout.flush()
        for line in failure.lines:
            print(line, file=sys.stderr)
        code = failure.code
    except KeyboardInterrupt:
        sys.stdout.flush()
        print("critical libmamba Interrupted", file=sys.stderr)
        code = 130
    # rattler's Rust runtime keeps threads that can crash while Python
    # finalizes (a signal after "Transaction finished", seen under load);
    # micromamba exits with its own code, so skip finalization.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
