"""Build a tiny local conda channel for the tests, with the standard library:

    python3 tests/conda/channel.py build DIR --python PATH --pip-wheel WHEEL

It writes real `.tar.bz2` conda packages into DIR/noarch, and
repodata.json for noarch and each platform (those are empty: every
package is noarch). The packages are byte-for-byte reproducible for the
same `--python` and wheel, so a shared package cache never sees two
different archives under one name. Lock files are made by the real
conda-lock (tests/it/support.rs). See README.md beside this file.
"""

import argparse
import bz2
import hashlib
import io
import json
import os
import sys
import tarfile

PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"
PLATFORMS = ["linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64"]
# Fixed build time (2024-01-01T00:00:00Z, in ms as conda's index.json has
# it), so that every build of the channel is identical.
TIMESTAMP_MS = 1704067200000
MTIME = TIMESTAMP_MS // 1000


def sh_quote(value):
    return "'" + value.replace("'", "'\"'\"'") + "'"


def python_package(version, real_python):
    """python 3.11 runs the real interpreter as a venv does (pyvenv.cfg
    beside bin/, bin/python3.11 a link to it), so sys.prefix is the conda
    prefix and pip installs into it; python 3.12 is a launcher script."""
    minor = ".".join(version.split(".")[:2])
    marker = (f"lib/python{minor}/site-packages/pyve-test-channel.txt", ("", 0o644, False))
    if version.startswith("3.11"):
        real = os.path.realpath(real_python)
        cfg = (
            f"home = {os.path.dirname(real)}\n"
            "include-system-site-packages = false\n"
            f"version = {version}\n"
        )
        return {
            "name": "python",
            "version": version,
            "depends": [],
            "files": {"pyvenv.cfg": (cfg, 0o644, False), marker[0]: marker[1]},
            "symlinks": {"bin/python3.11": real, "bin/python3": "python3.11", "bin/python": "python3"},
        }
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
            marker[0]: marker[1],
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


def pip_package(wheel):
    """pip, as conda-forge ships it: `noarch: python`, the wheel's own files
    under site-packages (micromamba moves them into lib/pythonX.Y)."""
    import zipfile

    files = {}
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.endswith("/"):
                continue
            files["site-packages/" + name] = (z.read(name), 0o644, False)
    version = os.path.basename(wheel).split("-")[1]
    return {
        "name": "pip",
        "version": version,
        "depends": ["python >=3.9"],
        "noarch": "python",
        "files": files,
        "symlinks": {},
    }


def packages(real_python, pip_wheel):
    return [
        python_package("3.11.9", real_python),
        python_package("3.12.4", real_python),
        hello_package("1.0"),
        hello_package("2.0"),
        tool_package(),
        pip_package(pip_wheel),
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
    payload = {path: (text if isinstance(text, bytes) else text.encode(), mode, prefix) for path, (text, mode, prefix) in pkg["files"].items()}
    entries = []
    for path in sorted(set(payload) | set(pkg["symlinks"])):
        if path in pkg["symlinks"]:
            target = pkg["symlinks"][path]
            # conda hashes a symlink as the file it points at.
            data, link = target.encode(), path
            while not os.path.isabs(target):
                resolved = os.path.normpath(os.path.join(os.path.dirname(link), target))
                if resolved in payload:
                    data = payload[resolved][0]
                    break
                link, target = resolved, pkg["symlinks"].get(resolved, "/")
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
        "noarch": pkg.get("noarch", "generic"),
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
    if pkg.get("noarch") == "python":
        info_files["info/link.json"] = json.dumps({"noarch": {"type": "python"}, "package_metadata_version": 1}) + "\n"
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


def index(channel):
    """Writes repodata.json for noarch and linux-64, as `conda index` would."""
    records = {}
    noarch = os.path.join(channel, "noarch")
    for name in sorted(os.listdir(noarch)):
        if not name.endswith(".tar.bz2"):
            continue
        with open(os.path.join(noarch, name), "rb") as f:
            data = f.read()
        with tarfile.open(fileobj=io.BytesIO(bz2.decompress(data))) as tar:
            record = json.load(tar.extractfile("info/index.json"))
        record.update(md5=hashlib.md5(data).hexdigest(), sha256=hashlib.sha256(data).hexdigest(), size=len(data))
        records[name] = record
    # Every platform's repodata exists (empty: the packages are noarch), so
    # locks for other platforms solve.
    for subdir, packages_here in [("noarch", records)] + [(p, {}) for p in PLATFORMS]:
        repodata = {"info": {"subdir": subdir}, "packages": packages_here, "packages.conda": {}, "repodata_version": 1}
        os.makedirs(os.path.join(channel, subdir), exist_ok=True)
        write_if_changed(
            os.path.join(channel, subdir, "repodata.json"),
            (json.dumps(repodata, indent=1, sort_keys=True) + "\n").encode(),
        )


def cmd_build(args):
    channel = os.path.abspath(args.dir)
    real_python = os.path.abspath(args.python)
    if not os.access(real_python, os.X_OK):
        sys.exit(f"channel.py: --python {args.python}: not an executable")
    noarch = os.path.join(channel, "noarch")
    os.makedirs(noarch, exist_ok=True)
    for pkg in packages(real_python, args.pip_wheel):
        name = f"{pkg['name']}-{pkg['version']}-0.tar.bz2"
        write_if_changed(os.path.join(noarch, name), build_archive(pkg))
    index(channel)
    print(channel)


def main():
    parser = argparse.ArgumentParser(prog="channel.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build and index the test channel at DIR")
    build.add_argument("dir")
    build.add_argument("--python", required=True, help="the real interpreter the python packages run")
    build.add_argument("--pip-wheel", required=True, help="pip's wheel, repackaged as conda's pip")
    args = parser.parse_args()
    cmd_build(args)


if __name__ == "__main__":
    main()
