// Embeddings and gathers: argument checks and dispatch (exafold/ops/embedding.h).
#include "exafold/ops/embedding.h"

#include "dispatch.h"

namespace exafold::ops {

using backend::Op;
using detail::run;

namespace {

bool is_index(DType d) { return d == DType::int32 || d == DType::int64; }

}  // namespace

void embed_into(const Tensor& out, const Tensor& w, const Tensor& bias,
                const std::vector<EmbedTerm>& terms, bool accumulate) {
  constexpr std::string_view op = "embed";
  check(out.defined() && out.rank() >= 1, "embed: the output must have a channel dimension");
  detail::expect_unit_last(op, out, "output");
  const int64_t c = out.size(-1);
  check(w.defined() && w.rank() == 2 && w.size(1) == c && w.is_contiguous(), "embed: weights ",
        w.defined() ? w.shape().str() : "(missing)", " must be contiguous [F, ", c, "]");
  if (bias.defined()) {
    detail::expect_shape(op, bias, "bias", {c});
    check(bias.is_contiguous(), "embed: bias must be contiguous");
  }
  Shape lead = out.shape();
  lead.erase(lead.size() - 1);
  for (const EmbedTerm& t : terms) {
    check(t.index.defined() != t.value.defined(), "embed: a term is either one-hot or scalar");
    const Tensor& x = t.index.defined() ? t.index : t.value;
    detail::expect_shape(op, x, "term", lead);
    check(t.index.defined() ? is_index(x.dtype()) : x.dtype() == out.dtype(), "embed: term of ",
          dtype_name(x.dtype()));
    check(t.row >= 0 && t.row < w.size(0), "embed: row ", t.row, " outside the weights' ",
          w.size(0));
    check(x.device() == out.device(), "embed: a term lives on ", x.device().str(), ", not ",
          out.device().str());
    if (t.scale.defined()) {
      check(t.index.defined(), "embed: only a one-hot term takes a scale");
      detail::expect_shape(op, t.scale, "term scale", lead);
      check(t.scale.dtype() == out.dtype() && t.scale.device() == out.device(),
            "embed: a term's scale must be ", dtype_name(out.dtype()), " on ", out.device().str());
    }
  }
  // The terms' tensors reach the backend through `terms`; the dispatcher sees the rest.
  std::vector<const Tensor*> all{&out, &w};
  if (bias.defined()) all.push_back(&bias);
  backend::Backend& b = detail::backend_of(Op::embed, {&out, &w, &bias});
  for (const EmbedTerm& t : terms) {
    all.push_back(t.index.defined() ? &t.index : &t.value);
    if (t.scale.defined()) all.push_back(&t.scale);
  }
  b.enter(std::span<const Tensor* const>(all.data(), all.size()));
  struct Leave {
    backend::Backend& b;
    ~Leave() { b.leave(); }
  } leave{b};
  b.embed(out, w, bias, terms, accumulate);
}

Tensor relative_position_bins(const Tensor& residue_index, int64_t max_relative) {
  detail::expect_rank("relative_position_bins", residue_index, "residue_index", 1);
  check(is_index(residue_index.dtype()), "relative_position_bins: residue_index must be integer");
  const int64_t n = residue_index.size(0);
  Tensor out = Tensor::empty({n, n}, DType::int32, residue_index.device());
  run(Op::relative_position_bins, {&out, &residue_index},
      [&](backend::Backend& b) { b.relative_position_bins(out, residue_index, max_relative); });
  return out;
}

Tensor distogram_bins(const Tensor& points, double min, double max, int64_t bins) {
  detail::expect_rank("distogram_bins", points, "points", 2);
  detail::expect_shape("distogram_bins", points, "points", {points.size(0), 3});
  check(bins >= 2, "distogram_bins: at least two bins, got ", bins);
  const int64_t n = points.size(0);
  Tensor out = Tensor::empty({n, n}, DType::int32, points.device());
  run(Op::distogram_bins, {&out, &points},
      [&](backend::Backend& b) { b.distogram_bins(out, points, min, max, bins); });
  return out;
}

Tensor gather(const Tensor& x, const Tensor& index) {
  check(x.defined() && x.rank() >= 2 && x.is_contiguous(),
        "gather: x must be contiguous [N, A, ...]");
  detail::expect_rank("gather", index, "index", 2);
  check(index.size(0) == x.size(0) && is_index(index.dtype()), "gather: index ",
        index.shape().str(), " against x ", x.shape().str());
  Shape s = x.shape();
  s[1] = index.size(1);
  Tensor out = Tensor::empty(s, x.dtype(), x.device());
  run(Op::gather, {&out, &x, &index}, [&](backend::Backend& b) { b.gather(out, x, index); });
  return out;
}

Tensor pseudo_beta(const Tensor& aatype, const Tensor& x) {
  detail::expect_rank("pseudo_beta", aatype, "aatype", 1);
  check(is_index(aatype.dtype()), "pseudo_beta: aatype must be integer");
  check(x.defined() && x.rank() >= 2 && x.size(0) == aatype.size(0) && x.size(1) == 37 &&
            x.is_contiguous(),
        "pseudo_beta: atom37 data ", x.shape().str(), " against aatype ", aatype.shape().str());
  Shape s = x.shape();
  s.erase(1);
  Tensor out = Tensor::empty(s, x.dtype(), x.device());
  run(Op::pseudo_beta, {&out, &aatype, &x},
      [&](backend::Backend& b) { b.pseudo_beta(out, aatype, x); });
  return out;
}

}  // namespace exafold::ops
