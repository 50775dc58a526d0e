// AlphaFold2 supplement Algorithm 18: the extra-MSA stack, with its input embedding (Algorithm 2
// lines 14-15).
#include "exafold/model/extra_msa_stack.h"

#include "exafold/model/evoformer.h"
#include "exafold/model/residue_constants.h"
#include "exafold/ops/embedding.h"
#include "exafold/ops/reduce.h"
#include "layers.h"

namespace exafold::model {

using namespace detail;

// one_hot(extra_msa, 23): 20 amino acids, X, gap, and the mask token
using rc::kMsaClasses;

Tensor embed_extra_msa(const ParamScope& p, const Tensor& extra_msa,
                       const Tensor& extra_has_deletion, const Tensor& extra_deletion_value) {
  const ParamScope lin = p / "extra_msa_activations";
  const Tensor w = lin["weights"];
  EXAFOLD_ASSERT(w.size(0) == kMsaClasses + 2);
  check(extra_msa.rank() == 2, "extra_msa has shape ", extra_msa.shape().str(),
        ", expected [E, N]");
  const int64_t e = extra_msa.size(0), n = extra_msa.size(1);
  const Tensor aa = index_input(extra_msa, "extra_msa", {e, n});
  ops::check_range(aa, 0, kMsaClasses - 1, "extra_msa");
  const DType dt = w.dtype();
  const Tensor has_del = float_input(extra_has_deletion, "extra_has_deletion", {e, n}, dt);
  const Tensor del = float_input(extra_deletion_value, "extra_deletion_value", {e, n}, dt);
  // The one-hot part of the product is a row of the weights; the two scalar features add their
  // rows scaled.
  Tensor out = Tensor::empty({e, n, w.size(1)}, dt, w.device());
  ops::embed_into(out, w, lin["bias"],
                  {ops::EmbedTerm::one_hot(aa, 0), ops::EmbedTerm::scalar(has_del, kMsaClasses),
                   ops::EmbedTerm::scalar(del, kMsaClasses + 1)},
                  false);
  return out;
}

void extra_msa_stack(const ParamScope& p, int blocks, const Tensor& extra, const Tensor& pair,
                     const Tensor& extra_msa_mask, const Tensor& pair_mask, int64_t chunk_size) {
  for (int i = 0; i < blocks; ++i)
    evoformer_block(p.block(i), ColumnAttention::global, extra, pair, extra_msa_mask, pair_mask,
                    chunk_size);
}

}  // namespace exafold::model
