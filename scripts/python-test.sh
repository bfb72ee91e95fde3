#!/usr/bin/env bash
# Builds the Python package (python/, a debug abi3 wheel, with maturin) into
# a virtualenv under target/ and runs its pytest suite. Run by
# `cargo test` (python/tests/pytest.rs); arguments go to pytest.
#
# The virtualenv (target/venv) is made once, with python3's venv, and gets
# maturin, pytest and the platform's Python server SDK (rc-server-sdk, and
# jinja2, which it imports but does not declare) from PyPI with pip; a
# later run reuses it. The wheel is built by a cargo of its own, in
# target/python (cargo test holds target/debug's lock while tests run).
#
# Exit status 77: the machine cannot run this (no python3, no venv module,
# or pip could not install from PyPI); the message says why.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${DND_PYTHON_VENV:-$ROOT/target/venv}"
PYTHON="${PYTHON:-python3}"
REQUIREMENTS=("maturin>=1.5,<2" "pytest>=7,<10" "rc-server-sdk==3.2.0" "jinja2>=3,<4")

skip() { echo "python-test.sh: skipped: $*" >&2; exit 77; }

command -v "$PYTHON" >/dev/null || skip "no $PYTHON on PATH"
mkdir -p "$(dirname "$VENV")"
exec 9>"$VENV.lock"
# Several test runs may ask at once: one prepares the venv, the others wait.
if command -v flock >/dev/null; then flock -w 600 9; fi

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV" >/dev/null 2>&1 || { rm -rf "$VENV"; skip "$PYTHON -m venv failed (no venv module?)"; }
fi
stamp="$VENV/.requirements"
if [ "$(cat "$stamp" 2>/dev/null)" != "${REQUIREMENTS[*]}" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}" \
        || skip "pip could not install ${REQUIREMENTS[*]} from PyPI (no network?)"
    echo "${REQUIREMENTS[*]}" > "$stamp"
fi

WHEELS="$ROOT/target/python/wheels"
rm -rf "$WHEELS"
CARGO_TARGET_DIR="$ROOT/target/python" "$VENV/bin/maturin" build --quiet --locked --profile dev \
    --manifest-path "$ROOT/python/Cargo.toml" --interpreter "$VENV/bin/python" --out "$WHEELS" >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$WHEELS"/*.whl
# From target/, so that python/dnd_engine (the sources, without the
# extension module) does not shadow the installed package.
cd "$ROOT/target"
exec "$VENV/bin/pytest" -q -p no:cacheprovider "$ROOT/python/tests" "$@"
