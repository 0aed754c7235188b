"""Build a tiny local conda channel, and conda-lock v1 files from it.

Run with the test tool environment's Python (py-rattler and PyYAML):

    target/tools/conda-standin/bin/python tests/conda/channel.py build DIR --python PATH
    target/tools/conda-standin/bin/python tests/conda/channel.py lock ENV_YML OUT --channels-root DIR

`build` writes real `.tar.bz2` conda packages (all `noarch: generic`) into
DIR/noarch and indexes DIR with rattler. The packages are byte-for-byte
reproducible for the same `--python`, so a shared package cache never sees two
different archives under one name. `lock` solves an environment.yml against
channels under DIR (a channel name `conda-forge` is DIR/conda-forge) for
linux-64 and writes a conda-lock v1 file. See README.md beside this file.
"""

import argparse
import asyncio
import bz2
import hashlib
import io
import json
import os
import sys
import tarfile

import rattler
import yaml

PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"
PLATFORM = "linux-64"
# Fixed build time (2024-01-01T00:00:00Z, in ms as conda's index.json has
# it), so that every build of the channel is identical.
TIMESTAMP_MS = 1704067200000
MTIME = TIMESTAMP_MS // 1000


def sh_quote(value):
    return "'" + value.replace("'", "'\"'\"'") + "'"


def python_package(version, real_python):
    minor = ".".join(version.split(".")[:2])
    launcher = (
        "#!/bin/sh\n"
        f"# conda prefix: {PLACEHOLDER}\n"
        f"# python {version} from the pyve test channel: runs the real interpreter.\n"
        f"exec {sh_quote(real_python)} \"$@\"\n"
    )
    return {
        "name": "python",
        "version": version,
        "depends": [],
        "files": {
            "bin/python3": (launcher, 0o755, True),
            f"bin/python{minor}": (launcher, 0o755, True),
            f"lib/python{minor}/site-packages/pyve-test-channel.txt": ("", 0o644, False),
        },
        "symlinks": {"bin/python": "python3"},
    }


def hello_package(version):
    greeting = "hello" if version == "1.0" else f"hello {version}"
    files = {
        "bin/hello": (
            "#!/bin/sh\n"
            f"# hello {version} from the pyve test channel\n"
            f"echo \"{greeting} from {PLACEHOLDER}\"\n",
            0o755,
            True,
        ),
        "share/hello/README": (f"hello {version}, a pyve test package\n", 0o644, False),
        "etc/conda/activate.d/hello.sh": (
            "# hello: activate.d (pyve test channel)\n"
            "HELLO_ACTIVATED=1\n"
            "export HELLO_ACTIVATED\n"
            "HELLO_SHLVL_SEEN=\"${CONDA_SHLVL:-}\"\n"
            "export HELLO_SHLVL_SEEN\n"
            "ACTIVATE_ORDER=\"${ACTIVATE_ORDER:-}hello;\"\n"
            "export ACTIVATE_ORDER\n",
            0o644,
            False,
        ),
        "etc/conda/activate.d/hello.fish": (
            "# hello: activate.d (pyve test channel)\n"
            "set -gx HELLO_ACTIVATED 1\n"
            "set -gx HELLO_SHLVL_SEEN \"$CONDA_SHLVL\"\n"
            "set -gx ACTIVATE_ORDER \"$ACTIVATE_ORDER\"'hello;'\n",
            0o644,
            False,
        ),
        "etc/conda/deactivate.d/hello.sh": (
            "# hello: deactivate.d (pyve test channel)\n"
            "unset HELLO_ACTIVATED\n"
            "HELLO_DEACTIVATED=1\n"
            "export HELLO_DEACTIVATED\n"
            "DEACTIVATE_ORDER=\"${DEACTIVATE_ORDER:-}hello;\"\n"
            "export DEACTIVATE_ORDER\n",
            0o644,
            False,
        ),
        "etc/conda/deactivate.d/hello.fish": (
            "# hello: deactivate.d (pyve test channel)\n"
            "set -e HELLO_ACTIVATED\n"
            "set -gx HELLO_DEACTIVATED 1\n"
            "set -gx DEACTIVATE_ORDER \"$DEACTIVATE_ORDER\"'hello;'\n",
            0o644,
            False,
        ),
        "etc/conda/env_vars.d/hello.json": (
            '{"hello_home": "' + PLACEHOLDER + '/share/hello", '
            '"SHARED": "from-env-vars-d", "DROPPED": "***unset***"}\n',
            0o644,
            True,
        ),
    }
    return {"name": "hello", "version": version, "depends": ["python"], "files": files, "symlinks": {}}


def tool_package():
    files = {
        "bin/tool": ("#!/bin/sh\necho \"tool 2.0\"\n", 0o755, False),
        "etc/conda/activate.d/zz-tool.sh": (
            "# tool: activate.d (pyve test channel)\n"
            "ACTIVATE_ORDER=\"${ACTIVATE_ORDER:-}tool;\"\n"
            "export ACTIVATE_ORDER\n",
            0o644,
            False,
        ),
        "etc/conda/activate.d/zz-tool.fish": (
            "# tool: activate.d (pyve test channel)\n"
            "set -gx ACTIVATE_ORDER \"$ACTIVATE_ORDER\"'tool;'\n",
            0o644,
            False,
        ),
        "etc/conda/deactivate.d/zz-tool.sh": (
            "# tool: deactivate.d (pyve test channel)\n"
            "DEACTIVATE_ORDER=\"${DEACTIVATE_ORDER:-}tool;\"\n"
            "export DEACTIVATE_ORDER\n",
            0o644,
            False,
        ),
        "etc/conda/deactivate.d/zz-tool.fish": (
            "# tool: deactivate.d (pyve test channel)\n"
            "set -gx DEACTIVATE_ORDER \"$DEACTIVATE_ORDER\"'tool;'\n",
            0o644,
            False,
        ),
    }
    return {"name": "tool", "version": "2.0", "depends": ["hello >=1.0"], "files": files, "symlinks": {}}


def packages(real_python):
    return [
        python_package("3.11.9", real_python),
        python_package("3.12.4", real_python),
        hello_package("1.0"),
        hello_package("2.0"),
        tool_package(),
    ]


def _tar_add(tar, name, data, mode, symlink_target=None):
    info = tarfile.TarInfo(name)
    info.mtime = MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if symlink_target is not None:
        info.type = tarfile.SYMTYPE
        info.linkname = symlink_target
        info.mode = 0o777
        tar.addfile(info)
    else:
        info.mode = mode
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def build_archive(pkg, build="0"):
    """The bytes of PKG as a .tar.bz2 conda package."""
    payload = {path: (text.encode(), mode, prefix) for path, (text, mode, prefix) in pkg["files"].items()}
    entries = []
    for path in sorted(set(payload) | set(pkg["symlinks"])):
        if path in pkg["symlinks"]:
            target = pkg["symlinks"][path]
            # conda hashes a symlink as the file it points at.
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), target))
            data = payload[resolved][0]
            entries.append({
                "_path": path,
                "path_type": "softlink",
                "sha256": hashlib.sha256(data).hexdigest(),
                "size_in_bytes": len(data),
            })
            continue
        data, _mode, prefix = payload[path]
        entry = {
            "_path": path,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size_in_bytes": len(data),
        }
        if prefix:
            entry["file_mode"] = "text"
            entry["prefix_placeholder"] = PLACEHOLDER
        entries.append(entry)

    index = {
        "arch": None,
        "build": build,
        "build_number": int(build),
        "depends": pkg["depends"],
        "license": "MIT",
        "name": pkg["name"],
        "noarch": "generic",
        "platform": None,
        "subdir": "noarch",
        "timestamp": TIMESTAMP_MS,
        "version": pkg["version"],
    }
    about = {"summary": f"{pkg['name']} {pkg['version']}, a package of the pyve test channel"}
    info_files = {
        "info/index.json": json.dumps(index, indent=2, sort_keys=True) + "\n",
        "info/about.json": json.dumps(about, indent=2, sort_keys=True) + "\n",
        "info/paths.json": json.dumps({"paths": entries, "paths_version": 1}, indent=2, sort_keys=True) + "\n",
        "info/files": "".join(e["_path"] + "\n" for e in entries),
    }
    has_prefix = [f"{PLACEHOLDER} text {p}\n" for p, (_, _, prefix) in sorted(payload.items()) if prefix]
    if has_prefix:
        info_files["info/has_prefix"] = "".join(has_prefix)

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in sorted(info_files):
            _tar_add(tar, name, info_files[name].encode(), 0o644)
        for path in sorted(set(payload) | set(pkg["symlinks"])):
            if path in pkg["symlinks"]:
                _tar_add(tar, path, b"", 0, symlink_target=pkg["symlinks"][path])
            else:
                data, mode, _ = payload[path]
                _tar_add(tar, path, data, mode)
    return bz2.compress(raw.getvalue(), 9)


def write_if_changed(path, data):
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except FileNotFoundError:
        pass
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def cmd_build(args):
    channel = os.path.abspath(args.dir)
    real_python = os.path.abspath(args.python)
    if not os.access(real_python, os.X_OK):
        sys.exit(f"channel.py: --python {args.python}: not an executable")
    noarch = os.path.join(channel, "noarch")
    os.makedirs(noarch, exist_ok=True)
    os.makedirs(os.path.join(channel, PLATFORM), exist_ok=True)
    for pkg in packages(real_python):
        name = f"{pkg['name']}-{pkg['version']}-0.tar.bz2"
        write_if_changed(os.path.join(noarch, name), build_archive(pkg))
    asyncio.run(rattler.index.index_fs(channel, write_zst=False, write_shards=False, force=True))
    # A conda channel needs the platform's repodata too, even if empty.
    linux = os.path.join(channel, PLATFORM, "repodata.json")
    if not os.path.exists(linux):
        empty = {"info": {"subdir": PLATFORM}, "packages": {}, "packages.conda": {}, "repodata_version": 1}
        write_if_changed(linux, (json.dumps(empty, indent=2) + "\n").encode())
    print(channel)


def resolve_channel(name, channels_root):
    """file:// URL of channel NAME: a file:// URL as is, a name under channels_root."""
    if "://" in name:
        return name.rstrip("/")
    path = os.path.join(os.path.abspath(channels_root), name)
    if not os.path.isdir(path):
        sys.exit(f"channel.py: channel '{name}': {path} does not exist")
    return "file://" + path


def cmd_lock(args):
    with open(args.environment) as f:
        env = yaml.safe_load(f)
    if not isinstance(env, dict):
        sys.exit(f"channel.py: {args.environment}: not a mapping")
    channels = [str(c) for c in env.get("channels") or []]
    specs = [str(d) for d in env.get("dependencies") or [] if not isinstance(d, dict)]
    if not channels:
        sys.exit(f"channel.py: {args.environment}: no channels")
    urls = [resolve_channel(c, args.channels_root) for c in channels]

    async def solve():
        gateway = rattler.Gateway(cache_dir=os.path.join(os.path.abspath(args.channels_root), ".gateway-cache"))
        return await rattler.solve(urls, specs, gateway=gateway, platforms=[PLATFORM, "noarch"], virtual_packages=[])

    records = asyncio.run(solve())
    content = json.dumps({"channels": channels, "specs": specs, "platform": PLATFORM}, sort_keys=True)
    out_dir = os.path.dirname(os.path.abspath(args.out))
    packages_out = []
    for rec in sorted(records, key=lambda r: r.name.normalized):
        deps = {}
        for dep in rec.depends:
            name, _, constraint = dep.partition(" ")
            deps[name] = constraint.strip()
        packages_out.append({
            "name": rec.name.normalized,
            "version": str(rec.version),
            "manager": "conda",
            "platform": PLATFORM,
            "dependencies": deps,
            "url": rec.url,
            "hash": {"md5": rec.md5.hex(), "sha256": rec.sha256.hex()},
            "category": "main",
            "optional": False,
        })
    lock = {
        "version": 1,
        "metadata": {
            "content_hash": {PLATFORM: hashlib.sha256(content.encode()).hexdigest()},
            "channels": [{"url": c, "used_env_vars": []} for c in channels],
            "platforms": [PLATFORM],
            "sources": [os.path.relpath(os.path.abspath(args.environment), out_dir)],
        },
        "package": packages_out,
    }
    with open(args.out, "w") as f:
        f.write("# generated by tests/conda/channel.py (conda-lock v1 format)\n")
        yaml.safe_dump(lock, f, sort_keys=False, default_flow_style=False)
    print(args.out)


def main():
    parser = argparse.ArgumentParser(prog="channel.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build and index the test channel at DIR")
    build.add_argument("dir")
    build.add_argument("--python", required=True, help="the real interpreter the python packages run")
    lock = sub.add_parser("lock", help="write a conda-lock v1 file for an environment.yml")
    lock.add_argument("environment")
    lock.add_argument("out")
    lock.add_argument("--channels-root", required=True)
    args = parser.parse_args()
    if args.command == "build":
        cmd_build(args)
    else:
        cmd_lock(args)


if __name__ == "__main__":
    main()
    # rattler's Rust runtime keeps threads that can crash while Python
    # finalizes (a signal after the work is done, seen on a first run);
    # everything is written, so skip finalization.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
