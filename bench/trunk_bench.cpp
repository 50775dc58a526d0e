// Host trunk: time per algorithm of one official-width Evoformer block (c_m 256, c_z 128) and of
// one extra-MSA block (c_e 64), float32, random parameters in the official layout.
//
//   trunk_bench [--residues N] [--msa S] [--extra E] [--chunk C] [--reps R] [--record FILE]
//
// Reports the median of R repetitions per module, the module's FLOPs (multiply-adds x 2 of its
// matrix products) and the achieved GFLOP/s.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "exafold/core/thread_pool.h"
#include "exafold/model/config.h"
#include "exafold/model/evoformer.h"
#include "exafold/model/msa_column_attention.h"
#include "exafold/model/msa_column_global_attention.h"
#include "exafold/model/msa_row_attention.h"
#include "exafold/model/outer_product_mean.h"
#include "exafold/model/params.h"
#include "exafold/model/transition.h"
#include "exafold/model/triangle_attention.h"
#include "exafold/model/triangle_multiplication.h"
#include "random_inputs.h"
#include "record.h"

namespace {

using namespace exafold;
using namespace exafold::model;
using bench::normal;
using bench::ones;
using bench::random_params;

double median_seconds(int reps, const std::function<void()>& fn) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 256, s = 128, e = 1024, chunk = 0;
  int reps = 3;
  std::string record;
  std::string command = argv[0];
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    command += " " + a;
    if (i + 1 >= argc) {
      std::fprintf(stderr, "missing value after %s\n", a.c_str());
      return 2;
    }
    const std::string v = argv[++i];
    command += " " + v;
    if (a == "--residues")
      n = std::stoll(v);
    else if (a == "--msa")
      s = std::stoll(v);
    else if (a == "--extra")
      e = std::stoll(v);
    else if (a == "--chunk")
      chunk = std::stoll(v);
    else if (a == "--reps")
      reps = std::stoi(v);
    else if (a == "--record")
      record = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }

  ModelConfig config = preset("model_3");
  config.evoformer_blocks = 1;
  config.extra_blocks = 1;
  const Params params = random_params(config);
  const ParamScope evo = ParamScope(params, "alphafold/alphafold_iteration/evoformer");
  std::mt19937 rng(2);
  const int64_t cm = config.c_m, cz = config.c_z, ce = config.c_e;
  const Tensor msa = normal({s, n, cm}, rng, 1), extra = normal({e, n, ce}, rng, 1);
  const Tensor pair = normal({n, n, cz}, rng, 1);
  const Tensor msa_mask = ones({s, n}), extra_mask = ones({e, n}), pair_mask = ones({n, n});
  // Each module adds its update to one of these (the residual, kept apart from the inputs).
  const Tensor msa_out = normal({s, n, cm}, rng, 0), extra_out = normal({e, n, ce}, rng, 0);
  const Tensor pair_out = normal({n, n, cz}, rng, 0);
  const double c = 2.0;  // FLOPs per multiply-add
  const TrunkDims& t = config.trunk;

  struct Row {
    std::string name;
    double flops;
    std::function<void()> run;
  };
  auto attention_flops = [&](double batch, double tokens, double width, double heads,
                             double pair_bias) {
    // q, k, v, gate and output projections; logits and weighted values; the pair bias
    return c * batch * tokens * width * width * 5 + c * batch * tokens * tokens * width * 2 +
           pair_bias * c * tokens * tokens * cz * heads;
  };
  const ParamScope b = evo / "evoformer_iteration", x = evo / "extra_msa_stack";
  std::vector<Row> rows = {
      {"evo row attention", attention_flops(s, n, cm, t.msa_row_heads, 1),
       [&] {
         msa_row_attention_with_pair_bias(b.block(0) / "msa_row_attention_with_pair_bias", msa,
                                          msa_mask, pair, chunk, msa_out);
       }},
      {"evo column attention", attention_flops(n, s, cm, t.msa_column_heads, 0),
       [&] {
         msa_column_attention(b.block(0) / "msa_column_attention", msa, msa_mask, chunk, msa_out);
       }},
      {"evo msa transition", c * s * n * cm * cm * 4 * 2,
       [&] { transition(b.block(0) / "msa_transition", msa, chunk, msa_out); }},
      {"evo outer product mean",
       c * s * n * cm * t.opm_channels * 2 + c * n * n * s * t.opm_channels * t.opm_channels +
           c * n * n * t.opm_channels * t.opm_channels * cz,
       [&] {
         outer_product_mean(b.block(0) / "outer_product_mean", msa, msa_mask, chunk, pair_out);
       }},
      {"evo trimul outgoing",
       c * n * n * cz * t.trimul_channels * 4 + c * n * n * n * t.trimul_channels +
           c * n * n * cz * (t.trimul_channels + cz),
       [&] {
         triangle_multiplication(b.block(0) / "triangle_multiplication_outgoing",
                                 TriangleEdges::outgoing, pair, pair_mask, chunk, pair_out);
       }},
      {"evo trimul incoming",
       c * n * n * cz * t.trimul_channels * 4 + c * n * n * n * t.trimul_channels +
           c * n * n * cz * (t.trimul_channels + cz),
       [&] {
         triangle_multiplication(b.block(0) / "triangle_multiplication_incoming",
                                 TriangleEdges::incoming, pair, pair_mask, chunk, pair_out);
       }},
      {"evo triangle attention start", attention_flops(n, n, cz, t.triangle_heads, 1),
       [&] {
         triangle_attention(b.block(0) / "triangle_attention_starting_node", TriangleNode::starting,
                            pair, pair_mask, chunk, pair_out);
       }},
      {"evo triangle attention end", attention_flops(n, n, cz, t.triangle_heads, 1),
       [&] {
         triangle_attention(b.block(0) / "triangle_attention_ending_node", TriangleNode::ending,
                            pair, pair_mask, chunk, pair_out);
       }},
      {"evo pair transition", c * n * n * cz * cz * 4 * 2,
       [&] { transition(b.block(0) / "pair_transition", pair, chunk, pair_out); }},
      {"extra row attention", attention_flops(e, n, ce, t.msa_row_heads, 1),
       [&] {
         msa_row_attention_with_pair_bias(x.block(0) / "msa_row_attention_with_pair_bias", extra,
                                          extra_mask, pair, chunk, extra_out);
       }},
      {"extra global column attention", c * e * n * ce * ce * 4,
       [&] {
         msa_column_global_attention(x.block(0) / "msa_column_global_attention", extra, extra_mask,
                                     chunk, extra_out);
       }},
      {"extra outer product mean",
       c * e * n * ce * t.opm_channels * 2 + c * n * n * e * t.opm_channels * t.opm_channels +
           c * n * n * t.opm_channels * t.opm_channels * cz,
       [&] {
         outer_product_mean(x.block(0) / "outer_product_mean", extra, extra_mask, chunk, pair_out);
       }},
  };

  char line[256];
  std::string table = "module                             ms     GFLOP   GFLOP/s\n";
  double total_s = 0, total_flops = 0;
  for (const Row& r : rows) {
    r.run();  // warm the allocator cache
    const double sec = median_seconds(reps, r.run);
    total_s += sec;
    total_flops += r.flops;
    std::snprintf(line, sizeof line, "%-30s %9.1f %9.2f %9.1f\n", r.name.c_str(), sec * 1e3,
                  r.flops * 1e-9, r.flops * 1e-9 / sec);
    table += line;
    std::fputs(line, stdout);
    std::fflush(stdout);
  }
  std::snprintf(line, sizeof line, "%-30s %9.1f %9.2f %9.1f\n", "total", total_s * 1e3,
                total_flops * 1e-9, total_flops * 1e-9 / total_s);
  table += line;
  std::fputs(line, stdout);
  if (!record.empty()) {
    char title[160];
    std::snprintf(title, sizeof title,
                  "Host trunk: one Evoformer and one extra-MSA block, N=%lld S=%lld E=%lld, "
                  "float32, %d threads",
                  (long long)n, (long long)s, (long long)e, thread_pool().num_threads());
    // The machine is shared: the load average says how much the numbers may be diluted.
    std::ifstream loadavg("/proc/loadavg");
    std::string load;
    std::getline(loadavg, load);
    bench::append_results(record, title, command, table,
                          "Median of the repetitions per module after one warm-up call; FLOPs "
                          "count the matrix products (2 per multiply-add). chunk " +
                              std::to_string(chunk) +
                              " (0: unchunked). /proc/loadavg at the "
                              "end: " +
                              load + ".");
  }
  return 0;
}
