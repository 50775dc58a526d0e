#!/usr/bin/env bash
# Everything exafold measures on a GPU, in one call of at most 9 minutes on one H100 or H200
# (docs/gpu.md, "The device check"):
#   1. build in Release for sm_90 with every core;
#   2. registers, shared memory and spills of every kernel (ptxas -v);
#   3. the per-op table on the cuda backend, float32 and bfloat16, against float64;
#   4. the whole model on the GPU against the cpu's float64 run, and its kernel launches;
#   5. the benchmark: model_1_ptm at full width, 512 clusters, 5,120 extra rows, 3 recycles, no
#      templates, at S = 128, 256, 512, 1024 (seconds, peak memory, launches, TFLOP/s, MFU).
# Files go to $OUT (default build/device_check); the benchmark's table is appended to
# bench/RESULTS.md. Each step's log is $OUT/<step>.log; $OUT/summary.md says what ran, passed,
# failed or was skipped and why, so a failing step never hides the others' results.
#
#   bash bench/gpu/device_check.sh                      on the GPU machine
#   EXAFOLD_DEVICE_CHECK_REHEARSE=1 bash bench/gpu/device_check.sh
#       here, without a GPU: the same steps on the CPU emulation of CUDA at tiny sizes, results
#       kept out of bench/RESULTS.md (tests/run.sh runs this).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${OUT:-$root/build/device_check}
mkdir -p "$out"
summary=$out/summary.md
: >"$summary"
failed=0

if [[ ${EXAFOLD_DEVICE_CHECK_REHEARSE:-0} == 1 ]]; then
  mode=rehearsal
  build=build/emulation
  cuda=EMULATE
  jobs=${EXAFOLD_BUILD_JOBS:-2}
  bench_args=(--preset reduced_ptm --lengths 16,24 --clusters 8 --extra 16 --recycles 1
              --peak-size 64)
  results=$out/RESULTS.rehearsal.md
else
  mode=gpu
  build=build/gpu
  cuda=ON
  jobs=$(nproc)
  bench_args=(--preset model_1_ptm --lengths 128,256,512,1024 --clusters 512 --extra 5120
              --recycles 3 --peak-size 8192)
  results=$root/bench/RESULTS.md
fi

note() { echo "$*" | tee -a "$summary"; }

# step NAME SECONDS COMMAND...: runs COMMAND with a time limit, its output in $out/NAME.log.
step() {
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  local took=$((SECONDS - t0))
  if [[ $rc == 0 ]]; then
    note "- $name: ok (${took} s)"
  else
    note "- $name: FAILED, exit $rc after ${took} s (last lines of $name.log below)"
    tail -n 15 "$out/$name.log" | sed 's/^/      /' | tee -a "$summary"
    failed=1
  fi
  return $rc
}

note "# exafold device check ($mode), $(date -u '+%Y-%m-%d %H:%M UTC')"
note ""
note "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
if command -v nvidia-smi >/dev/null; then
  note "- GPU: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1)"
else
  note "- GPU: none (nvidia-smi absent)"
fi
note "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

# nvcc where CMake may not look for it, and scipy-openblas32 from $EXAFOLD_OPENBLAS_ROOT where
# the machine has no .venv (the GPU machine reaches no package index: the package travels with
# the tree, docs/gpu.md).
nvcc=$(command -v nvcc || { [[ -x /usr/local/cuda/bin/nvcc ]] && echo /usr/local/cuda/bin/nvcc; } || true)
extra=()
[[ -n $nvcc && $cuda == ON ]] && extra+=("-DCMAKE_CUDA_COMPILER=$nvcc")
[[ -n ${EXAFOLD_OPENBLAS_ROOT:-} ]] && extra+=("-DEXAFOLD_OPENBLAS_ROOT=$EXAFOLD_OPENBLAS_ROOT")
configure=(cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "-DEXAFOLD_CUDA=$cuda"
           -DCMAKE_CUDA_ARCHITECTURES=90 -DEXAFOLD_BUILD_TESTS=ON -DEXAFOLD_BUILD_BENCH=ON
           -DEXAFOLD_PYTHON=OFF "${extra[@]}")
if ! step build 300 bash -c "$(printf '%q ' "${configure[@]}") && cmake --build $build -j $jobs --target exafold_tests gpu_model_bench"; then
  note "- every other step needs the build: stopped"
  exit 1
fi

# ptxas: the CUDA build's own compile commands. The rehearsal configures one (nvcc compiles
# without a GPU) where nvcc is installed, and says so where it is not.
ptxas_build=$build
if [[ $mode == rehearsal ]]; then
  if [[ -n $nvcc ]]; then
    ptxas_build=build/gpu-configure
    step ptxas_configure 120 cmake -S . -B "$ptxas_build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DEXAFOLD_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DEXAFOLD_PYTHON=OFF \
      "-DCMAKE_CUDA_COMPILER=$nvcc" || ptxas_build=
  else
    note "- ptxas: skipped (no nvcc on this machine)"
    ptxas_build=
  fi
fi
if [[ -n $ptxas_build ]]; then
  python3 cpp/tools/cuda_resources.py "$ptxas_build" >"$out/ptxas.md" 2>"$out/ptxas.log" &&
    note "- ptxas: ok ($(grep -c '^| ' "$out/ptxas.md") table rows, ptxas.md)" ||
    { note "- ptxas: FAILED (ptxas.log)"; failed=1; }
fi

tests=$build/tests/cpp/exafold_tests
step op_table 240 "$tests" --gtest_filter='BackendOps/Table.*/cuda_*:BackendOpsContract.Cuda*:GpuOps.*:CudaMemory.*'
grep -E '^  cuda ' "$out/op_table.log" >"$out/op_table.txt" || true
step model_parity 240 "$tests" --gtest_filter='CudaModel.*'
grep -E 'err|kernel launches|graph launches' "$out/model_parity.log" >"$out/model_parity.txt" || true
sed -n 's/^  kernel launches: /- kernel launches: /p' "$out/model_parity.log" | tee -a "$summary"
sed -n 's/^  graph launches: /- with CUDA graphs: /p' "$out/model_parity.log" | tee -a "$summary"

step benchmark 420 "$build/bench/gpu_model_bench" "${bench_args[@]}" --csv "$out/benchmark.csv" \
  --record "$results"
cat "$out/benchmark.log" >>"$summary"
# The AlphaFold2 reference on the GPU needs alphafold and haiku next to JAX; without them the
# comparison is not made, and the summary says so.
if python3 -c 'import alphafold, haiku, jax' >/dev/null 2>&1; then
  note "- reference: alphafold, haiku and JAX importable; its GPU timing is not scripted yet"
else
  note "- reference: not run (alphafold, haiku or JAX not importable here)"
fi
note ""
note "result: $([[ $failed == 0 ]] && echo ok || echo 'FAILED (see above)')"
exit $failed
