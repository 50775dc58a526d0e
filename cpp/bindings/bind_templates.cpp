// Template features: exafold._core.features (hits, template structures, featurisation).
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "common.h"
#include "exafold/features/obsolete_pdbs.h"
#include "exafold/features/processed_templates.h"
#include "exafold/features/template_hits.h"
#include "exafold/features/template_source.h"
#include "exafold/features/template_structure.h"
#include "exafold/features/templates.h"
#include "exafold/io/template_store.h"

namespace exafold::py {
namespace {

using namespace exafold::features;
using namespace pybind11::literals;

TemplateHitFormat format_from(const std::string& s) {
  if (s == "hhr") return TemplateHitFormat::hhr;
  if (s == "sto") return TemplateHitFormat::hmmsearch_sto;
  fail("hit format must be 'hhr' or 'sto', got '", s, "'");
}
const char* format_name(TemplateHitFormat f) { return f == TemplateHitFormat::hhr ? "hhr" : "sto"; }

ResidueLetters letters_from(const std::string& s) {
  if (s == "biopython-1.79") return ResidueLetters::biopython_1_79;
  if (s == "standard") return ResidueLetters::standard_only;
  fail("residue_letters must be 'biopython-1.79' or 'standard', got '", s, "'");
}

HitFilters filters_from(const std::string& s) {
  if (s == "alphafold") return HitFilters::alphafold;
  if (s == "colabfold") return HitFilters::colabfold;
  fail("filters must be 'alphafold' or 'colabfold', got '", s, "'");
}

pyb::array float_array(const std::vector<float>& v, std::vector<pyb::ssize_t> shape) {
  pyb::array_t<float> a(shape);
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

// AlphaFold2 keeps string features as object arrays of bytes.
pyb::array bytes_array(const std::vector<std::string>& v) {
  pyb::list items;
  for (const std::string& s : v) items.append(pyb::bytes(s));
  return pyb::module_::import("numpy").attr("array")(items, "dtype"_a = "object");
}

pyb::dict features_dict(const TemplateFeatures& f) {
  pyb::dict d;
  for (const auto& [name, t] : f.arrays) d[name.c_str()] = tensor_to_numpy(t);
  d["template_domain_names"] = bytes_array(f.domain_names);
  d["template_sequence"] = bytes_array(f.sequences);
  return d;
}

FeatureDict feature_dict_from(const pyb::dict& d) {
  FeatureDict f;
  for (const char* name : {"template_aatype", "template_all_atom_positions",
                           "template_all_atom_masks", "template_sum_probs"}) {
    check(d.contains(name), "template features lack '", name, "'");
    pyb::array a = pyb::array::ensure(d[name]);
    check(bool(a), "template feature '", name, "' is not an array");
    DType dt = a.dtype().is(pyb::dtype::of<double>()) ? DType::float64 : DType::float32;
    f.set(name, tensor_copy_as(a, dt));
  }
  return f;
}

std::shared_ptr<const TemplateSource> source_from(const pyb::object& o) {
  if (pyb::isinstance<pyb::str>(o)) return std::make_shared<MmcifDirectory>(o.cast<std::string>());
  return o.cast<std::shared_ptr<const TemplateSource>>();
}

}  // namespace

void bind_templates(pyb::module_& parent) {
  pyb::module_ m = parent.attr("features").cast<pyb::module_>();

  pyb::class_<TemplateHit>(m, "TemplateHit",
                           "One template search hit, field for field AlphaFold2's "
                           "parsers.TemplateHit.")
      .def(
          pyb::init([](int64_t index, std::string name, int64_t aligned_cols,
                       std::optional<double> sum_probs, std::string query, std::string hit_sequence,
                       std::vector<int32_t> indices_query, std::vector<int32_t> indices_hit) {
            return TemplateHit{index,
                               std::move(name),
                               aligned_cols,
                               sum_probs,
                               std::move(query),
                               std::move(hit_sequence),
                               std::move(indices_query),
                               std::move(indices_hit),
                               0};
          }),
          "index"_a, "name"_a, "aligned_cols"_a, "sum_probs"_a, "query"_a, "hit_sequence"_a,
          "indices_query"_a, "indices_hit"_a)
      .def_readonly("index", &TemplateHit::index, "HHsearch's hit number, or the hmmsearch row.")
      .def_readonly("name", &TemplateHit::name,
                    "HHsearch: the '>' line after '>'; hmmsearch: '<pdb id>_<chain>'.")
      .def_readonly("aligned_cols", &TemplateHit::aligned_cols, "Aligned columns.")
      .def_readonly("sum_probs", &TemplateHit::sum_probs,
                    "HHsearch's Sum_probs; None for hmmsearch.")
      .def_readonly("query", &TemplateHit::query,
                    "The query's aligned segment (HHsearch) or the whole query (hmmsearch).")
      .def_readonly("hit_sequence", &TemplateHit::hit_sequence, "The hit's aligned residues.")
      .def_readonly("indices_query", &TemplateHit::indices_query,
                    "Per column the 0-based query residue, -1 at a gap.")
      .def_readonly("indices_hit", &TemplateHit::indices_hit,
                    "Per column the 0-based hit residue, -1 at a gap.")
      .def_readonly("line", &TemplateHit::line,
                    "Line where the hit starts in its file (0 if built).")
      .def("__repr__", [](const TemplateHit& h) {
        return "TemplateHit(" + std::to_string(h.index) + ", '" + h.name.substr(0, 20) + "', " +
               std::to_string(h.aligned_cols) + " columns)";
      });

  m.def(
      "read_hhr", [](const std::string& path) { return read_hhr(path); }, "path"_a,
      pyb::call_guard<pyb::gil_scoped_release>(),
      "Every hit of an HHsearch result file (parsers.parse_hhr); ValueError names file:line.");
  m.def("parse_hhr", &parse_hhr, "text"_a, "name"_a = "<text>",
        pyb::call_guard<pyb::gil_scoped_release>(), "As read_hhr, from text.");
  m.def(
      "read_hmmsearch_sto",
      [](const std::string& path, const std::string& query) {
        return read_hmmsearch_sto(path, query);
      },
      "path"_a, "query"_a, pyb::call_guard<pyb::gil_scoped_release>(),
      "Every protein hit of an hmmsearch Stockholm alignment against pdb_seqres, as AlphaFold2 "
      ">= 2.3 reads pdb_hits.sto; ValueError names file:line.");
  m.def(
      "parse_hmmsearch_sto",
      [](const std::string& text, const std::string& query, const std::string& name) {
        return parse_hmmsearch_sto(text, query, name);
      },
      "text"_a, "query"_a, "name"_a = "<text>", pyb::call_guard<pyb::gil_scoped_release>(),
      "As read_hmmsearch_sto, from text.");
  m.def(
      "find_template_hits",
      [](const std::string& dir) -> std::optional<std::pair<std::string, std::string>> {
        auto f = find_template_hits(dir);
        if (!f) return std::nullopt;
        return std::make_pair(f->path, std::string(format_name(f->format)));
      },
      "alignment_dir"_a,
      "(path, 'hhr' or 'sto') of the template search result beside an item's alignments "
      "(pdb70_hits.hhr, pdb_hits.hhr, pdb_hits.sto, hmm_output.sto), or None; ValueError when "
      "there are several.");
  m.def(
      "read_template_hits",
      [](const std::string& path, const std::string& query) {
        pyb::gil_scoped_release nogil;
        return read_template_hits({path, template_hit_format(path)}, query);
      },
      "path"_a, "query"_a, "A .hhr or .sto hits file, by its suffix.");

  pyb::class_<TemplateChain>(m, "TemplateChain", "One protein chain of a template entry.")
      .def_readonly("id", &TemplateChain::id, "Author chain id (auth_asym_id).")
      .def_readonly("residues", &TemplateChain::residues,
                    "Chemical component id of each SEQRES residue.")
      .def(
          "sequence",
          [](const TemplateChain& c, const std::string& letters) {
            return c.sequence(letters_from(letters));
          },
          "residue_letters"_a = "biopython-1.79",
          "SEQRES as one-letter codes ('biopython-1.79' or 'standard' names; others are X).")
      .def_property_readonly(
          "positions",
          [](const TemplateChain& c) {
            return float_array(c.positions, {pyb::ssize_t(c.positions.size() / 111), 37, 3});
          },
          "[residues, 37, 3] float32 atom37 positions (empty when atom_error).")
      .def_property_readonly(
          "mask",
          [](const TemplateChain& c) {
            return float_array(c.mask, {pyb::ssize_t(c.mask.size() / 37), 37});
          },
          "[residues, 37] float32 atom37 mask.")
      .def_readonly("atom_error", &TemplateChain::atom_error,
                    "Why the chain's atoms cannot be had, or ''.")
      .def_readonly("atom_error_is_warning", &TemplateChain::atom_error_is_warning,
                    "AlphaFold2 reports atom_error as a warning (else an error).")
      .def("__repr__", [](const TemplateChain& c) {
        return "TemplateChain('" + c.id + "', " + std::to_string(c.size()) + " residues)";
      });

  pyb::class_<TemplateEntry, std::shared_ptr<TemplateEntry>>(
      m, "TemplateEntry", "A PDB entry as AlphaFold2's template featuriser uses it.")
      .def_readonly("id", &TemplateEntry::id, "The entry's id (lower-case PDB code).")
      .def_readonly("release_date", &TemplateEntry::release_date,
                    "Earliest revision date, YYYY-MM-DD, or None.")
      .def_readonly("chains", &TemplateEntry::chains, "Protein chains, chain_to_seqres order.")
      .def_readonly("error", &TemplateEntry::error,
                    "Why AlphaFold2 would read no chain from the file, or ''.")
      .def(
          "chain",
          [](const TemplateEntry& e, const std::string& id) -> const TemplateChain* {
            return e.chain(id);
          },
          "id"_a, pyb::return_value_policy::reference_internal, "The chain, or None.")
      .def("__repr__", [](const TemplateEntry& e) {
        return "TemplateEntry('" + e.id + "', " + std::to_string(e.chains.size()) + " chains" +
               (e.error.empty() ? "" : ", unreadable") + ")";
      });

  m.def(
      "read_template_mmcif",
      [](const std::string& path, const std::string& id) {
        return std::make_shared<TemplateEntry>(read_template_mmcif(path, id));
      },
      "path"_a, "id"_a, pyb::call_guard<pyb::gil_scoped_release>(),
      "A template mmCIF file as AlphaFold2's mmcif_parsing and _get_atom_positions read it. "
      "Unusable content gives an entry with `error` set; OSError when it cannot be read.");
  m.def(
      "read_obsolete_pdbs",
      [](const std::string& path) {
        auto o = read_obsolete_pdbs(path);
        return std::map<std::string, std::string>(o.begin(), o.end());
      },
      "path"_a, "obsolete.dat as {obsolete id: replacement id, or '' when removed} (lower case).");

  pyb::class_<TemplateSource, std::shared_ptr<TemplateSource>>(
      m, "TemplateSource", "Where the featuriser finds template structures.")
      .def(
          "find",
          [](const TemplateSource& s,
             const std::string& id) -> std::shared_ptr<const TemplateEntry> {
            pyb::gil_scoped_release nogil;
            return s.find(id);
          },
          "id"_a, "The entry (a TemplateEntry), or None.")
      .def("location", &TemplateSource::location, "id"_a, "Where the entry is, for messages.");
  pyb::class_<MmcifDirectory, TemplateSource, std::shared_ptr<MmcifDirectory>>(
      m, "MmcifDirectory", "<dir>/<id>.cif files, parsed on each use.")
      .def(pyb::init<std::string>(), "dir"_a)
      .def_property_readonly("dir", &MmcifDirectory::dir, "The directory.");
  pyb::class_<io::TemplateStore, TemplateSource, std::shared_ptr<io::TemplateStore>>(
      m, "TemplateStore",
      "A pre-parsed template store (HDF5): every entry of an mmCIF directory, read once.")
      .def(pyb::init<std::string>(), "path"_a, "Opens a store made by build_template_store.")
      .def_property_readonly("path", &io::TemplateStore::path, "The store's file.")
      .def("__len__", &io::TemplateStore::size, "Entries in the store.");
  m.def(
      "build_template_store",
      [](const std::string& mmcif_dir, const std::string& path, int threads, int deflate_level) {
        pyb::gil_scoped_release nogil;
        return io::build_template_store(mmcif_dir, path,
                                        {.threads = threads, .deflate_level = deflate_level});
      },
      "mmcif_dir"_a, "path"_a, "threads"_a = 0, "deflate_level"_a = 0,
      "Parses every <id>.cif of mmcif_dir once into an HDF5 store at path (written under a "
      "temporary name, renamed when complete); returns the number of entries. threads 0: the "
      "engine's pool; deflate_level 1-9 compresses (smaller, slower to read), 0 does not.");

  pyb::class_<TemplateHitReport>(m, "TemplateHitReport", "What became of one hit.")
      .def_readonly("index", &TemplateHitReport::index, "The hit's index.")
      .def_readonly("name", &TemplateHitReport::name, "'<pdb id>_<chain>' of the hit.")
      .def_property_readonly(
          "status", [](const TemplateHitReport& r) { return to_string(r.status); },
          "'used', 'duplicate', 'filtered', 'warning' or 'error'.")
      .def_readonly("reason", &TemplateHitReport::reason, "Why (empty for a plain 'used').")
      .def_readonly("realigned", &TemplateHitReport::realigned,
                    "Realigned with kalign to the mmCIF's SEQRES.")
      .def_readonly("template_index", &TemplateHitReport::template_index,
                    "The template it gave, or -1.")
      .def("__repr__", [](const TemplateHitReport& r) {
        return "TemplateHitReport(" + std::to_string(r.index) + ", '" + r.name + "', '" +
               to_string(r.status) + "')";
      });

  pyb::class_<TemplateFeatures>(m, "TemplateSearchResult",
                                "Template features with what became of each hit "
                                "(AlphaFold2's TemplateSearchResult).")
      .def_property_readonly("features", &features_dict,
                             "AlphaFold2's raw template features (template_aatype [T,N,22], "
                             "template_all_atom_positions, template_all_atom_masks, "
                             "template_sum_probs, template_domain_names, template_sequence).")
      .def_property_readonly("num_templates", &TemplateFeatures::num_templates,
                             "Templates made (T).")
      .def_readonly("hits", &TemplateFeatures::hits, "One report per hit taken, in order.")
      .def_property_readonly("warnings", &TemplateFeatures::warnings,
                             "AlphaFold2's warnings: hits without usable structure data, and "
                             "realignments.")
      .def_property_readonly("errors", &TemplateFeatures::errors, "AlphaFold2's errors.")
      .def_readonly("message", &TemplateFeatures::message, "Why there is no template, or ''.");

  m.def(
      "featurize_templates",
      [](const std::string& query, const std::vector<TemplateHit>& hits, const std::string& format,
         const pyb::object& source, std::optional<std::string> max_template_date, int64_t max_hits,
         const std::string& filters, const std::string& residue_letters, const std::string& kalign,
         const std::optional<std::string>& obsolete) {
        TemplateFeaturizerOptions o;
        o.max_template_date = std::move(max_template_date);
        o.max_hits = max_hits;
        o.filters = filters_from(filters);
        o.residue_letters = letters_from(residue_letters);
        o.kalign_binary = kalign;
        auto src = source_from(source);
        pyb::gil_scoped_release nogil;
        if (obsolete) o.obsolete = read_obsolete_pdbs(*obsolete);
        return featurize_templates(query, hits, format_from(format), *src, o);
      },
      "query"_a, "hits"_a, "format"_a, "source"_a, "max_template_date"_a = pyb::none(),
      "max_hits"_a = 20, "filters"_a = "alphafold", "residue_letters"_a = "biopython-1.79",
      "kalign"_a = "kalign", "obsolete"_a = pyb::none(),
      "AlphaFold2's template features from hits ('hhr' or 'sto' format) and a source (an mmCIF "
      "directory path, MmcifDirectory or TemplateStore); see exafold.features.template_features.");

  m.def(
      "process_template_features",
      [](const pyb::dict& raw, int64_t max_templates, bool pad, const std::string& dtype) {
        FeatureDict f = feature_dict_from(raw);
        TemplateProcessOptions o{max_templates, pad,
                                 dtype == "float64" ? DType::float64 : DType::float32};
        check(dtype == "float32" || dtype == "float64", "dtype must be float32 or float64");
        FeatureDict out;
        {
          pyb::gil_scoped_release nogil;
          out = process_template_features(f, o);
        }
        pyb::dict d;
        for (const auto& [name, t] : out) d[name.c_str()] = tensor_to_numpy(t);
        return d;
      },
      "raw"_a, "max_templates"_a = 4, "pad_to_max_templates"_a = false, "dtype"_a = "float32",
      "The processed template features the model takes (see exafold.features).");
}

}  // namespace exafold::py
