#!/usr/bin/env bash
# Makes a fresh Debian machine ready: installs the system libraries exafold needs when missing,
# creates the virtual environment .venv, and builds and installs exafold into it (editable, so
# rerunning this after a change rebuilds incrementally in build/release).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

packages=(build-essential cmake ninja-build pkg-config libhdf5-dev zlib1g-dev
          libgtest-dev libgmock-dev python3-venv libopenmpi-dev openmpi-bin clang
          libclang-rt-14-dev kalign)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

venv=${EXAFOLD_VENV:-$root/.venv}
python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$root/cpp/tools/requirements.txt"

# Editable install without build isolation: the same build directory is reused, so a rebuild
# after a change compiles only what changed. The C++ tests are built in the same tree.
echo "setup: building exafold (build/release)"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation \
  -Cbuild-dir=build/release -Ccmake.define.EXAFOLD_BUILD_TESTS=ON \
  -Ccmake.define.EXAFOLD_BUILD_BENCH=ON -e "$root"
# The installed package must import: a broken build fails here, not in the first test.
summary=$("$venv/bin/python" -c \
  'import exafold; i = exafold.info(); print("exafold", i["version"], "CUDA" if i["cuda_built"] else "CPU-only")')
echo "setup: done ($summary)"
