// exafold._core.Model: load official parameters, run AlphaFold2 on processed features.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "common.h"
#include "exafold/features/atom_maps.h"
#include "exafold/io/weights.h"
#include "exafold/model/alphafold.h"
#include "exafold/model/memory_fit.h"
#include "exafold/ops/elementwise.h"

namespace exafold::py {
namespace {

using namespace exafold::model;

/// Input arrays by name; a missing name is a ValueError naming it.
class FeatureArrays {
 public:
  explicit FeatureArrays(const pyb::dict& d) {
    for (auto [k, v] : d) arrays_.emplace(k.cast<std::string>(), pyb::array(v.cast<pyb::object>()));
  }
  bool has(const std::string& name) const { return arrays_.count(name) > 0; }
  /// The array as a Tensor sharing its memory; `iteration` selects along a leading
  /// iteration axis when the array has one (rank == base_rank + 1).
  Tensor get(const std::string& name, int base_rank, int iteration) const {
    auto it = arrays_.find(name);
    check(it != arrays_.end(), "feature '", name, "' is missing");
    Tensor t = tensor_from_numpy(it->second, std::nullopt);
    if (t.rank() == base_rank + 1) {
      check(iteration < t.size(0), "feature '", name, "' has ", t.size(0),
            " iterations, iteration ", iteration, " was asked for");
      return t.select(0, iteration);
    }
    check(t.rank() == base_rank, "feature '", name, "' has shape ", t.shape().str(),
          ", expected rank ", base_rank, " (or ", base_rank + 1, " with a leading iteration axis)");
    return t;
  }
  /// Iterations present: the leading axis of aatype when it has one, else 1.
  int iterations() const {
    auto it = arrays_.find("aatype");
    check(it != arrays_.end(), "feature 'aatype' is missing");
    return it->second.ndim() == 2 ? int(it->second.shape(0)) : 1;
  }

 private:
  std::map<std::string, pyb::array> arrays_;
};

ModelFeatures features_at(const FeatureArrays& f, int r) {
  ModelFeatures m;
  m.trunk.aatype = f.get("aatype", 1, r);
  m.trunk.residue_index = f.get("residue_index", 1, r);
  m.trunk.seq_mask = f.get("seq_mask", 1, r);
  m.trunk.target_feat = f.get("target_feat", 2, r);
  m.trunk.msa_feat = f.get("msa_feat", 3, r);
  m.trunk.msa_mask = f.get("msa_mask", 2, r);
  m.trunk.extra_msa = f.get("extra_msa", 2, r);
  m.trunk.extra_msa_mask = f.get("extra_msa_mask", 2, r);
  m.trunk.extra_has_deletion = f.get("extra_has_deletion", 2, r);
  m.trunk.extra_deletion_value = f.get("extra_deletion_value", 2, r);
  m.residx_atom37_to_atom14 = f.get("residx_atom37_to_atom14", 2, r);
  m.atom37_atom_exists = f.get("atom37_atom_exists", 2, r);
  m.atom14_atom_exists = f.get("atom14_atom_exists", 2, r);
  // Templates are the prediction's: exafold.Model hands them over without an iteration axis,
  // so every iteration sees the same arrays (run_model checks that).
  if (f.has("template_aatype")) {
    TemplateFeatures& t = m.trunk.templates;
    t.template_aatype = f.get("template_aatype", 2, r);
    t.template_all_atom_positions = f.get("template_all_atom_positions", 4, r);
    t.template_all_atom_masks = f.get("template_all_atom_masks", 3, r);
    t.template_mask = f.get("template_mask", 1, r);
    t.template_angle_feat = f.get("template_angle_feat", 3, r);
    t.template_angle_mask = f.get("template_angle_mask", 2, r);
  }
  return m;
}

/// t where numpy can see it: on the host, contiguous when it came from a device.
Tensor on_host(const Tensor& t) {
  return t.device().is_host() ? t : migrate(ops::contiguous(t), Device::cpu());
}

void put(pyb::dict& d, const char* name, const Tensor& t) {
  if (t.defined()) d[name] = tensor_to_numpy(on_host(t));
}

pyb::dict outputs_dict(const IterationOutputs& o, bool ptm) {
  pyb::dict d;
  put(d, "msa", o.trunk.msa);
  put(d, "pair", o.trunk.pair);
  put(d, "single", o.trunk.single);
  put(d, "msa_first_row", o.trunk.msa_first_row);
  put(d, "structure_module", o.structure.representation);
  put(d, "final_atom_positions", o.structure.final_atom_positions);
  put(d, "final_atom_mask", o.structure.final_atom_mask);
  put(d, "final_atom14_positions", o.structure.final_atom14_positions);
  put(d, "traj", o.structure.traj);
  put(d, "angles_sin_cos", o.structure.angles_sin_cos);
  put(d, "distogram_logits", o.heads.distogram_logits);
  put(d, "masked_msa_logits", o.heads.masked_msa_logits);
  put(d, "experimentally_resolved_logits", o.heads.experimentally_resolved_logits);
  put(d, "plddt_logits", o.heads.plddt_logits);
  put(d, "plddt", o.heads.plddt);
  d["mean_plddt"] = scalar_of(o.heads.mean_plddt);
  if (ptm) {
    put(d, "pae_logits", o.heads.pae_logits);
    put(d, "aligned_confidence_probs", o.heads.aligned_confidence_probs);
    put(d, "predicted_aligned_error", o.heads.predicted_aligned_error);
    d["max_predicted_aligned_error"] = o.heads.max_predicted_aligned_error;
    d["ptm"] = scalar_of(o.heads.ptm);
  }
  put(d, "prev_msa_first_row", o.next.prev_msa_first_row);
  put(d, "prev_pair", o.next.prev_pair);
  put(d, "prev_pos", o.next.prev_pos);
  return d;
}

class PyModel {
 public:
  PyModel(ModelConfig cfg, Params params) : cfg_(std::move(cfg)), params_(std::move(params)) {}

  pyb::dict run_iteration(const pyb::dict& features, std::optional<pyb::dict> prev,
                          int64_t chunk_size, const std::string& device,
                          const std::optional<std::string>& dtype) const {
    const RunOptions options = run_options(chunk_size, device, dtype);
    FeatureArrays f(features);
    ModelFeatures m = features_at(f, 0);
    Recycled r;
    if (prev) {
      FeatureArrays p(*prev);
      r.prev_msa_first_row = cast(p.get("prev_msa_first_row", 2, 0), options);
      r.prev_pair = cast(p.get("prev_pair", 3, 0), options);
      r.prev_pos = cast(p.get("prev_pos", 3, 0), options, true);
    } else {
      r = Recycled::zeros(m.trunk.aatype.size(0), cfg_.c_m, cfg_.c_z,
                          options.dtype.value_or(params_.dtype()), options.device);
    }
    IterationOutputs o;
    {
      pyb::gil_scoped_release nogil;
      o = model::run_iteration(cfg_, params_, m, r, options);
    }
    return outputs_dict(o, cfg_.ptm);
  }

  pyb::dict run(const pyb::dict& features, std::optional<int> num_recycle, int64_t chunk_size,
                const pyb::object& on_iteration, const std::string& device,
                std::optional<bool> length_buckets, const std::optional<std::string>& dtype) const {
    RunOptions options = run_options(chunk_size, device, dtype);
    options.length_buckets = length_buckets;
    FeatureArrays f(features);
    std::vector<ModelFeatures> per_iteration;
    for (int r = 0; r < f.iterations(); ++r) per_iteration.push_back(features_at(f, r));
    // Between iterations the GIL is taken back briefly: Ctrl-C (a pending signal) stops the run
    // there instead of after the last iteration, and a progress callback can advance.
    auto between = [&on_iteration](int iteration, const IterationOutputs&) {
      pyb::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) throw pyb::error_already_set();
      if (!on_iteration.is_none()) on_iteration(iteration);
    };
    IterationOutputs o;
    {
      pyb::gil_scoped_release nogil;
      // An item that runs out of memory is retried with smaller chunks (Note [Out-of-memory
      // retry]); one that cannot fit at chunk 1 raises MemoryError with the numbers.
      o = run_model_within_memory(cfg_, params_, per_iteration,
                                  num_recycle.value_or(cfg_.num_recycle), options, between);
    }
    return outputs_dict(o, cfg_.ptm);
  }

  const ModelConfig& config() const { return cfg_; }
  const Params& params() const { return params_; }

  /// Places the parameters (and what the model derives from them) on `device` now, so that a
  /// first prediction's memory holds its activations only.
  void prepare(const std::string& device, const std::optional<std::string>& dtype) const {
    const DType dt = dtype ? dtype_from_name(*dtype) : params_.dtype();
    pyb::gil_scoped_release nogil;
    model::prepare(params_, Device::parse(device), dt);
  }

 private:
  /// A recycled input in the run's precision (the reference hands them over as float32); the
  /// atom positions in full precision (Recycled::zeros).
  Tensor cast(const Tensor& t, const RunOptions& o, bool positions = false) const {
    const DType dt = o.dtype.value_or(params_.dtype());
    return ops::cast(t, positions ? full_precision(dt) : dt);
  }

  static RunOptions run_options(int64_t chunk_size, const std::string& device,
                                const std::optional<std::string>& dtype) {
    RunOptions o;
    o.chunk_size = chunk_size;
    o.device = Device::parse(device);
    if (dtype) o.dtype = dtype_from_name(*dtype);
    return o;
  }

  ModelConfig cfg_;
  Params params_;
};

pyb::dict config_dict(const ModelConfig& c) {
  pyb::dict d;
  d["name"] = c.name;
  d["c_m"] = c.c_m;
  d["c_z"] = c.c_z;
  d["c_s"] = c.c_s;
  d["c_e"] = c.c_e;
  d["evoformer_blocks"] = c.evoformer_blocks;
  d["extra_blocks"] = c.extra_blocks;
  d["templates"] = c.templates.enabled;
  d["ptm"] = c.ptm;
  d["num_recycle"] = c.num_recycle;
  d["max_msa_clusters"] = c.max_msa_clusters;
  d["max_templates"] = c.max_templates;
  d["sampled_msa_clusters"] = c.sampled_msa_clusters();
  d["max_extra_msa"] = c.max_extra_msa;
  return d;
}

}  // namespace

void bind_model(pyb::module_& m) {
  m.def("model_presets", &preset_names, "Every preset name Model.load accepts.");
  m.def(
      "preset_config", [](const std::string& name) { return config_dict(preset(name)); },
      pyb::arg("preset"),
      "A preset's sizes as Model.config gives them (templates, max_msa_clusters, "
      "sampled_msa_clusters, ...).");
  m.def(
      "atom_maps",
      [](pyb::array aatype) {
        features::AtomMaps maps = features::atom_maps(tensor_from_numpy(aatype, std::nullopt));
        pyb::dict d;
        d["residx_atom37_to_atom14"] = tensor_to_numpy(maps.residx_atom37_to_atom14);
        d["atom37_atom_exists"] = tensor_to_numpy(maps.atom37_atom_exists);
        d["atom14_atom_exists"] = tensor_to_numpy(maps.atom14_atom_exists);
        return d;
      },
      pyb::arg("aatype"), "The structure module's atom maps for residue types aatype [N].");
  m.def(
      "param_spec",
      [](const std::string& preset_name,
         const std::vector<std::pair<std::string, int>>& overrides) {
        std::vector<std::pair<std::string, std::vector<int64_t>>> out;
        for (const auto& s : param_spec(with_overrides(preset(preset_name), overrides)))
          out.emplace_back(s.name, std::vector<int64_t>(s.shape.begin(), s.shape.end()));
        return out;
      },
      pyb::arg("preset"), pyb::arg("overrides") = std::vector<std::pair<std::string, int>>{},
      "Every parameter name and shape the preset defines, in the official npz layout.");
  m.def(
      "read_weights",
      [](const std::string& path, std::optional<std::string> preset_name, const std::string& dtype,
         const std::vector<std::pair<std::string, int>>& overrides) {
        std::optional<ModelConfig> cfg;
        if (preset_name) cfg = with_overrides(preset(*preset_name), overrides);
        const DType dt = dtype_from_name(dtype);
        check(dt == DType::float32 || dt == DType::float64,
              "parameters load as float32 or float64, not ", dtype);
        std::unordered_map<std::string, Tensor> arrays;
        {
          pyb::gil_scoped_release nogil;
          io::WeightsFile f(path);
          if (cfg) f.check_layout(*cfg);
          arrays = f.read_all(dt);
        }
        pyb::dict d;
        for (auto& [name, t] : arrays) d[pyb::str(name)] = tensor_to_numpy(t);
        return d;
      },
      pyb::arg("path"), pyb::arg("preset") = pyb::none(), pyb::arg("dtype") = "float32",
      pyb::arg("overrides") = std::vector<std::pair<std::string, int>>{},
      "The arrays of a parameter file by name, every member's CRC-32 and size verified and, "
      "with a preset, every name and shape checked against it (what Model.load reads).");
  pyb::class_<PyModel>(m, "Model",
                       "An AlphaFold2 parameter set loaded for inference (use exafold.Model).")
      .def_static(
          "load",
          [](const std::string& path, const std::string& preset_name, const std::string& dtype,
             const std::vector<std::pair<std::string, int>>& overrides) {
            ModelConfig cfg = with_overrides(preset(preset_name), overrides);
            DType dt = dtype_from_name(dtype);
            pyb::gil_scoped_release nogil;
            return std::make_unique<PyModel>(cfg, io::load_weights(path, cfg, dt));
          },
          pyb::arg("path"), pyb::arg("preset"), pyb::arg("dtype") = "float32",
          pyb::arg("overrides") = std::vector<std::pair<std::string, int>>{},
          "Reads an official params_model_*.npz file, verified (CRC-32, sizes) and validated "
          "against the preset.")
      .def_static(
          "from_arrays",
          [](const pyb::dict& arrays, const std::string& preset_name, const std::string& dtype,
             const std::vector<std::pair<std::string, int>>& overrides) {
            ModelConfig cfg = with_overrides(preset(preset_name), overrides);
            std::unordered_map<std::string, Tensor> tensors;
            for (auto [k, v] : arrays)
              tensors.emplace(k.cast<std::string>(),
                              tensor_from_numpy(pyb::array(v.cast<pyb::object>()), std::nullopt));
            DType dt = dtype_from_name(dtype);
            pyb::gil_scoped_release nogil;
            return std::make_unique<PyModel>(cfg, Params::from_arrays(std::move(tensors), cfg, dt));
          },
          pyb::arg("arrays"), pyb::arg("preset"), pyb::arg("dtype") = "float32",
          pyb::arg("overrides") = std::vector<std::pair<std::string, int>>{},
          "A model from parameter arrays by name, validated as a file would be.")
      .def_property_readonly(
          "config", [](const PyModel& p) { return config_dict(p.config()); },
          "The preset's dimensions and defaults.")
      .def_property_readonly(
          "dtype", [](const PyModel& p) { return std::string(dtype_name(p.params().dtype())); },
          "Precision of the parameters.")
      .def_property_readonly(
          "num_parameters", [](const PyModel& p) { return p.params().num_parameters(); },
          "Number of parameter values.")
      .def("run_iteration", &PyModel::run_iteration, pyb::arg("features"),
           pyb::arg("prev") = pyb::none(), pyb::arg("chunk_size") = 0, pyb::arg("device") = "cpu",
           pyb::arg("dtype") = pyb::none(),
           "One iteration given the recycled inputs (zeros when prev is None), on `device`, in "
           "`dtype` (None: the parameters').")
      .def("run", &PyModel::run, pyb::arg("features"), pyb::arg("num_recycle") = pyb::none(),
           pyb::arg("chunk_size") = 0, pyb::arg("on_iteration") = pyb::none(),
           pyb::arg("device") = "cpu", pyb::arg("length_buckets") = pyb::none(),
           pyb::arg("dtype") = pyb::none(),
           "num_recycle + 1 iterations on processed features, on `device` (cpu, strict, "
           "cuda:N), computing in `dtype` (None: the parameters'; bfloat16 on cuda: the trunk in "
           "bfloat16, model/params.h); returns the last iteration's outputs, on the host. "
           "on_iteration(i) is called after iteration i finishes. length_buckets: pad to the "
           "length's bucket and crop the outputs back (model/length_buckets.h); None: on for "
           "cuda devices, off elsewhere.")
      .def("prepare", &PyModel::prepare, pyb::arg("device") = "cpu",
           pyb::arg("dtype") = pyb::none(),
           "Places the parameters (in `dtype`'s placement, None: the parameters' own) and the "
           "projections the model fuses on `device` now, so that the first prediction's memory "
           "holds its activations only.");
}

}  // namespace exafold::py
