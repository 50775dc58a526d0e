// AlphaFold2 supplement Algorithm 18: the extra-MSA stack, with its input embedding (Algorithm 2
// lines 14-15).
#pragma once

#include <cstdint>

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// extra_msa_activations(one_hot(extra_msa, 23) ++ has_deletion ++ deletion_value) ->
/// [E, N, c_e]. extra_msa [E, N] int32/int64 with values 0..22; extra_has_deletion and
/// extra_deletion_value [E, N] in the parameters' dtype; p is the `evoformer` scope.
Tensor embed_extra_msa(const ParamScope& p, const Tensor& extra_msa,
                       const Tensor& extra_has_deletion, const Tensor& extra_deletion_value);

/// `blocks` Evoformer blocks with global column attention (stacked scope p,
/// `evoformer/extra_msa_stack`), updating extra [E, N, c_e] and pair [N, N, c_z] in place; only
/// the pair goes on to the Evoformer. extra_msa_mask [E, N], pair_mask [N, N].
void extra_msa_stack(const ParamScope& p, int blocks, const Tensor& extra, const Tensor& pair,
                     const Tensor& extra_msa_mask, const Tensor& pair_mask, int64_t chunk_size);

}  // namespace exafold::model
