// Length buckets: Note [Length buckets] in the header.
#include "exafold/model/length_buckets.h"

#include <bit>
#include <initializer_list>

#include "exafold/core/error.h"
#include "exafold/ops/elementwise.h"

namespace exafold::model {

int64_t bucket_length(int64_t n) {
  check(n >= 1, "a length bucket needs at least 1 residue, got ", n);
  const int log2_ceil = int(std::bit_width(uint64_t(n - 1)));  // ceil(log2 n) for n >= 2
  const int64_t step = log2_ceil > 8 ? int64_t(1) << (log2_ceil - 4) : 16;
  return (n + step - 1) / step * step;
}

bool pads_to_bucket(const RunOptions& options) {
  return options.length_buckets.value_or(options.device.is_cuda());
}

namespace {

/// t with each of `axes` extended to `length` by zeros, on t's device.
Tensor pad(const Tensor& t, std::initializer_list<int> axes, int64_t length) {
  Shape shape = t.shape();
  for (int a : axes) shape[size_t(a)] = length;
  Tensor out = ops::zeros(shape, t.dtype(), t.device());
  Tensor real = out;
  for (int a : axes) real = real.slice(a, 0, t.size(a));
  ops::copy(real, t);
  return out;
}

/// The first n entries along each of `axes`, contiguous: a strided view of a device tensor
/// cannot be migrated to the host, which is where a prediction's outputs go.
Tensor crop(const Tensor& t, std::initializer_list<int> axes, int64_t n) {
  if (!t.defined()) return t;
  Tensor view = t;
  for (int a : axes) view = view.slice(a, 0, n);
  return ops::contiguous(view);
}

}  // namespace

ModelFeatures pad_features(const ModelFeatures& f, int64_t length) {
  const TrunkFeatures& t = f.trunk;
  check(t.aatype.defined() && t.aatype.rank() == 1, "aatype must be [N]");
  const int64_t n = t.aatype.size(0);
  check(length >= n, "cannot pad ", n, " residues to ", length);
  check(t.templates.count() == 0,
        "features with templates are not padded (Note [Length buckets and templates])");
  ModelFeatures p;
  p.trunk.aatype = pad(t.aatype, {0}, length);
  p.trunk.residue_index = pad(t.residue_index, {0}, length);
  p.trunk.seq_mask = pad(t.seq_mask, {0}, length);
  p.trunk.target_feat = pad(t.target_feat, {0}, length);
  p.trunk.msa_feat = pad(t.msa_feat, {1}, length);
  p.trunk.msa_mask = pad(t.msa_mask, {1}, length);
  p.trunk.extra_msa = pad(t.extra_msa, {1}, length);
  p.trunk.extra_msa_mask = pad(t.extra_msa_mask, {1}, length);
  p.trunk.extra_has_deletion = pad(t.extra_has_deletion, {1}, length);
  p.trunk.extra_deletion_value = pad(t.extra_deletion_value, {1}, length);
  p.residx_atom37_to_atom14 = pad(f.residx_atom37_to_atom14, {0}, length);
  p.atom37_atom_exists = pad(f.atom37_atom_exists, {0}, length);
  p.atom14_atom_exists = pad(f.atom14_atom_exists, {0}, length);
  return p;
}

IterationOutputs crop_outputs(const IterationOutputs& o, int64_t n) {
  IterationOutputs c = o;
  c.trunk.msa = crop(o.trunk.msa, {1}, n);
  c.trunk.pair = crop(o.trunk.pair, {0, 1}, n);
  c.trunk.single = crop(o.trunk.single, {0}, n);
  c.trunk.msa_first_row = crop(o.trunk.msa_first_row, {0}, n);
  StructureModuleOutputs& s = c.structure;
  s.final_atom_positions = crop(o.structure.final_atom_positions, {0}, n);
  s.final_atom_mask = crop(o.structure.final_atom_mask, {0}, n);
  s.representation = crop(o.structure.representation, {0}, n);
  s.traj = crop(o.structure.traj, {1}, n);
  s.angles_sin_cos = crop(o.structure.angles_sin_cos, {1}, n);
  s.unnormalized_angles_sin_cos = crop(o.structure.unnormalized_angles_sin_cos, {1}, n);
  s.final_atom14_positions = crop(o.structure.final_atom14_positions, {0}, n);
  s.final_atom14_mask = crop(o.structure.final_atom14_mask, {0}, n);
  HeadsOutputs& h = c.heads;
  h.distogram_logits = crop(o.heads.distogram_logits, {0, 1}, n);
  h.masked_msa_logits = crop(o.heads.masked_msa_logits, {1}, n);
  h.experimentally_resolved_logits = crop(o.heads.experimentally_resolved_logits, {0}, n);
  h.plddt_logits = crop(o.heads.plddt_logits, {0}, n);
  h.plddt = crop(o.heads.plddt, {0}, n);
  h.pae_logits = crop(o.heads.pae_logits, {0, 1}, n);
  h.aligned_confidence_probs = crop(o.heads.aligned_confidence_probs, {0, 1}, n);
  h.predicted_aligned_error = crop(o.heads.predicted_aligned_error, {0, 1}, n);
  c.next.prev_msa_first_row = crop(o.next.prev_msa_first_row, {0}, n);
  c.next.prev_pair = crop(o.next.prev_pair, {0, 1}, n);
  c.next.prev_pos = crop(o.next.prev_pos, {0}, n);
  return c;
}

}  // namespace exafold::model
