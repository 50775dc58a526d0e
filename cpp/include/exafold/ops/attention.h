// Gated multi-head attention with additive biases, the kernel shared by AlphaFold2's MSA row and
// column attention and its triangle attention (supplement Algorithms 7, 8, 13 and 14).
#pragma once

#include <cstdint>

namespace exafold::ops {

/// One attention module's weights in haiku's layout, row-major and contiguous:
/// query_w [c_q, heads, key_dim], key_w [c_m, heads, key_dim], value_w [c_m, heads, value_dim],
/// gating_w [c_q, heads, value_dim] and gating_b [heads, value_dim] (both null: no gating),
/// output_w [heads, value_dim, c_out], output_b [c_out].
template <class T>
struct AttentionWeights {
  const T* query_w = nullptr;
  const T* key_w = nullptr;
  const T* value_w = nullptr;
  const T* gating_w = nullptr;
  const T* gating_b = nullptr;
  const T* output_w = nullptr;
  const T* output_b = nullptr;
  int64_t c_q = 0, c_m = 0, heads = 0, key_dim = 0, value_dim = 0, c_out = 0;
};

/// The additive bias AlphaFold2 derives from a 0/1 mask: 1e9 * (mask - 1), n elements.
template <class T>
void mask_bias(const T* mask, int64_t n, T* bias);

/// The reference's masked softmax, in place on logits [n_q, n_k]: adds key_bias [n_k] to every
/// row and shared_bias [n_q, n_k] (either may be null), clips to [-1e8, 1e8], and replaces each
/// row by its softmax.
template <class T>
void biased_softmax(T* logits, int64_t n_q, int64_t n_k, const T* key_bias, const T* shared_bias);

/// `batch` independent attentions, as the reference's Attention module computes them:
///   q = (q_data @ query_w) * key_dim^-0.5, k = m_data @ key_w, v = m_data @ value_w
///   logits[b,h,i,j] = clip(q[b,i,h] . k[b,j,h] + key_bias[b,j] + shared_bias[h,i,j], +-1e8)
///   o[b,i,h] = softmax_j(logits) @ v[b,:,h] * sigmoid(q_data @ gating_w + gating_b)
///   out[b,i] = o[b,i] @ output_w + output_b
/// q_data [batch, n_q, c_q]; m_data [batch, n_k, c_m] (may be q_data); key_bias [batch, n_k] and
/// shared_bias [heads, n_q, n_k] may be null; out [batch, n_q, c_out]. The clip makes a query
/// whose keys are all masked attend uniformly (not to zero), exactly as the reference does.
/// Scratch is O(batch * (n_q + n_k) * heads * dims) plus one [n_q, n_k] block per thread, so
/// callers bound memory by passing a chunk of their batch at a time.
template <class T>
void attention(const T* q_data, const T* m_data, int64_t batch, int64_t n_q, int64_t n_k,
               const T* key_bias, const T* shared_bias, const AttentionWeights<T>& w, T* out);

}  // namespace exafold::ops
