#!/usr/bin/env bash
# Everything exafold measures on a GPU, in one call of at most 9 minutes on one H100 or H200
# (docs/gpu.md, "The device check"):
#   1. build in Release for sm_90 with every core;
#   2. registers, shared memory and spills of every kernel (ptxas -v);
#   3. the per-op table on the cuda backend, float32 and bfloat16, against float64;
#   4. the whole model on the GPU against the cpu's float64 run, and its kernel launches; at
#      full width (model_1_ptm), float32 and bfloat16 against the cpu's float64 run at S = 64,
#      and bfloat16 against float32 at S = 64, 256 and 512 (openfold#532);
#   5. the benchmark: model_1_ptm in bfloat16 at full width, 512 clusters, 5,120 extra rows,
#      3 recycles, no templates, at S = 128, 256, 512, 1024 and 2048 (seconds, peak memory,
#      launches, TFLOP/s, MFU), then in float32 at S = 128, 256 and 512 with the time left;
#   6. the AlphaFold2 reference (JAX) at the same settings, its subbatch_size tuned
#      (bench/gpu/reference_gpu_bench.py), started first: it runs on the GPU while exafold
#      builds on the CPUs, and is stopped, keeping what it measured, before exafold's GPU steps.
# Files go to $OUT (default build/device_check), at most 8, as the device machine returns them:
# summary.md (what ran, passed, failed or was skipped and why, so a failing step never hides
# the others' results), results.md (the bench/RESULTS.md entry, appended there by hand on the
# machine the files come back to), benchmark.csv, benchmark_float32.csv, reference.csv, ptxas.md
# and logs.tar.gz (every step's log). The whole call keeps inside EXAFOLD_DEVICE_CHECK_SECONDS (default 530).
#
#   bash bench/gpu/device_check.sh                      on the GPU machine
#   EXAFOLD_DEVICE_CHECK_REHEARSE=1 bash bench/gpu/device_check.sh
#       here, without a GPU: the same steps on the CPU emulation of CUDA at tiny sizes
#       (tests/run.sh runs this); with EXAFOLD_DEVICE_CHECK_KIT=1 too, built against
#       .device-kit (bench/gpu/pack_device_kit.sh) in build/emulation-kit.
# Time limits: EXAFOLD_DEVICE_CHECK_SECONDS for the whole call (default 530) and
# EXAFOLD_DEVICE_CHECK_BUILD_SECONDS for the build (default 300; a rehearsal from an empty
# build tree on two cores needs more).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${OUT:-$root/build/device_check}
logs=$out/logs
rm -rf "$logs"
mkdir -p "$out" "$logs"
summary=$out/summary.md
results=$out/results.md
: >"$summary"
: >"$results"
failed=0
budget=${EXAFOLD_DEVICE_CHECK_SECONDS:-530}

if [[ ${EXAFOLD_DEVICE_CHECK_REHEARSE:-0} == 1 ]]; then
  mode=rehearsal
  build=build/emulation
  cuda=EMULATE
  jobs=${EXAFOLD_BUILD_JOBS:-2}
  bench_args=(--preset reduced_ptm --dtype bfloat16 --lengths 16,24 --clusters 8 --extra 16
              --recycles 1 --peak-size 64)
  float32_args=(--preset reduced_ptm --dtype float32 --lengths 16 --clusters 8 --extra 16
                --recycles 1 --peak-size 64)
  full_width=reduced_ptm:16,24:8,12
  # model_1_ptm itself (the reference has no reduced preset of its own), at a tiny size.
  ref_args=(--lengths 16 --clusters 8 --extra 16 --recycles 1 --reps 1 --subbatches none,4)
  ref_limit=400
else
  mode=gpu
  build=build/gpu
  cuda=ON
  jobs=$(nproc)
  # 2,048 is the longest one prediction of which (twice, with its warm-up) fits the call at the
  # target speed (6.6e15 FLOP, 26 s at 25% MFU); the memory model's longest, 5,120 residues on
  # an H100 80GB and 6,656 on an H200, need 260 and 530 s a prediction there (docs/gpu.md).
  bench_args=(--preset model_1_ptm --dtype bfloat16 --lengths 128,256,512,1024,2048 --clusters 512
              --extra 5120 --recycles 3 --peak-size 8192)
  float32_args=(--preset model_1_ptm --dtype float32 --lengths 128,256,512 --clusters 512
                --extra 5120 --recycles 3 --peak-size 8192)
  # PRESET:LENGTHS:CLUSTERS,EXTRA of the full-width checks (tests/cpp/test_model_cuda.cpp): the
  # cpu's float64 run at the first length is their longest part.
  full_width=model_1_ptm:64,256,512:64,256
  ref_args=(--lengths 128,256,512,1024,2048 --clusters 512 --extra 5120 --recycles 3 --reps 2)
  ref_limit=270
fi

note() { echo "$*" | tee -a "$summary"; }

# Every log in one archive, so that the files stay within what the device machine returns.
finish() {
  tar czf "$out/logs.tar.gz" -C "$out" logs && rm -rf "$logs"
}
trap finish EXIT

# step NAME SECONDS COMMAND...: runs COMMAND with a time limit, its output in logs/NAME.log.
step() {
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" >"$logs/$name.log" 2>&1
  local rc=$?
  local took=$((SECONDS - t0))
  if [[ $rc == 0 ]]; then
    note "- $name: ok (${took} s)"
  else
    note "- $name: FAILED, exit $rc after ${took} s (last lines of $name.log below)"
    tail -n 15 "$logs/$name.log" | sed 's/^/      /' | tee -a "$summary"
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

# nvcc where CMake may not look for it. The GPU machine reaches no package index: what it lacks
# travels in .device-kit (bench/gpu/pack_device_kit.sh: HDF5, zlib, GoogleTest, scipy-openblas32
# and the reference's wheels), used when present; else scipy-openblas32 from
# $EXAFOLD_OPENBLAS_ROOT or .venv, and the rest from the system.
nvcc=$(command -v nvcc || { [[ -x /usr/local/cuda/bin/nvcc ]] && echo /usr/local/cuda/bin/nvcc; } || true)
extra=()
[[ -n $nvcc && $cuda == ON ]] && extra+=("-DCMAKE_CUDA_COMPILER=$nvcc")
# The rehearsal uses the kit only when asked (EXAFOLD_DEVICE_CHECK_KIT=1), in a build tree of its
# own, so that tests/run.sh's build/emulation stays as its earlier stage built it.
kit=$root/.device-kit
use_kit=0
if [[ -d $kit/prefix ]]; then
  if [[ $mode == gpu ]]; then
    use_kit=1
  elif [[ ${EXAFOLD_DEVICE_CHECK_KIT:-0} == 1 ]]; then
    use_kit=1
    build=build/emulation-kit
  fi
fi
if [[ $use_kit == 1 ]]; then
  arch=$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
  extra+=("-DCMAKE_PREFIX_PATH=$kit/prefix/usr" "-DEXAFOLD_HDF5_ROOT=$kit/prefix/usr"
          "-DEXAFOLD_OPENBLAS_ROOT=$kit/openblas")
  libs=$kit/prefix/usr/lib/$arch:$kit/prefix/lib/$arch
  # HDF5's own dependencies from the kit only where the system lacks them (they would shadow
  # the system's copies otherwise).
  for so in libcurl.so.4 libcrypto.so.3; do
    ldconfig -p 2>/dev/null | grep -q "[[:space:]]$so[[:space:]]" || { libs=$libs:$kit/fallback; break; }
  done
  export LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  note "- device kit: used (HDF5, zlib, GoogleTest, OpenBLAS from .device-kit; library path $libs)"
elif [[ -n ${EXAFOLD_OPENBLAS_ROOT:-} ]]; then
  extra+=("-DEXAFOLD_OPENBLAS_ROOT=$EXAFOLD_OPENBLAS_ROOT")
fi
# The reference: the GPU machine's python3 (which holds JAX) with the kit's wheels, or the
# parity harness's reference python in the rehearsal. Started now, on the GPU while exafold
# builds on the CPUs.
ref_python=python3
if [[ $mode == rehearsal ]]; then
  ref_python=$(bash tests/reference/env.sh 2>"$logs/reference_env.log") || ref_python=
elif [[ $use_kit == 1 && -d $kit/wheels ]]; then
  site=/tmp/exafold-reference-site
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$site" "$kit"/wheels/*.whl >"$logs/reference_wheels.log" 2>&1 &&
    export PYTHONPATH=$site${PYTHONPATH:+:$PYTHONPATH}
fi
ref_pid=
if [[ -n $ref_python ]] && "$ref_python" -c 'import alphafold, haiku, jax' >/dev/null 2>&1; then
  ref_t0=$SECONDS
  timeout "$ref_limit" "$ref_python" bench/gpu/reference_gpu_bench.py "${ref_args[@]}" \
    --csv "$out/reference.csv" >"$logs/reference.log" 2>&1 &
  ref_pid=$!
else
  note "- reference: not run (alphafold, haiku or JAX not importable by ${ref_python:-python3})"
fi

configure=(cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "-DEXAFOLD_CUDA=$cuda"
           -DCMAKE_CUDA_ARCHITECTURES=90 -DEXAFOLD_BUILD_TESTS=ON -DEXAFOLD_BUILD_BENCH=ON
           -DEXAFOLD_PYTHON=OFF "${extra[@]}")
if ! step build "${EXAFOLD_DEVICE_CHECK_BUILD_SECONDS:-300}" bash -c "$(printf '%q ' "${configure[@]}") && cmake --build $build -j $jobs --target exafold_tests gpu_model_bench"; then
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
  python3 cpp/tools/cuda_resources.py "$ptxas_build" >"$out/ptxas.md" 2>"$logs/ptxas.log" &&
    note "- ptxas: ok ($(grep -c '^| ' "$out/ptxas.md") table rows, ptxas.md)" ||
    { note "- ptxas: FAILED (ptxas.log)"; failed=1; }
fi

# The reference must be done before exafold's GPU steps time anything: what it measured by
# then is kept.
if [[ -n $ref_pid ]]; then
  wait "$ref_pid"
  rc=$?
  took=$((SECONDS - ref_t0))
  if [[ $rc == 0 ]]; then
    note "- reference: ok (${took} s)"
  else
    note "- reference: exit $rc after ${took} s ($([[ $rc == 124 ]] && echo 'its time limit: the lengths it finished are kept' || echo FAILED))"
    tail -n 8 "$logs/reference.log" | sed 's/^/      /' | tee -a "$summary"
    [[ $rc == 124 ]] || failed=1
  fi
  sed 's/^/    /' "$logs/reference.log" | grep -v '^    *Traceback\|^    *File ' | head -20 >>"$summary"
fi

tests=$build/tests/cpp/exafold_tests
step op_table 240 "$tests" --gtest_filter='BackendOps/Table.*/cuda_*:BackendOpsContract.Cuda*:GpuOps.*:CudaMemory.*'
step model_parity 240 "$tests" --gtest_filter='CudaModel.*'
grep -E 'err|kernel launches|graph launches' "$logs/model_parity.log" | sed 's/^/    /' >>"$summary" || true
sed -n 's/^  kernel launches /- kernel launches /p' "$logs/model_parity.log" | tee -a "$summary"
sed -n 's/^  graph launches: /- with CUDA graphs: /p' "$logs/model_parity.log" | tee -a "$summary"
step full_width 150 env EXAFOLD_FULL_WIDTH="$full_width" "$tests" \
  --gtest_filter='CudaModel.FullWidth*'
grep -E 'of tol|bf16 vs float32|radius of gyration|OK \]|FAILED \]' "$logs/full_width.log" |
  sed 's/^ */    /' >>"$summary"
{
  echo "## Full-width precision on CUDA ($mode)"
  echo ""
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; GPU: ${gpu:-none (the CPU emulation of CUDA)}"
  echo "- command: \`EXAFOLD_FULL_WIDTH=$full_width exafold_tests --gtest_filter='CudaModel.FullWidth*'\`"
  echo "  (preset:lengths:clusters,extra rows; 2 iterations; random parameters)"
  echo ""
  echo '```'
  grep -E 'of tol|bf16 vs float32|radius of gyration|OK \]|FAILED \]' "$logs/full_width.log" | sed 's/^ *//'
  echo '```'
  echo ""
} >>"$results"

# bench NAME LIMIT ARGS...: gpu_model_bench with a time limit. One stopped by it keeps the
# lengths it finished in NAME.csv (written after each length) and is no failure; an error is.
bench() {
  local name=$1 limit=$2 t0=$SECONDS rc
  shift 2
  timeout "$limit" "$build/bench/gpu_model_bench" "$@" --csv "$out/$name.csv" \
    --record "$results" >"$logs/$name.log" 2>&1
  rc=$?
  case $rc in
    0) note "- $name: ok ($((SECONDS - t0)) s)" ;;
    124) note "- $name: stopped at its limit of $limit s (the lengths it finished are in $name.csv)" ;;
    *) note "- $name: FAILED, exit $rc"; failed=1 ;;
  esac
  cat "$logs/$name.log" >>"$summary"
}
left=$((budget - SECONDS - 15))
if ((left < 30)); then
  note "- benchmark: skipped (${left} s of the ${budget} s budget left)"
  failed=1
else
  # bfloat16 first, with three quarters of what is left; the float32 row gets the rest.
  bench benchmark $((left * 3 / 4)) "${bench_args[@]}"
  left=$((budget - SECONDS - 15))
  if ((left < 30)); then
    note "- benchmark_float32: skipped (${left} s of the ${budget} s budget left)"
  else
    bench benchmark_float32 "$left" "${float32_args[@]}"
  fi
fi
if [[ -s $out/reference.csv && -s $out/benchmark.csv ]]; then
  python3 bench/gpu/reference_gpu_bench.py --compare "$out/benchmark.csv" "$out/reference.csv" \
    --record "$results" >>"$summary" 2>&1 || { note "- comparison: FAILED"; failed=1; }
fi
note ""
note "result: $([[ $failed == 0 ]] && echo ok || echo 'FAILED (see above)')"
exit $failed
