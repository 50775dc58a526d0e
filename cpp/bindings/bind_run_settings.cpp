// What a prediction runs with and on: the preset's run settings, the weights' label, and the
// bytes of its inputs.
#include "common.h"
#include "exafold/features/atom_maps.h"
#include "exafold/io/weights.h"
#include "exafold/model/run_settings.h"

namespace exafold::py {

void bind_run_settings(pyb::module_& m) {
  using pyb::arg;
  m.def(
      "run_settings",
      [](const std::string& preset, std::optional<int> recycles,
         std::optional<int> max_msa_clusters, std::optional<int> max_extra_msa,
         const std::vector<std::pair<std::string, int>>& overrides, bool templates) {
        const model::ModelConfig cfg = model::with_overrides(model::preset(preset), overrides);
        const model::RunSettings s =
            model::run_settings(cfg, recycles, max_msa_clusters, max_extra_msa, templates);
        pyb::dict d;
        d["recycles"] = s.num_recycle;
        d["max_msa_clusters"] = s.max_msa_clusters;
        d["max_extra_msa"] = s.max_extra_msa;
        return d;
      },
      arg("preset"), pyb::kw_only(), arg("recycles") = pyb::none(),
      arg("max_msa_clusters") = pyb::none(), arg("max_extra_msa") = pyb::none(),
      arg("overrides") = std::vector<std::pair<std::string, int>>{}, arg("templates") = false,
      "The settings a prediction with `preset` runs with (recycles, max_msa_clusters, "
      "max_extra_msa): the preset's, each given value replacing its default. With `templates` "
      "(the run gives templates) a template preset samples 508 cluster centres, as AlphaFold2.");
  m.def("atom_map_bytes", &features::atom_map_bytes, arg("residues"),
        "Bytes of the structure module's atom maps for `residues` residues.");
  m.def(
      "weights_label",
      [](const std::string& path) {
        pyb::gil_scoped_release nogil;
        return io::WeightsFile(path).label();
      },
      arg("path"),
      "The label a parameter file carries (demo weights say what they are), or '' when none.");
}

}  // namespace exafold::py
