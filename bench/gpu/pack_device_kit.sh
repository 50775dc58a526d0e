#!/usr/bin/env bash
# Packs into .device-kit/ (git-ignored) what bench/gpu/device_check.sh needs on a GPU machine
# that has CUDA, CMake, Ninja and JAX but reaches no package index (docs/gpu.md, "The device
# check"):
#   prefix/    HDF5 (serial), zlib and GoogleTest: Debian packages of this machine's release,
#              unpacked (headers, shared libraries, GoogleTest's static libraries and CMake files)
#   fallback/  the shared libraries HDF5's own dependencies need (libcurl, libcrypto and theirs),
#              put on the library path there only when that machine lacks libcurl.so.4
#   openblas/  scipy-openblas32 from .venv (run `bash cpp/tools/setup.sh` first)
#   wheels/    the AlphaFold2 reference for that machine's Python (3.12) beside its own JAX:
#              alphafold-colabfold and dm-haiku with what they need that it lacks
# Carry `.device-kit` with the device call; device_check.sh finds it.
#
#   bash bench/gpu/pack_device_kit.sh            (needs network: Debian's archive and PyPI)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
kit=$root/.device-kit
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rm -rf "$kit"
mkdir -p "$kit"/{prefix,fallback,wheels}

# Unpacks Debian packages into $1 (a prefix).
unpack() {
  local dest=$1
  shift
  (cd "$work" && apt-get download "$@" >/dev/null 2>&1)
  for pkg in "$@"; do dpkg -x "$work/${pkg}"_*.deb "$dest"; done
}

unpack "$kit/prefix" libhdf5-dev libhdf5-103-1 libsz2 libaec0 zlib1g-dev zlib1g libgtest-dev
# Only what the build reads: drop the Fortran and C++ bindings, high-level and static HDF5
# libraries, documentation and the GoogleTest sources.
find "$kit/prefix" \( -name '*fortran*' -o -name '*_cpp*' -o -name '*_hl*' -o -name '*hl_*' \
  -o -name 'libhdf5*.a' -o -name '*.mod' \) -exec rm -rf {} + 2>/dev/null || true
rm -rf "$kit/prefix/usr/share" "$kit/prefix/usr/src" "$kit/prefix/usr/bin"
# Absolute symbolic links (libz.so -> /lib/...) would point into that machine's own system.
while IFS= read -r link; do
  target=$(readlink "$link")
  if [[ $target == /* ]]; then ln -sfr "$kit/prefix$target" "$link"; fi
done < <(find "$kit/prefix" -type l)

# libhdf5_serial.so.103 needs libcurl.so.4 and libcrypto.so.3: their closure, without libc.
fallback=(libcurl4 libssl3 libbrotli1 libcom-err2 libgmp10 libgnutls30 libgssapi-krb5-2
          libhogweed6 libidn2-0 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0
          libldap-2.5-0 libnettle8 libnghttp2-14 libp11-kit0 libpsl5 librtmp1 libsasl2-2
          libssh2-1 libtasn1-6 libunistring2 libzstd1 libffi8)
unpack "$work/fallback" "${fallback[@]}"
find "$work/fallback" -name '*.so*' \( -type f -o -type l \) -path '*x86_64-linux-gnu*' \
  -exec cp -a {} "$kit/fallback/" \;

openblas=$(ls -d "$root"/.venv/lib/python3*/site-packages/scipy_openblas32)
cp -a "$openblas" "$kit/openblas"

# The reference beside the GPU machine's JAX 0.11 and numpy 2 (docs/gpu.md): the newest
# dm-haiku, the reference release the parity harness pins, and what neither machine image has.
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d "$kit/wheels" \
  alphafold-colabfold==2.3.12 dm-haiku==0.0.17 dm-tree==0.1.10 ml-collections==1.1.0 \
  immutabledict==4.3.1 jmp==0.0.4

du -sh "$kit"/* | sed 's/^/device kit: /'
echo "device kit: $(du -sh "$kit" | cut -f1) in $kit (limit of a device call: 64 MiB with the tree)"
