// The memory model mirrors the allocations of the modules it names (each term cites the
// Scratch or Tensor it stands for); a change to a module's temporaries must change it too, and
// tests/python/test_memory_model.py holds it to the allocator's measured peak.
#include "exafold/model/memory_model.h"

#include <algorithm>
#include <initializer_list>
#include <vector>

#include "exafold/core/error.h"
#include "exafold/core/thread_pool.h"
#include "exafold/memory/format.h"
#include "model/trunk_common.h"

namespace exafold::model {

namespace {

// The caching allocator hands out multiples of 512 bytes (caching_allocator.cpp, kRound).
constexpr int64_t kRound = 512;

struct Sizes {
  int64_t item;     ///< bytes per element
  int64_t chunk;    ///< run_model's chunk_size
  int64_t threads;  ///< concurrent tasks of a parallel_for

  /// Allocator bytes of one allocation of n elements.
  int64_t b(int64_t n) const {
    return std::max<int64_t>(1, (n * item + kRound - 1) / kRound) * kRound;
  }
  int64_t sum(std::initializer_list<int64_t> counts) const {
    int64_t t = 0;
    for (int64_t n : counts) t += b(n);
    return t;
  }
  int64_t rows(int64_t n) const { return detail::chunk_rows(chunk, n); }
  /// ops::attention on `batch` entries with hk = hv = c (AlphaFold2's attentions split the input
  /// width over the heads): q, k, v, o, then either one [n_q, n_k] logits block per concurrent
  /// task or, after those are freed, the gate.
  int64_t attention(int64_t batch, int64_t n_q, int64_t n_k, int64_t c, int64_t heads) const {
    const int64_t tasks = std::min(threads, batch * heads);
    return sum({batch * n_q * c, batch * n_k * c, batch * n_k * c, batch * n_q * c}) +
           std::max(tasks * b(n_q * n_k), b(batch * n_q * c));
  }
};

/// Peak above the live activations of one Evoformer / extra-MSA block on act [r, n, c] and
/// pair [n, n, c_z]: the largest module, whose update is live until its residual add.
int64_t block_peak(const ModelConfig& cfg, const Sizes& z, int64_t r, int64_t n, int64_t c,
                   bool global_column) {
  const TrunkDims& t = cfg.trunk;
  const int64_t cz = cfg.c_z, nn = n * n;
  const int64_t out_msa = z.b(r * n * c), out_pair = z.b(nn * cz);
  std::vector<int64_t> phases;

  // msa_row_attention_with_pair_bias: pair_bias (bias [H, N, N], its x and proj scratch), then
  // key_bias, out, x and the attention over chunks of rows.
  {
    const int64_t bias2d = z.b(t.msa_row_heads * nn), rn = z.rows(n), rs = z.rows(r);
    phases.push_back(bias2d + z.sum({rn * n * cz, rn * n * t.msa_row_heads}));
    phases.push_back(bias2d + z.b(r * n) + out_msa + z.b(rs * n * c) +
                     z.attention(rs, n, n, c, t.msa_row_heads));
  }
  const int64_t rn = z.rows(n);
  if (!global_column) {
    // msa_column_attention: key_bias, out, x, y, attention over chunks of columns
    phases.push_back(z.b(n * r) + out_msa + z.sum({rn * r * c, rn * r * c}) +
                     z.attention(rn, r, r, c, t.msa_column_heads));
  } else {
    // msa_column_global_attention: every Scratch is declared before its loop; the per-task
    // logits [heads, E] come on top.
    const int64_t h = t.msa_column_heads, d = c / h, tasks = std::min<int64_t>(z.threads, rn);
    phases.push_back(z.b(n * r) + out_msa +
                     z.sum({rn * r * c, rn * c, rn * c, rn * r * d, rn * r * d, rn * c, rn * r * c,
                            rn * r * c}) +
                     tasks * z.b(h * r));
  }
  // msa_transition: out, xn, h
  {
    const int64_t rs = z.rows(r);
    phases.push_back(out_msa + z.sum({rs * n * c, rs * n * c * t.transition_factor}));
  }
  // outer_product_mean: a, b and x; then a, b, norm, out, outer and flat
  {
    const int64_t co = t.opm_channels, ab = z.sum({r * n * co, r * n * co});
    phases.push_back(ab + z.b(z.rows(r) * n * c));
    phases.push_back(ab + z.b(nn) + out_pair + z.sum({rn * co * n * co, rn * n * co * co}));
  }
  // triangle_multiplication: a, b [c_i, N, N] and x; proj and gate while projecting, then out,
  // prod, center and gate
  {
    const int64_t ci = t.trimul_channels, base = z.sum({ci * nn, ci * nn, rn * n * cz});
    phases.push_back(base + z.sum({rn * n * ci, rn * n * ci}));
    phases.push_back(base + out_pair + z.sum({ci * rn * n, rn * n * ci, rn * n * cz}));
  }
  // triangle_attention: pair_bias as above, then key_bias [N, N], out, x, y and the attention
  {
    const int64_t bias2d = z.b(t.triangle_heads * nn);
    phases.push_back(bias2d + z.sum({rn * n * cz, rn * n * t.triangle_heads}));
    phases.push_back(bias2d + z.b(nn) + out_pair + z.sum({rn * n * cz, rn * n * cz}) +
                     z.attention(rn, n, n, cz, t.triangle_heads));
  }
  // pair_transition: out, xn, h
  phases.push_back(out_pair + z.sum({rn * n * cz, rn * n * cz * t.transition_factor}));
  return *std::max_element(phases.begin(), phases.end());
}

/// What one iteration leaves for the next: the trunk's msa, pair and single, the structure
/// module's outputs and the heads' (the previous IterationOutputs stay live in run_model until
/// the next iteration returns).
int64_t iteration_outputs(const ModelConfig& cfg, const Sizes& z, int64_t s, int64_t n) {
  const StructureDims& sm = cfg.structure;
  const int64_t nn = n * n;
  int64_t bytes = z.sum({s * n * cfg.c_m, nn * cfg.c_z, n * cfg.c_s});
  bytes += z.sum({n * 37 * 3, n * sm.channels, sm.layers * n * 7, sm.layers * n * 14,
                  sm.layers * n * 14, n * 14 * 3});
  bytes += z.sum({nn * cfg.distogram_bins, s * n * 23, n * 37, n * cfg.plddt_bins, n});
  if (cfg.ptm) bytes += z.sum({nn * cfg.pae_bins, nn * cfg.pae_bins, nn});
  return bytes;
}

}  // namespace

int64_t predict_peak_bytes(const ModelConfig& cfg, const MemoryWorkload& w, int64_t chunk_size,
                           DType dtype) {
  // A single-sequence input has no extra-MSA rows; everything else is at least one.
  check(w.residues > 0 && w.clusters > 0 && w.extra_rows >= 0 && w.iterations > 0,
        "predict_peak_bytes needs positive sizes (extra rows may be 0), got N = ", w.residues,
        ", S = ", w.clusters, ", E = ", w.extra_rows, ", iterations = ", w.iterations);
  const Sizes z{int64_t(dtype_size(dtype)), chunk_size,
                w.threads > 0 ? w.threads : thread_pool().num_threads()};
  const int64_t n = w.residues, s = w.clusters, e = w.extra_rows, nn = n * n;

  // Live through the last iteration's trunk: the previous iteration's outputs (or, in a single
  // pass, the zero recycled inputs), pair_mask, and the embedded msa and pair.
  const int64_t recycled = w.iterations > 1 ? iteration_outputs(cfg, z, s, n)
                                            : z.sum({n * cfg.c_m, nn * cfg.c_z, n * 37 * 3});
  const int64_t trunk = recycled + z.sum({nn, s * n * cfg.c_m, nn * cfg.c_z});
  const int64_t extra_stack =
      trunk + z.b(e * n * cfg.c_e) + block_peak(cfg, z, e, n, cfg.c_e, true);
  const int64_t evoformer = trunk + block_peak(cfg, z, s, n, cfg.c_m, false);

  // Heads: next to the recycled inputs and this iteration's trunk and structure outputs, the
  // distogram's half logits live until run_heads returns, with all its N^2 outputs.
  const int64_t heads = recycled + iteration_outputs(cfg, z, s, n) + z.b(nn * cfg.distogram_bins);
  return std::max({extra_stack, evoformer, heads});
}

int64_t choose_chunk(const ModelConfig& cfg, const MemoryWorkload& w, int64_t budget_bytes,
                     DType dtype) {
  if (predict_peak_bytes(cfg, w, 0, dtype) <= budget_bytes) return 0;
  // The peak does not grow as the chunk shrinks, so a binary search finds the largest that fits.
  const int64_t longest = std::max({w.residues, w.clusters, w.extra_rows});
  const int64_t smallest = predict_peak_bytes(cfg, w, 1, dtype);
  check<OutOfMemory>(smallest <= budget_bytes, "no chunk size fits ", format_bytes(budget_bytes),
                     ": N = ", w.residues, ", S = ", w.clusters, ", E = ", w.extra_rows,
                     " needs at least ", format_bytes(smallest), " (chunk 1)");
  int64_t lo = 1, hi = longest;
  while (lo < hi) {
    const int64_t mid = (lo + hi + 1) / 2;
    if (predict_peak_bytes(cfg, w, mid, dtype) <= budget_bytes)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

}  // namespace exafold::model
