// Reductions over one dimension of strided views, float32 arithmetic (float32 or bfloat16
// storage): softmax, expectations over bins, masked means, pTM, and the range check of integer
// indices.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/view.h"

namespace exafold::cuda {

/// out (contiguous, x's shape) = softmax over x's last dimension.
void softmax(const View& out, const View& x, cudaStream_t stream);
/// out [rows] (contiguous) = sum_k probs[..., k] values[k], k in order.
void expectation(const View& out, const View& probs, const View& values, cudaStream_t stream);
/// out [A, C] (contiguous) = sum_r mask[a, r] x[a, r, :] / (sum_r mask[a, r] + eps).
void masked_mean(const View& out, const View& x, const View& mask, float eps, cudaStream_t stream);
/// out (one element) = pTM of probs [N, N, B] with bin centres [B] and residue weights [N].
void predicted_tm_score(const View& out, const View& probs, const View& centres,
                        const View& weights, cudaStream_t stream);
/// The flat index of the first element of the integer view t outside [lo, hi] and its value,
/// or -1; waits for the stream. `scratch` holds two int64.
int64_t check_range(const View& t, int64_t lo, int64_t hi, int64_t* value, int64_t* scratch,
                    cudaStream_t stream);

}  // namespace exafold::cuda
