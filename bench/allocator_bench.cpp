// Caching allocator against plain malloc for the allocation pattern of a model forward pass.
//
// The pattern replays, for each of 8 Evoformer blocks (the pattern repeats per block), the
// activations one block allocates at S residues and N MSA rows (float32): the layer-normed inputs,
// projections, attention chunks, transition intermediates and the updated representations, with
// their lifetimes. Every allocation is written once per 4 KiB page, as an op writing its output
// would, so the cost of fresh pages (page faults) that malloc pays for large blocks is counted.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "exafold/memory/allocator.h"
#include "exafold/memory/caching_allocator.h"
#include "exafold/memory/device.h"
#include "record.h"

namespace {

struct Step {
  bool alloc;
  int slot;
  size_t bytes;
};

std::vector<Step> forward_pattern(size_t s, size_t n, int blocks) {
  const size_t f = 4, cm = 256, cz = 128, heads = 8, chunk = 64;
  std::vector<Step> steps;
  int next = 0;
  auto alloc = [&](size_t bytes) {
    steps.push_back({true, next, bytes});
    return next++;
  };
  auto release = [&](int slot) { steps.push_back({false, slot, 0}); };
  int msa = alloc(n * s * cm * f), pair = alloc(s * s * cz * f);
  for (int b = 0; b < blocks; ++b) {
    // MSA row attention with pair bias, chunked over rows.
    int ln = alloc(n * s * cm * f), bias = alloc(heads * s * s * f);
    int qkvg = alloc(4 * n * s * cm * f);
    for (size_t r = 0; r < n; r += chunk) {
      int logits = alloc(chunk * heads * s * s * f);
      release(logits);
    }
    int out = alloc(n * s * cm * f);
    release(qkvg), release(bias), release(ln);
    release(msa), msa = out;
    // Column attention, MSA transition (4x), outer product mean.
    int t = alloc(n * s * cm * 4 * f);
    release(t);
    int opm = alloc(s * s * 32 * 32 * f / 8);
    release(opm);
    // Triangle multiplications and attentions on the pair, transition.
    for (int k = 0; k < 4; ++k) {
      int a = alloc(s * s * cz * f), g = alloc(s * s * cz * f), o = alloc(s * s * cz * f);
      release(a), release(g);
      release(pair), pair = o;
    }
    int pt = alloc(s * s * cz * 4 * f);
    release(pt);
  }
  release(msa), release(pair);
  return steps;
}

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

template <class Alloc, class Free>
double run(const std::vector<Step>& steps, Alloc alloc, Free free_fn, long* faults) {
  std::vector<void*> slots(steps.size(), nullptr);
  const long f0 = minor_faults();
  auto t0 = std::chrono::steady_clock::now();
  for (const Step& st : steps) {
    if (st.alloc) {
      char* p = static_cast<char*>(alloc(st.bytes));
      for (size_t o = 0; o < st.bytes; o += 4096) p[o] = 1;
      slots[size_t(st.slot)] = p;
    } else {
      free_fn(slots[size_t(st.slot)]);
    }
  }
  auto t1 = std::chrono::steady_clock::now();
  *faults = minor_faults() - f0;
  return std::chrono::duration<double>(t1 - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string record;
  int reps = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--record" && i + 1 < argc)
      record = argv[++i];
    else if (a == "--reps" && i + 1 < argc)
      reps = std::atoi(argv[++i]);
  }
  using exafold::Device;
  using exafold::MemoryKind;
  exafold::Allocator& cache = exafold::get_allocator(Device::cpu(), MemoryKind::host);

  std::string table;
  char line[256];
  std::snprintf(line, sizeof line, "%-14s %8s %12s %12s %12s %12s %8s\n", "S x N", "allocs",
                "malloc ms", "caching ms", "malloc flt", "caching flt", "ratio");
  table += line;
  for (auto [s, n] : {std::pair<size_t, size_t>{128, 128}, {256, 128}}) {
    auto steps = forward_pattern(s, n, 8);
    size_t allocs =
        size_t(std::count_if(steps.begin(), steps.end(), [](auto& x) { return x.alloc; }));
    std::vector<double> tm, tc;
    long fm = 0, fc = 0;
    run(
        steps, [&](size_t b) { return cache.allocate(b); }, [&](void* p) { cache.deallocate(p); },
        &fc);  // warm the cache once, as the second and later predictions of a run see it
    for (int r = 0; r < reps; ++r) {
      tm.push_back(run(
          steps, [](size_t b) { return std::aligned_alloc(64, (b + 63) / 64 * 64); },
          [](void* p) { std::free(p); }, &fm));
      tc.push_back(run(
          steps, [&](size_t b) { return cache.allocate(b); }, [&](void* p) { cache.deallocate(p); },
          &fc));
    }
    const double mm = median(tm) * 1e3, mc = median(tc) * 1e3;
    std::snprintf(line, sizeof line, "%4zu x %-7zu %8zu %12.2f %12.2f %12ld %12ld %7.1fx\n", s, n,
                  allocs, mm, mc, fm, fc, mm / mc);
    table += line;
  }
  std::fputs(table.c_str(), stdout);
  if (!record.empty()) {
    std::string cmd;
    for (int i = 0; i < argc; ++i) cmd += (i ? " " : "") + std::string(argv[i]);
    exafold::bench::append_results(
        record, "Caching allocator vs malloc: forward-pass allocation pattern", cmd, table,
        "Median of " + std::to_string(reps) +
            " passes of 8 Evoformer blocks' activation allocations (float32), each written once "
            "per 4 KiB page; flt = minor page faults in the last pass; ratio = malloc time / "
            "caching time. The cache is warm (as from the second prediction of a run on).");
  }
  return 0;
}
