// Length buckets: a prediction of N residues run at a padded length shared by every N of its
// bucket, so that compiled shapes, CUDA graphs and cached memory serve many lengths.
#pragma once

#include <cstdint>

#include "exafold/model/alphafold.h"

namespace exafold::model {

/// Note [Length buckets]: the bucket of N residues is N rounded up to a multiple of
/// max(16, 2^(ceil(log2 N) - 4)): multiples of 16 up to 256 (16, 32, ..., 256), then eight
/// buckets per doubling (288, 320, ..., 512, 576, ...). Geometric spacing keeps the relative
/// overhead bounded at every length: beyond 128 residues at most 1/8 of them are padding
/// (under 12.5% more residues, so under 27% more pair work and 42% more of the cubic triangle
/// terms in the worst case, about half of that on average), and below it at most 15 residues,
/// a negligible time. Eight per doubling is 43 buckets up to 2,700 residues; fewer (four
/// per doubling) would double the worst-case padding to 25% and the cubic terms to 95%.
/// Multiples of 16 also keep every residue axis aligned for bfloat16 tensor-core tiles.
/// @throws InvalidArgument when n < 1.
int64_t bucket_length(int64_t n);

/// Whether a run pads its predictions to their bucket: options.length_buckets when set, else
/// on for cuda devices (one graph and one set of cached blocks then serve a whole bucket) and
/// off elsewhere (on the cpu padding only costs time). run_model applies it; a prediction with
/// templates runs at its own length whatever the option (Note [Length buckets and templates]).
bool pads_to_bucket(const RunOptions& options);

/// Note [Length buckets and templates]: padding changes no real output when every real residue
/// has a key to attend to, as in the trunk without templates (real MSA entries and residues are
/// unmasked). The template pair stack masks the pairs of residues a template does not cover, so
/// its attention rows for such a residue are fully masked and average uniformly over every key,
/// padded residues included: padded, the real outputs would change. So templates are not padded.

/// The features of one iteration padded from N to `length` >= N residues, on their own device:
/// every feature along its residue axes (MSA and extra-MSA columns, the pair-free per-residue
/// features and the atom maps) with zeros, so padded residues have aatype 0 and every mask 0
/// (seq_mask, msa_mask, extra_msa_mask, the atom maps' atom exists). Templates are refused:
/// Note [Length buckets and templates].
/// @throws InvalidArgument when length < N or features hold templates.
ModelFeatures pad_features(const ModelFeatures& features, int64_t length);

/// The outputs of an iteration run at a padded length, cropped to their first n residues along
/// every residue axis (contiguous copies where a view would be strided: a device tensor reaches
/// the host only contiguous). The confidence scalars (mean pLDDT, pTM) are already
/// those of the real residues: they weigh residues by seq_mask.
IterationOutputs crop_outputs(const IterationOutputs& outputs, int64_t n);

}  // namespace exafold::model
