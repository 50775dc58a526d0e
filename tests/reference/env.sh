#!/usr/bin/env bash
# Creates (once) and reuses the reference environment, then prints its python.
#   ${XDG_CACHE_HOME:-$HOME/.cache}/exafold/refenv-<first 12 hex of sha256(requirements.txt)>
# Needs python3 (3.11) and access to PyPI on the first run only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="$here/requirements.txt"
hash="$(sha256sum "$requirements" | cut -c1-12)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/exafold"
venv="$cache/refenv-$hash"
mkdir -p "$cache"

if [ ! -f "$venv/.complete" ]; then
  # Concurrent callers wait here instead of installing into the same folder.
  exec 9>"$venv.lock"
  flock 9
  if [ ! -f "$venv/.complete" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      --no-deps --only-binary=:all: -r "$requirements" >&2
    "$venv/bin/python" -c "import alphafold.model.modules, haiku, jax" >&2
    touch "$venv/.complete"
  fi
fi
echo "$venv/bin/python"
