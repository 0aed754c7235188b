"""Build a local wheel directory for offline dependency tests.

    /usr/bin/python3 tests/deps/wheels.py OUT_DIR

Standard library only. OUT_DIR gets tiny pure-python `py3-none-any` wheels,
usable as uv's and pip's `--find-links OUT_DIR` together with `--no-index`:

| wheel         | requires    | contents                                        |
|---------------|-------------|-------------------------------------------------|
| alpha 1.0/2.0 | -           | module `alpha`, `alpha.__version__`             |
| beta 1.0      | alpha>=1.0  | module `beta`                                   |
| gamma 1.0     | -           | module `gamma`, console script `gamma` printing |
|               |             | "gamma ran" (stands in for pytest)              |
| delta 1.0     | -           | module `delta` (for a `dev` dependency group)   |
| epsilon 1.0   | -           | module `epsilon` (for a `docs` group)           |

Each wheel has METADATA (Metadata-Version 2.1), WHEEL, RECORD (sha256,
urlsafe base64 without padding) and, for gamma, entry_points.txt. Members are
stored uncompressed with a fixed timestamp and mode, so the bytes are the same
on every run and every machine. A wheel whose file already has the right bytes
is not rewritten (its mtime stays), so running this again is cheap.

If the environment variable PIP_WHEEL names a pip wheel file, it is copied into
OUT_DIR too (for `uv venv --seed` and pip-in-venv tests). Without it, no pip
wheel is added. Files in OUT_DIR that this script did not make are left alone.
"""

import base64
import hashlib
import io
import os
import shutil
import sys
import zipfile

# 2024-01-01 00:00:00, the timestamp of every member.
DATE_TIME = (2024, 1, 1, 0, 0, 0)
TAG = "py3-none-any"

GAMMA_MAIN = 'def main():\n    print("gamma ran")\n    return 0\n'

# (name, version, requires_dist, extra module source, entry_points.txt or None)
PACKAGES = [
    ("alpha", "1.0", [], "", None),
    ("alpha", "2.0", [], "", None),
    ("beta", "1.0", ["alpha>=1.0"], "", None),
    ("gamma", "1.0", [], GAMMA_MAIN, "[console_scripts]\ngamma = gamma:main\n"),
    ("delta", "1.0", [], "", None),
    ("epsilon", "1.0", [], "", None),
]


def record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def metadata(name, version, requires):
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: pyve test package {name} {version}",
    ]
    lines += [f"Requires-Dist: {req}" for req in requires]
    return "\n".join(lines) + "\n"


def wheel_bytes(name, version, requires, extra, entry_points):
    dist_info = f"{name}-{version}.dist-info"
    files = [
        (f"{name}/__init__.py",
         f'"""pyve test package {name}."""\n__version__ = "{version}"\n{extra}'),
        (f"{dist_info}/METADATA", metadata(name, version, requires)),
        (f"{dist_info}/WHEEL",
         "Wheel-Version: 1.0\nGenerator: pyve-tests-wheels\n"
         f"Root-Is-Purelib: true\nTag: {TAG}\n"),
    ]
    if entry_points is not None:
        files.append((f"{dist_info}/entry_points.txt", entry_points))
    files.append((f"{dist_info}/top_level.txt", f"{name}\n"))

    record = io.StringIO()
    members = []
    for path, text in files:
        data = text.encode("utf-8")
        members.append((path, data))
        record.write(f"{path},{record_hash(data)},{len(data)}\n")
    record.write(f"{dist_info}/RECORD,,\n")
    members.append((f"{dist_info}/RECORD", record.getvalue().encode("utf-8")))

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for path, data in members:
            info = zipfile.ZipInfo(path, date_time=DATE_TIME)
            info.external_attr = (0o100644 << 16)
            info.create_system = 3  # unix, so the mode bits are honoured
            zf.writestr(info, data, compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()


def write_if_changed(path, data):
    """Write data to path unless it already holds exactly those bytes."""
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    except FileNotFoundError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return True


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: wheels.py OUT_DIR\n")
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    for name, version, requires, extra, entry_points in PACKAGES:
        filename = f"{name}-{version}-{TAG}.whl"
        data = wheel_bytes(name, version, requires, extra, entry_points)
        if write_if_changed(os.path.join(out, filename), data):
            print(f"wrote {filename}")

    pip_wheel = os.environ.get("PIP_WHEEL")
    if pip_wheel:
        if not os.path.isfile(pip_wheel) or not pip_wheel.endswith(".whl"):
            sys.stderr.write(f"PIP_WHEEL is not a wheel file: {pip_wheel}\n")
            return 1
        with open(pip_wheel, "rb") as f:
            data = f.read()
        if write_if_changed(os.path.join(out, os.path.basename(pip_wheel)), data):
            print(f"copied {os.path.basename(pip_wheel)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
