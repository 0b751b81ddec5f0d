#!/usr/bin/env bash
# The CDNOW sample (2,357 customers, 1997-01-01 to 1998-06-30) that Fader, Hardie & Lee fit
# BG/NBD and Gamma-Gamma on, for pytests/test_predictive_cdnow.py. It ships inside the
# `lifetimes` wheel on PyPI, which is used only as the data's carrier (none of its code):
# the wheel is downloaded with pip, the one file extracted and checked against its
# sha256, and kept in a cache outside the repository, so later runs need no network.
# Prints the path of the cached file.
set -euo pipefail
cache="${AUDIENCE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/audience}/cdnow"
file="$cache/CDNOW_sample.txt"
sha256=6fae10155c0b0ba363c2c386e30f77990d22328220efd862a5edd1443420d94a
python="${PYTHON:-$(dirname "$0")/../.venv/bin/python}"
if [ -s "$file" ] && echo "$sha256  $file" | sha256sum --check --status; then
    echo "$file"
    exit 0
fi
mkdir -p "$cache"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
"$python" -m pip download --quiet --disable-pip-version-check --no-deps --dest "$scratch" lifetimes==0.11.3
"$python" - "$scratch" <<'PY'
import pathlib, sys, zipfile
scratch = pathlib.Path(sys.argv[1])
(wheel,) = scratch.glob("*.whl")
with zipfile.ZipFile(wheel) as archive:
    (scratch / "CDNOW_sample.txt").write_bytes(archive.read("lifetimes/datasets/CDNOW_sample.txt"))
PY
echo "$sha256  $scratch/CDNOW_sample.txt" | sha256sum --check --status \
    || { echo "CDNOW_sample.txt from lifetimes 0.11.3 does not match its sha256" >&2; exit 1; }
mv "$scratch/CDNOW_sample.txt" "$file.tmp"
mv "$file.tmp" "$file"
echo "$file"
