// The trunk (run_trunk) and, in the private submodule _modules, each trunk algorithm on numpy
// arrays, for the parity tests. Every call releases the GIL while it computes.
#include <cstring>
#include <optional>
#include <string>

#include "common.h"
#include "exafold/core/error.h"
#include "exafold/io/weights.h"
#include "exafold/model/config.h"
#include "exafold/model/evoformer.h"
#include "exafold/model/extra_msa_stack.h"
#include "exafold/model/input_embedder.h"
#include "exafold/model/msa_column_attention.h"
#include "exafold/model/msa_column_global_attention.h"
#include "exafold/model/msa_row_attention.h"
#include "exafold/model/outer_product_mean.h"
#include "exafold/model/params.h"
#include "exafold/model/recycling_embedder.h"
#include "exafold/model/template_embedding.h"
#include "exafold/model/template_pointwise_attention.h"
#include "exafold/model/transition.h"
#include "exafold/model/triangle_attention.h"
#include "exafold/model/triangle_multiplication.h"
#include "exafold/model/trunk.h"
#include "exafold/ops/elementwise.h"

namespace exafold::py {
namespace {

using namespace exafold::model;
using pyb::arg;

/// A validated parameter set with the preset it was checked against.
struct TrunkParams {
  ModelConfig config;
  Params params;
};

pyb::handle item(const pyb::dict& d, const char* what, const char* key) {
  check(d.contains(key), what, " lacks '", key, "'");
  return d[key];
}

/// An array in the parameters' precision.
Tensor as_params_dtype(const TrunkParams& p, pyb::handle h) {
  return tensor_copy_as(h, p.params.dtype());
}

ParamScope scope_of(const TrunkParams& p, const std::string& scope, int block) {
  return ParamScope(p.params, scope, block);
}

TrunkFeatures features_of(const pyb::dict& d, DType dtype) {
  auto real = [&](const char* key) {
    const pyb::handle h = item(d, "features", key);
    return dtype == DType::float64 ? copy_as<double>(h) : copy_as<float>(h);
  };
  auto integer = [&](const char* key) { return copy_as<int64_t>(item(d, "features", key)); };
  return {integer("aatype"),           integer("residue_index"), real("seq_mask"),
          real("target_feat"),         real("msa_feat"),         real("msa_mask"),
          integer("extra_msa"),        real("extra_msa_mask"),   real("extra_has_deletion"),
          real("extra_deletion_value")};
}

Recycled recycled_of(const pyb::dict& d, DType dtype) {
  auto real = [&](const char* key) {
    const pyb::handle h = item(d, "prev", key);
    return dtype == DType::float64 ? copy_as<double>(h) : copy_as<float>(h);
  };
  return {real("prev_msa_first_row"), real("prev_pair"), real("prev_pos")};
}

TriangleEdges edges_of(const std::string& s) {
  if (s == "outgoing") return TriangleEdges::outgoing;
  if (s == "incoming") return TriangleEdges::incoming;
  fail("edges must be 'outgoing' or 'incoming', got '", s, "'");
}

TriangleNode node_of(const std::string& s) {
  if (s == "starting") return TriangleNode::starting;
  if (s == "ending") return TriangleNode::ending;
  fail("node must be 'starting' or 'ending', got '", s, "'");
}

ColumnAttention column_of(const std::string& s) {
  if (s == "full") return ColumnAttention::full;
  if (s == "global") return ColumnAttention::global;
  fail("column must be 'full' or 'global', got '", s, "'");
}

/// Converts the arrays to the parameters' precision, then adds the module's update to zeros of
/// the shape of `shape_of` (so the result is the update itself), without the GIL.
template <class Compute>
pyb::array module_call(const TrunkParams& p, std::vector<pyb::handle> arrays, size_t shape_of,
                       Compute compute) {
  std::vector<Tensor> in;
  for (const auto& a : arrays) in.push_back(as_params_dtype(p, a));
  Tensor out;
  {
    pyb::gil_scoped_release release;
    out = ops::zeros(in[shape_of].shape(), p.params.dtype(), Device::cpu());
    compute(in, out);
  }
  return tensor_to_numpy(out);
}

void bind_modules(pyb::module_& m) {
  pyb::class_<TrunkParams>(m, "TrunkParams",
                           "Parameters loaded and validated for one preset (opaque).");
  m.def(
      "load_params",
      [](const std::string& path, const std::string& preset, const std::string& dtype,
         std::optional<int> evoformer_blocks, std::optional<int> extra_blocks,
         std::optional<bool> templates) {
        ModelConfig config = model::preset(preset);
        if (evoformer_blocks) config.evoformer_blocks = *evoformer_blocks;
        if (extra_blocks) config.extra_blocks = *extra_blocks;
        if (templates) config.templates.enabled = *templates;
        config.validate();
        const DType dt = dtype_from_name(dtype);
        pyb::gil_scoped_release release;
        return TrunkParams{config, io::load_weights(path, config, dt)};
      },
      arg("path"), arg("preset"), arg("dtype") = "float64", arg("evoformer_blocks") = pyb::none(),
      arg("extra_blocks") = pyb::none(), arg("templates") = pyb::none(),
      "Loads an official-layout npz for `preset` (block counts and templates optionally "
      "overridden, as the reference fixtures' reduced configs do) as float32 or float64, the "
      "precision every module call then computes in.");
  m.def(
      "param_spec",
      [](const std::string& preset) {
        pyb::list out;
        for (const ParamSpec& s : model::param_spec(model::preset(preset)))
          out.append(pyb::make_tuple(s.name, std::vector<int64_t>(s.shape.begin(), s.shape.end())));
        return out;
      },
      arg("preset"), "[(name, shape)] of every parameter the preset expects, in a stable order.");
  m.def(
      "msa_row_attention_with_pair_bias",
      [](const TrunkParams& p, const std::string& scope, int block, pyb::handle msa,
         pyb::handle msa_mask, pyb::handle pair, int64_t chunk_size) {
        return module_call(p, {msa, msa_mask, pair}, 0, [&](const auto& t, const Tensor& out) {
          msa_row_attention_with_pair_bias(scope_of(p, scope, block), t[0], t[1], t[2], chunk_size,
                                           out);
        });
      },
      arg("params"), arg("scope"), arg("block"), arg("msa"), arg("msa_mask"), arg("pair"),
      arg("chunk_size") = 0, "Algorithm 7: the update to msa.");
  m.def(
      "msa_column_attention",
      [](const TrunkParams& p, const std::string& scope, int block, pyb::handle msa,
         pyb::handle msa_mask, int64_t chunk_size) {
        return module_call(p, {msa, msa_mask}, 0, [&](const auto& t, const Tensor& out) {
          msa_column_attention(scope_of(p, scope, block), t[0], t[1], chunk_size, out);
        });
      },
      arg("params"), arg("scope"), arg("block"), arg("msa"), arg("msa_mask"), arg("chunk_size") = 0,
      "Algorithm 8: the update to msa.");
  m.def(
      "msa_column_global_attention",
      [](const TrunkParams& p, const std::string& scope, int block, pyb::handle msa,
         pyb::handle msa_mask, int64_t chunk_size) {
        return module_call(p, {msa, msa_mask}, 0, [&](const auto& t, const Tensor& out) {
          msa_column_global_attention(scope_of(p, scope, block), t[0], t[1], chunk_size, out);
        });
      },
      arg("params"), arg("scope"), arg("block"), arg("msa"), arg("msa_mask"), arg("chunk_size") = 0,
      "Algorithm 19: the update to the extra MSA.");
  m.def(
      "transition",
      [](const TrunkParams& p, const std::string& scope, int block, pyb::handle act,
         int64_t chunk_size) {
        return module_call(p, {act}, 0, [&](const auto& t, const Tensor& out) {
          transition(scope_of(p, scope, block), t[0], chunk_size, out);
        });
      },
      arg("params"), arg("scope"), arg("block"), arg("act"), arg("chunk_size") = 0,
      "Algorithms 9 and 15: the update to act.");
  m.def(
      "outer_product_mean",
      [](const TrunkParams& p, const std::string& scope, int block, pyb::handle msa,
         pyb::handle msa_mask, int64_t chunk_size) {
        // The pair update's shape comes from the parameters: [N, N, c_z].
        const ParamScope sc = scope_of(p, scope, block);
        std::vector<Tensor> in{as_params_dtype(p, msa), as_params_dtype(p, msa_mask)};
        const int64_t n = in[0].size(1), c_z = sc["output_w"].size(2);
        Tensor out;
        {
          pyb::gil_scoped_release release;
          out = ops::zeros({n, n, c_z}, p.params.dtype(), Device::cpu());
          outer_product_mean(sc, in[0], in[1], chunk_size, out);
        }
        return tensor_to_numpy(out);
      },
      arg("params"), arg("scope"), arg("block"), arg("msa"), arg("msa_mask"), arg("chunk_size") = 0,
      "Algorithm 10: the update to the pair.");
  m.def(
      "triangle_multiplication",
      [](const TrunkParams& p, const std::string& scope, int block, const std::string& edges,
         pyb::handle pair, pyb::handle pair_mask, int64_t chunk_size) {
        const TriangleEdges e = edges_of(edges);
        return module_call(p, {pair, pair_mask}, 0, [&](const auto& t, const Tensor& out) {
          triangle_multiplication(scope_of(p, scope, block), e, t[0], t[1], chunk_size, out);
        });
      },
      arg("params"), arg("scope"), arg("block"), arg("edges"), arg("pair"), arg("pair_mask"),
      arg("chunk_size") = 0, "Algorithms 11 and 12: the update to the pair.");
  m.def(
      "triangle_attention",
      [](const TrunkParams& p, const std::string& scope, int block, const std::string& node,
         pyb::handle pair, pyb::handle pair_mask, int64_t chunk_size) {
        const TriangleNode nd = node_of(node);
        return module_call(p, {pair, pair_mask}, 0, [&](const auto& t, const Tensor& out) {
          triangle_attention(scope_of(p, scope, block), nd, t[0], t[1], chunk_size, out);
        });
      },
      arg("params"), arg("scope"), arg("block"), arg("node"), arg("pair"), arg("pair_mask"),
      arg("chunk_size") = 0, "Algorithms 13 and 14: the update to the pair.");
  m.def(
      "evoformer_block",
      [](const TrunkParams& p, const std::string& scope, int block, const std::string& column,
         pyb::handle msa, pyb::handle msa_mask, pyb::handle pair, pyb::handle pair_mask,
         int64_t chunk_size) {
        const ColumnAttention col = column_of(column);
        Tensor m = as_params_dtype(p, msa), mm = as_params_dtype(p, msa_mask);
        Tensor z = as_params_dtype(p, pair), zm = as_params_dtype(p, pair_mask);
        {
          pyb::gil_scoped_release release;
          evoformer_block(scope_of(p, scope, block), col, m, z, mm, zm, chunk_size);
        }
        pyb::dict out;
        out["msa"] = tensor_to_numpy(m);
        out["pair"] = tensor_to_numpy(z);
        return out;
      },
      arg("params"), arg("scope"), arg("block"), arg("column"), arg("msa"), arg("msa_mask"),
      arg("pair"), arg("pair_mask"), arg("chunk_size") = 0,
      "Algorithm 6 (column 'full') or one extra-MSA block (column 'global'): {msa, pair}.");
  m.def(
      "embeddings",
      [](const TrunkParams& p, const pyb::dict& features, const pyb::dict& prev) {
        const TrunkFeatures f = features_of(features, p.params.dtype());
        const Recycled r = recycled_of(prev, p.params.dtype());
        const ParamScope evo(p.params, "alphafold/alphafold_iteration/evoformer");
        InputEmbedding e;
        Tensor extra;
        {
          pyb::gil_scoped_release release;
          e = input_embedder(evo, f.target_feat, f.msa_feat);
          recycling_embedder(evo, f.aatype, r, e.msa, e.pair);
          add_relative_position(evo, f.residue_index, e.pair);
          extra = embed_extra_msa(evo, f.extra_msa, f.extra_has_deletion, f.extra_deletion_value);
        }
        pyb::dict out;
        out["msa"] = tensor_to_numpy(e.msa);
        out["pair"] = tensor_to_numpy(e.pair);
        out["extra_msa_activations"] = tensor_to_numpy(extra);
        return out;
      },
      arg("params"), arg("features"), arg("prev"),
      "Algorithms 3, 4 and 32 and the extra-MSA embedding: {msa, pair, extra_msa_activations}, "
      "the inputs of the extra-MSA and Evoformer stacks.");
  m.def(
      "recycled_distogram",
      [](pyb::handle aatype, pyb::handle prev_pos, int64_t bins, const std::string& dtype) {
        const Tensor aa = copy_as<int64_t>(aatype);
        const Tensor pos = tensor_copy_as(prev_pos, dtype_from_name(dtype));
        Tensor index;
        {
          pyb::gil_scoped_release release;
          index = recycled_distogram_bins(aa, pos, bins);
        }
        // The one-hot [N, N, bins] of the bin indices (-1: no bin set).
        const int64_t n = index.size(0);
        pyb::array_t<double> out({n, n, bins});
        auto o = out.mutable_unchecked<3>();
        const int32_t* b = index.data<int32_t>();
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j < n; ++j)
            for (int64_t k = 0; k < bins; ++k) o(i, j, k) = b[i * n + j] == k ? 1.0 : 0.0;
        return out;
      },
      arg("aatype"), arg("prev_pos"), arg("bins") = 15, arg("dtype") = "float64",
      "The recycled-distance one-hot [N, N, bins] of Algorithm 32.");
  m.def(
      "template_embedding",
      [](const TrunkParams& p, const pyb::dict& features, pyb::handle pair, int64_t chunk_size) {
        const DType dt = p.params.dtype();
        auto real = [&](const char* key) {
          return tensor_copy_as(item(features, "features", key), dt);
        };
        const TemplateFeatures t{copy_as<int64_t>(item(features, "features", "template_aatype")),
                                 real("template_all_atom_positions"),
                                 real("template_all_atom_masks"),
                                 real("template_mask"),
                                 real("template_angle_feat"),
                                 real("template_angle_mask")};
        const Tensor seq_mask = real("seq_mask");
        const Tensor z = as_params_dtype(p, pair);
        TemplateEmbedding e;
        Tensor update;
        {
          pyb::gil_scoped_release release;
          RunOptions options;
          options.chunk_size = chunk_size;
          e = embed_templates(p.config, p.params, t, seq_mask, options);
          update = ops::zeros(z.shape(), dt, Device::cpu());
          const ParamScope attention(
              p.params, "alphafold/alphafold_iteration/evoformer/template_embedding/attention");
          template_pointwise_attention(attention, e.pair, e.mask, e.present, z, chunk_size, update);
        }
        pyb::dict out;
        out["update"] = tensor_to_numpy(update);
        out["templates"] = tensor_to_numpy(e.pair);
        out["rows"] = tensor_to_numpy(e.rows);
        out["row_mask"] = tensor_to_numpy(e.row_mask);
        return out;
      },
      arg("params"), arg("features"), arg("pair"), arg("chunk_size") = 0,
      "Algorithm 2 lines 7-11 and Algorithm 17 on the template features (and seq_mask) with the "
      "pair activations `pair` as the query: {update (what the templates add to the pair), "
      "templates [N, N, T, c_t] (each template's pair stack output), rows (the torsion rows), "
      "row_mask}.");
  m.def(
      "run_trunk",
      [](const TrunkParams& p, const pyb::dict& features, const pyb::dict& prev,
         int64_t chunk_size) {
        const TrunkFeatures f = features_of(features, p.params.dtype());
        const Recycled r = recycled_of(prev, p.params.dtype());
        TrunkOutputs o;
        {
          pyb::gil_scoped_release release;
          o = run_trunk(p.config, p.params, f, r, RunOptions{chunk_size});
        }
        pyb::dict out;
        out["msa"] = tensor_to_numpy(o.msa);
        out["pair"] = tensor_to_numpy(o.pair);
        out["single"] = tensor_to_numpy(o.single);
        out["msa_first_row"] = tensor_to_numpy(o.msa_first_row);
        return out;
      },
      arg("params"), arg("features"), arg("prev"), arg("chunk_size") = 0,
      "One recycling iteration of the trunk (model/trunk.h): {msa, pair, single, "
      "msa_first_row}.");
}

}  // namespace

void bind_model_trunk(pyb::module_& m) {
  pyb::module_ modules = test_modules(m);
  bind_modules(modules);
}

}  // namespace exafold::py
