#include "exafold/sched/cost_model.h"

#include <array>
#include <cmath>
#include <set>

#include "exafold/core/error.h"
#include "exafold/sched/flat_json.h"

namespace exafold::sched {
namespace {

// FLOPs of a Linear from a to b channels, per row.
double lin(int64_t a, int64_t b) { return 2.0 * double(a) * double(b); }

class Breakdown {
 public:
  // Adds `times` copies of a module's per-invocation polynomial under `name`.
  void add(const std::string& name, double times, FlopPolynomial p) {
    p.c3 *= times, p.c2 *= times, p.c1 *= times, p.c0 *= times;
    for (auto& m : modules_) {
      if (m.module == name) {
        m.flops += p;
        return;
      }
    }
    modules_.push_back({name, p});
  }
  std::vector<ModuleFlops> take() { return std::move(modules_); }

 private:
  std::vector<ModuleFlops> modules_;
};

struct MsaStackShape {
  double rows, c_m, heads, head_dim;
  bool global_column;  // extra-MSA stack: global column attention (Alg 19)
};

// Pair-track modules shared by the Evoformer, the extra-MSA stack and the template pair stack
// (Alg 11-15). Triangle attention logits take the triangle bias and the mask: 2 FLOPs each.
void add_pair_track(Breakdown& b, const std::string& stack, double times, int64_t c, int64_t trimul,
                    int64_t heads, int64_t head_dim, int64_t transition) {
  const double hd = double(heads * head_dim);
  // Two triangle multiplications: a, b and their gates (4 Linears), the S^3 einsum, output
  // Linear and output gate.
  b.add(stack + ".triangle_multiplication", 2 * times,
        {2.0 * double(trimul), 4 * lin(c, trimul) + lin(trimul, c) + lin(c, c), 0, 0});
  // Two triangle attentions: q, k, v, gate, bias projection, QK^T and AV over S^3, output.
  b.add(stack + ".triangle_attention", 2 * times,
        {2 * 2 * hd + 2.0 * double(heads),
         4 * lin(c, heads * head_dim) + lin(c, heads) + lin(heads * head_dim, c), 0, 0});
  b.add(stack + ".pair_transition", times, {0, 2 * lin(c, transition * c), 0, 0});
}

void add_msa_stack(Breakdown& b, const std::string& stack, double times, const MsaStackShape& s,
                   const CostDims& d) {
  const double R = s.rows, hd = s.heads * s.head_dim;
  const auto c_m = int64_t(s.c_m), h = int64_t(s.heads), hdi = int64_t(hd);
  // Row attention with pair bias (Alg 7): q, k, v, gate and output Linears per MSA entry; the
  // pair bias projection per pair; QK^T and AV per row; pair bias and mask added to logits.
  b.add(stack + ".msa_row_attention", times,
        {0, lin(d.c_z, h) + R * (2 * 2 * hd + 2 * s.heads), R * (4 * lin(c_m, hdi) + lin(hdi, c_m)),
         0});
  if (s.global_column) {
    // Global column attention (Alg 19): one averaged query per column, single-head k and v.
    b.add(stack + ".msa_global_column_attention", times,
          {0, 0,
           lin(c_m, hdi) + R * (2 * lin(c_m, int64_t(s.head_dim)) + lin(c_m, hdi) + lin(hdi, c_m)) +
               R * (2 * 2 * hd + s.heads),
           0});
  } else {
    // Column attention (Alg 8): attention over rows, so R^2 per column; mask bias only.
    b.add(stack + ".msa_column_attention", times,
          {0, 0, R * (4 * lin(c_m, hdi) + lin(hdi, c_m)) + R * R * (2 * 2 * hd + s.heads), 0});
  }
  b.add(stack + ".msa_transition", times, {0, 0, R * 2 * lin(c_m, d.transition_factor * c_m), 0});
  // Outer product mean (Alg 10): a and b projections, the outer product summed over rows, output.
  const int64_t o = d.outer_product_channels;
  b.add(stack + ".outer_product_mean", times,
        {0, R * 2.0 * double(o * o) + lin(o * o, d.c_z), R * 2 * lin(c_m, o), 0});
  add_pair_track(b, stack, times, d.c_z, d.trimul_channels, d.pair_heads, d.pair_head_dim,
                 d.transition_factor);
}

}  // namespace

double FlopPolynomial::at(double s) const { return ((c3 * s + c2) * s + c1) * s + c0; }

FlopPolynomial& FlopPolynomial::operator+=(const FlopPolynomial& o) {
  c3 += o.c3, c2 += o.c2, c1 += o.c1, c0 += o.c0;
  return *this;
}

std::vector<ModuleFlops> flop_breakdown(const CostDims& d, const CostWorkload& w) {
  check(w.passes >= 1, "a prediction needs at least one pass, got ", w.passes);
  check(w.msa_clusters >= 1 && w.extra_msa_rows >= 0 && w.templates >= 0,
        "invalid workload: msa_clusters=", w.msa_clusters, " extra_msa_rows=", w.extra_msa_rows,
        " templates=", w.templates);
  Breakdown b;
  const double P = double(w.passes), N = double(w.msa_clusters), E = double(w.extra_msa_rows),
               T = double(w.templates);

  // Input embedder (Alg 3) and relative positions (Alg 4): target features to the two pair
  // halves and the MSA, MSA features, and the one-hot relative position Linear per pair.
  b.add(
      "input_embedder", P,
      {0, lin(d.relpos_bins, d.c_z),
       2 * lin(d.target_feat, d.c_z) + lin(d.target_feat, d.c_m) + N * lin(d.msa_feat, d.c_m), 0});
  // Recycling embedder (Alg 32): the distance one-hot Linear per pair.
  b.add("recycling_embedder", P, {0, lin(d.recycle_dist_bins, d.c_z), 0, 0});

  if (w.templates > 0) {
    // Template pair features, the template pair stack per template (Alg 16), pointwise
    // attention of the pair over templates (Alg 17), and the template angle rows (Alg 2 l.7-8).
    // All but the point-wise attention depend on the templates alone (templates_embedded_once).
    const double E_t = w.templates_embedded_once ? 1.0 : P;
    b.add("template_pair_embedder", E_t * T, {0, lin(d.template_pair_feat, d.c_t), 0, 0});
    add_pair_track(b, "template_pair_stack", E_t * T * double(d.template_pair_blocks), d.c_t,
                   d.template_trimul_channels, d.template_pair_heads, d.template_pair_head_dim,
                   d.template_transition_factor);
    // Per pair entry: its query, the keys and values of its T templates, QK^T and AV over the
    // templates, the template mask on every logit, and the output.
    const int64_t hd = d.template_pointwise_heads * d.template_pointwise_head_dim;
    b.add("template_pointwise_attention", P,
          {0,
           lin(d.c_z, hd) + T * 2 * lin(d.c_t, hd) + T * 2 * 2 * double(hd) +
               T * double(d.template_pointwise_heads) + lin(hd, d.c_z),
           0, 0});
    b.add("template_angle_embedder", E_t * T,
          {0, 0, lin(d.template_angle_feat, d.c_m) + lin(d.c_m, d.c_m), 0});
  }

  if (w.extra_msa_rows > 0) {
    b.add("extra_msa_embedder", P, {0, 0, E * lin(d.extra_msa_feat, d.c_e), 0});
    add_msa_stack(b, "extra_msa_stack", P * double(d.extra_msa_blocks),
                  {E, double(d.c_e), double(d.extra_msa_heads), double(d.extra_msa_head_dim), true},
                  d);
  }
  // The template angle features join the MSA as extra rows of the Evoformer.
  add_msa_stack(b, "evoformer", P * double(d.evoformer_blocks),
                {N + T, double(d.c_m), double(d.msa_heads), double(d.msa_head_dim), false}, d);
  b.add("single_projection", P, {0, 0, lin(d.c_m, d.c_s), 0});

  // Structure module (Alg 20): the input Linear once per pass, then IPA (Alg 22), transition,
  // backbone update and the angle resnet per layer. IPA logits add the pair bias, the point
  // term and the mask (3 FLOPs); the point term's cross product q.k is counted as a matmul.
  const int64_t H = d.ipa_heads, C = d.ipa_head_dim, Pq = d.ipa_qk_points, Pv = d.ipa_v_points;
  const int64_t proj = H * C * 3 + H * (Pq * 3) + H * (Pq + Pv) * 3;
  const int64_t concat = H * (C + Pv * 4 + d.c_z);
  const int64_t a = d.angle_channels;
  b.add("structure_module.input", P, {0, 0, lin(d.c_s, d.c_s), 0});
  b.add("structure_module.ipa", P * double(d.structure_layers),
        {0,
         lin(d.c_z, H) + 2.0 * double(H * C) * 2 + 2.0 * double(H * Pq * 3) + 3.0 * double(H) +
             2.0 * double(H * Pv * 3) + 2.0 * double(H * d.c_z),
         lin(d.c_s, proj) + lin(concat, d.c_s), 0});
  b.add("structure_module.transition", P * double(d.structure_layers),
        {0, 0, 3 * lin(d.c_s, d.c_s) + lin(d.c_s, 6), 0});
  b.add("structure_module.angle_resnet", P * double(d.structure_layers),
        {0, 0, 2 * lin(d.c_s, a) + 4 * lin(a, a) + lin(a, 14), 0});

  // Heads run once, on the last pass's representations (OpenFold's aux_heads).
  b.add("heads.distogram", 1, {0, lin(d.c_z, d.distogram_bins), 0, 0});
  if (d.ptm_head) b.add("heads.predicted_aligned_error", 1, {0, lin(d.c_z, d.pae_bins), 0, 0});
  b.add("heads.plddt", 1,
        {0, 0,
         lin(d.c_s, d.plddt_hidden) + lin(d.plddt_hidden, d.plddt_hidden) +
             lin(d.plddt_hidden, d.plddt_bins),
         0});
  b.add("heads.masked_msa", 1, {0, 0, N * lin(d.c_m, d.msa_classes), 0});
  b.add("heads.experimentally_resolved", 1, {0, 0, lin(d.c_s, d.atom_types), 0});
  return b.take();
}

FlopPolynomial flop_polynomial(const CostDims& dims, const CostWorkload& work) {
  FlopPolynomial total;
  for (const auto& m : flop_breakdown(dims, work)) total += m.flops;
  return total;
}

double prediction_flops(int64_t residues, const CostDims& dims, const CostWorkload& work) {
  check(residues >= 1, "sequence length must be positive, got ", residues);
  return flop_polynomial(dims, work).at(double(residues));
}

double DeviceTimeModel::seconds(int64_t residues, double flops) const {
  const double s = double(residues);
  return flop_seconds * flops + pair_seconds * s * s + overhead_seconds;
}

DeviceTimeModel DeviceTimeModel::fit(std::string device, std::span<const TimedRun> runs) {
  std::set<int64_t> lengths;
  for (const auto& r : runs) {
    check(r.residues >= 1 && r.flops > 0 && r.seconds > 0 && std::isfinite(r.seconds),
          "timed run needs positive residues, flops and seconds, got residues=", r.residues,
          " flops=", r.flops, " seconds=", r.seconds);
    lengths.insert(r.residues);
  }
  check(lengths.size() >= 3,
        "fitting the time model needs runs at three or more distinct lengths, got ",
        lengths.size());
  // Columns are scaled to unit max so the normal equations stay well conditioned although FLOPs
  // (~1e15) and S^2 (~1e5) differ by ten orders of magnitude.
  std::array<double, 3> scale{0, 0, 1};
  for (const auto& r : runs) {
    scale[0] = std::max(scale[0], r.flops);
    scale[1] = std::max(scale[1], double(r.residues) * double(r.residues));
  }
  double A[3][4] = {};
  for (const auto& r : runs) {
    const double x[3] = {r.flops / scale[0], double(r.residues) * double(r.residues) / scale[1], 1};
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) A[i][j] += x[i] * x[j];
      A[i][3] += x[i] * r.seconds;
    }
  }
  // Gaussian elimination with partial pivoting on the 3x3 normal equations.
  for (int col = 0; col < 3; ++col) {
    int piv = col;
    for (int r = col + 1; r < 3; ++r)
      if (std::abs(A[r][col]) > std::abs(A[piv][col])) piv = r;
    check(
        std::abs(A[piv][col]) > 1e-12,
        "the runs do not determine the time model: FLOPs and S^2 are collinear over these lengths");
    for (int k = 0; k < 4; ++k) std::swap(A[col][k], A[piv][k]);
    for (int r = 0; r < 3; ++r) {
      if (r == col) continue;
      const double f = A[r][col] / A[col][col];
      for (int k = col; k < 4; ++k) A[r][k] -= f * A[col][k];
    }
  }
  DeviceTimeModel m;
  m.device = std::move(device);
  m.flop_seconds = A[0][3] / A[0][0] / scale[0];
  m.pair_seconds = A[1][3] / A[1][1] / scale[1];
  m.overhead_seconds = A[2][3] / A[2][2];
  return m;
}

std::string DeviceTimeModel::to_json() const {
  return JsonWriter()
      .add("device", device)
      .add("flop_seconds", flop_seconds)
      .add("pair_seconds", pair_seconds)
      .add("overhead_seconds", overhead_seconds)
      .str();
}

DeviceTimeModel DeviceTimeModel::from_json(std::string_view text) {
  const JsonObject o = JsonObject::parse(text);
  DeviceTimeModel m;
  m.device = o.string("device");
  m.flop_seconds = o.number("flop_seconds");
  m.pair_seconds = o.number("pair_seconds");
  m.overhead_seconds = o.number("overhead_seconds");
  check(std::isfinite(m.flop_seconds) && std::isfinite(m.pair_seconds) &&
            std::isfinite(m.overhead_seconds),
        "time model JSON has a non-finite coefficient: ", text);
  return m;
}

}  // namespace exafold::sched
