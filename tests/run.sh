#!/usr/bin/env bash
# The whole test suite, from a fresh machine: set-up (system packages, .venv, build), the C++
# tests, the GPU tests on the CPU emulation of CUDA under four schedules, a rehearsal of the GPU
# device check there (bench/gpu/device_check.sh), the C++ tests again under AddressSanitizer +
# UndefinedBehaviorSanitizer (with the CUDA backend emulated, so the GPU tests run there too), a
# bounded libFuzzer run per input parser (FASTA, A3M, Stockholm, npz, template hits, mmCIF,
# obsolete.dat),
# then pytest (including parity with the AlphaFold2 reference, whose fixtures are generated once
# and cached under ~/.cache/exafold).
# Stops at the first failing stage; no stage may pass with zero tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${EXAFOLD_BUILD_JOBS:-$(nproc)}

bash cpp/tools/setup.sh

echo "== C++ tests (build/release)"
ctest --test-dir build/release --output-on-failure --no-tests=error -j "$jobs"

echo "== GPU tests on the CPU emulation of CUDA, four schedules (build/emulation; docs/gpu.md)"
cmake -S . -B build/emulation -G Ninja -DCMAKE_BUILD_TYPE=Release -DEXAFOLD_CUDA=EMULATE \
  -DEXAFOLD_BUILD_TESTS=ON -DEXAFOLD_PYTHON=OFF >/dev/null
cmake --build build/emulation -j "$jobs" \
  --target exafold_tests exafold_emulation_tests exafold_emulation_ucontext_tests
ctest --test-dir build/emulation --output-on-failure --no-tests=error -j "$jobs" \
  -R '^(ucontext[.])?Emulation|^clang_compiles[.]'
for schedule in forward reverse greedy greedy-reverse; do
  echo "-- schedule $schedule"
  EXAFOLD_EMULATION_SCHEDULE=$schedule ctest --test-dir build/emulation --output-on-failure \
    --no-tests=error -j "$jobs" -R '^(GpuOps|CudaMemory|CudaModel)[.]|^BackendOps/Table[.].*/cuda_'
done

echo "== The GPU device check, rehearsed on the emulation at tiny sizes (bench/gpu/device_check.sh)"
EXAFOLD_DEVICE_CHECK_REHEARSE=1 EXAFOLD_BUILD_JOBS="$jobs" OUT="$root/build/device_check" \
  bash bench/gpu/device_check.sh >/dev/null || { cat "$root/build/device_check/summary.md"; exit 1; }
cat "$root/build/device_check/summary.md"

echo "== C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer, CUDA emulated (build/asan)"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEXAFOLD_SANITIZE=ON \
  -DEXAFOLD_BUILD_TESTS=ON -DEXAFOLD_PYTHON=OFF -DEXAFOLD_CUDA=EMULATE >/dev/null
cmake --build build/asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure --no-tests=error -j "$jobs"

echo "== Parser fuzzing: libFuzzer, ${EXAFOLD_FUZZ_SECONDS:-20} s per parser (build/fuzz)"
cmake -S tests/fuzz -B build/fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DEXAFOLD_FUZZ_SECONDS="${EXAFOLD_FUZZ_SECONDS:-20}" >/dev/null
cmake --build build/fuzz -j "$jobs"
ctest --test-dir build/fuzz --output-on-failure --no-tests=error

echo "== Python tests"
.venv/bin/python -m pytest tests/python
