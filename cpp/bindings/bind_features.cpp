// The feature pipeline: exafold._core.features (parsing, raw and processed features).
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "common.h"
#include "exafold/features/a3m.h"
#include "exafold/features/alphabet.h"
#include "exafold/features/fasta.h"
#include "exafold/features/processed_features.h"
#include "exafold/features/raw_features.h"
#include "exafold/features/residue_policy.h"
#include "exafold/features/stockholm.h"

namespace exafold::py {
namespace {

using namespace exafold::features;
using namespace pybind11::literals;

// A host tensor as a numpy array sharing its memory; the array keeps the storage alive.
pyb::array as_numpy(const Tensor& t) {
  std::vector<pyb::ssize_t> shape(t.shape().begin(), t.shape().end());
  std::vector<pyb::ssize_t> strides(t.strides().begin(), t.strides().end());
  auto* keep = new std::shared_ptr<Storage>(t.storage());
  pyb::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  pyb::dtype dt = t.dtype() == DType::int32 ? pyb::dtype::of<int32_t>() : pyb::dtype::of<float>();
  return pyb::array(dt, shape, strides, t.data_ptr(), base);
}

pyb::dict as_dict(const FeatureDict& f) {
  pyb::dict d;
  for (const auto& [name, t] : f) d[name.c_str()] = as_numpy(t);
  return d;
}

// AlphaFold2 keeps its string features as one-element object arrays of bytes.
pyb::array bytes_feature(const std::string& s) {
  pyb::list items;
  items.append(pyb::bytes(s));
  return pyb::module_::import("numpy").attr("array")(items, "dtype"_a = "object");
}

pyb::dict raw_dict(const RawFeatures& raw) {
  pyb::dict d = as_dict(raw.arrays);
  d["domain_name"] = bytes_feature(raw.domain_name);
  d["sequence"] = bytes_feature(raw.sequence);
  return d;
}

using Int32Array = pyb::array_t<int32_t, pyb::array::c_style | pyb::array::forcecast>;

Tensor int32_tensor_from(const pyb::handle& obj, const char* name) {
  auto a = Int32Array::ensure(obj);
  check(bool(a), "raw feature '", name, "' is not an integer array");
  Shape shape;
  for (pyb::ssize_t i = 0; i < a.ndim(); ++i) shape.push_back(a.shape(i));
  Tensor t = Tensor::empty(shape, DType::int32);
  std::copy_n(a.data(), a.size(), t.data<int32_t>());
  return t;
}

// The arrays prepare_msa() reads, from a raw feature dict (exafold's or AlphaFold2's own).
RawFeatures raw_from_dict(const pyb::dict& d) {
  RawFeatures raw;
  for (const char* name : {"aatype", "between_segment_residues", "residue_index", "msa"}) {
    check(d.contains(name), "raw features lack '", name, "'");
    raw.arrays.set(name, int32_tensor_from(d[name], name));
  }
  const char* del = d.contains("deletion_matrix_int") ? "deletion_matrix_int" : "deletion_matrix";
  check(d.contains(del), "raw features lack 'deletion_matrix_int'");
  raw.arrays.set("deletion_matrix_int", int32_tensor_from(d[del], del));
  return raw;
}

pyb::array_t<int32_t> int32_array(const std::vector<int32_t>& v, std::vector<pyb::ssize_t> shape) {
  pyb::array_t<int32_t> a(shape);
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

pyb::array_t<int32_t> msa_ids(const Msa& m) {
  pyb::array_t<int32_t> a({pyb::ssize_t(m.num_rows()), pyb::ssize_t(m.width())});
  int32_t* p = a.mutable_data();
  for (const MsaRow& row : m.rows())
    for (char c : row.residues) *p++ = hhblits_id_of(c);
  return a;
}

pyb::array_t<int32_t> msa_deletions(const Msa& m) {
  pyb::array_t<int32_t> a({pyb::ssize_t(m.num_rows()), pyb::ssize_t(m.width())});
  int32_t* p = a.mutable_data();
  for (const MsaRow& row : m.rows()) {
    row.deletion_counts(p);
    p += m.width();
  }
  return a;
}

MsaSample sample_from(const Int32Array& order,
                      const pyb::array_t<int8_t, pyb::array::c_style | pyb::array::forcecast>& bert,
                      const Int32Array& extra) {
  MsaSample s;
  s.order.assign(order.data(), order.data() + order.size());
  s.bert.assign(bert.data(), bert.data() + bert.size());
  s.extra.assign(extra.data(), extra.data() + extra.size());
  return s;
}

template <class F>
Msa read_released(F&& read) {
  pyb::gil_scoped_release nogil;
  return read();
}

}  // namespace

void bind_features(pyb::module_& parent) {
  auto m = parent.def_submodule(
      "features",
      "AlphaFold2 input features: FASTA/A3M/Stockholm parsing, raw and processed "
      "features (see exafold.features)");

  pyb::class_<FastaRecord>(m, "FastaRecord", "One FASTA record: description, sequence, line.")
      .def(pyb::init([](std::string description, std::string sequence) {
             return FastaRecord{std::move(description), std::move(sequence), 0};
           }),
           "description"_a, "sequence"_a)
      .def_readonly("description", &FastaRecord::description,
                    "The header line after '>'; its first word is the id.")
      .def_readonly("sequence", &FastaRecord::sequence, "One-letter residues, upper case.")
      .def_readonly("line", &FastaRecord::line, "Line of the header in its file (0 if built).")
      .def_property_readonly("id", &FastaRecord::id,
                             "The description's first word (split as str.split() splits).")
      .def("__repr__", [](const FastaRecord& r) {
        return "FastaRecord('" + r.description + "', " + std::to_string(r.sequence.size()) +
               " residues)";
      });

  m.def(
      "read_fasta",
      [](const std::string& path) {
        pyb::gil_scoped_release nogil;
        return read_fasta(path);
      },
      "path"_a, "Every record of a FASTA file; ValueError names file:line on bad input.");
  m.def("parse_fasta", &parse_fasta, "text"_a, "name"_a = "<text>",
        pyb::call_guard<pyb::gil_scoped_release>(),
        "Every record of FASTA text; errors name `name`:line.");
  auto entries = [](std::vector<FastaEntry>&& v) {
    pyb::list out;
    for (FastaEntry& e : v)
      out.append(pyb::make_tuple(std::move(e.record), std::move(e.problem), e.problem_line));
    return out;
  };
  m.def(
      "scan_fasta",
      [entries](const std::string& path) {
        std::vector<FastaEntry> v;
        {
          pyb::gil_scoped_release nogil;
          v = scan_fasta(path);
        }
        return entries(std::move(v));
      },
      "path"_a,
      "Every record of a FASTA file as (record, problem, problem_line): a bad record is kept with "
      "its reason (problem empty when usable) and the reading goes on; ValueError names file:line "
      "only when the whole file is unusable.");
  m.def(
      "scan_fasta_text",
      [entries](const std::string& text, const std::string& name) {
        std::vector<FastaEntry> v;
        {
          pyb::gil_scoped_release nogil;
          v = scan_fasta_text(text, name);
        }
        return entries(std::move(v));
      },
      "text"_a, "name"_a = "<text>", "As scan_fasta, from text; `name` stands for the file.");
  m.def(
      "normalize_sequence",
      [](const std::string& raw, const std::string& residues) {
        return normalize_sequence(raw, parse_residue_policy(residues));
      },
      "sequence"_a, "residues"_a = "strict",
      "The query a prediction runs on: whitespace removed, upper-cased, a terminal '*' dropped; "
      "residues='strict' allows the 20 standard residues, 'unknown' also B J O U X Z (as X). "
      "ValueError names the first refused residue and its position, and says a complex "
      "('A...:B...') is a multimer, which is not supported.");

  pyb::class_<Msa>(m, "Msa", "One alignment; row 0 is the query.")
      .def_property_readonly("source", &Msa::source, "The file (or name) it was read from.")
      .def_property_readonly("num_rows", &Msa::num_rows, "Rows, the query included.")
      .def_property_readonly("width", &Msa::width, "Columns: the query's length.")
      .def("__len__", &Msa::num_rows)
      .def_property_readonly(
          "descriptions",
          [](const Msa& a) {
            std::vector<std::string> v;
            for (const auto& r : a.rows()) v.push_back(r.description);
            return v;
          },
          "Each row's description.")
      .def_property_readonly(
          "sequences",
          [](const Msa& a) {
            std::vector<std::string> v;
            for (const auto& r : a.rows()) v.push_back(r.residues);
            return v;
          },
          "Each row over the query's columns (insertions removed).")
      .def_property_readonly(
          "lines",
          [](const Msa& a) {
            std::vector<int64_t> v;
            for (const auto& r : a.rows()) v.push_back(r.line);
            return v;
          },
          "The line each row starts on in its file.")
      .def_property_readonly("msa", &msa_ids, "[rows, width] int32 HHblits ids (0..21)")
      .def_property_readonly("deletion_matrix", &msa_deletions, "[rows, width] int32")
      .def("__repr__", [](const Msa& a) {
        return "Msa('" + a.source() + "', " + std::to_string(a.num_rows()) + " rows x " +
               std::to_string(a.width()) + " columns)";
      });

  auto options = [](int64_t max_rows, std::string query) {
    return MsaReadOptions{.max_rows = max_rows, .query = std::move(query)};
  };
  m.def(
      "read_msa",
      [options](const std::string& path, int64_t max_rows, std::string query) {
        return read_released([&] { return read_msa(path, options(max_rows, std::move(query))); });
      },
      "path"_a, "max_rows"_a = 0, "query"_a = "",
      "An A3M or Stockholm file (by suffix): the first max_rows rows (0: all); when query is "
      "given, the first row must be it. ValueError names file:line.");
  m.def(
      "read_a3m_queries",
      [options](const std::string& path, int64_t max_rows) {
        std::vector<Msa> v;
        {
          pyb::gil_scoped_release nogil;
          v = read_a3m_queries(path, options(max_rows, ""));
        }
        return v;
      },
      "path"_a, "max_rows"_a = 0,
      "Every alignment of an A3M file holding one per query, each ended by a NUL byte (as "
      "colabfold_search writes them); one alignment for a file without NUL bytes.");
  m.def("is_query_row", &is_query_row, "residues"_a, "query"_a,
        "Whether an alignment row is the query (equal letters, and any two of B J O U X Z).");
  m.def(
      "read_a3m",
      [options](const std::string& path, int64_t max_rows, std::string query) {
        return read_released([&] { return read_a3m(path, options(max_rows, std::move(query))); });
      },
      "path"_a, "max_rows"_a = 0, "query"_a = "", "An A3M file; arguments as read_msa.");
  m.def(
      "read_stockholm",
      [options](const std::string& path, int64_t max_rows, std::string query) {
        return read_released(
            [&] { return read_stockholm(path, options(max_rows, std::move(query))); });
      },
      "path"_a, "max_rows"_a = 0, "query"_a = "", "A Stockholm file; arguments as read_msa.");
  m.def(
      "parse_a3m",
      [options](const std::string& text, const std::string& name, int64_t max_rows,
                std::string query) { return parse_a3m(text, name, options(max_rows, query)); },
      "text"_a, "name"_a = "<text>", "max_rows"_a = 0, "query"_a = "",
      pyb::call_guard<pyb::gil_scoped_release>(), "A3M text; errors name `name`:line.");
  m.def(
      "parse_stockholm",
      [options](const std::string& text, const std::string& name, int64_t max_rows,
                std::string query) {
        return parse_stockholm(text, name, options(max_rows, query));
      },
      "text"_a, "name"_a = "<text>", "max_rows"_a = 0, "query"_a = "",
      pyb::call_guard<pyb::gil_scoped_release>(), "Stockholm text; errors name `name`:line.");
  m.def("af2_hit_limit", &af2_hit_limit, "path"_a,
        "Rows AlphaFold2 keeps of an alignment file, judged by its name (uniref90 10,000, mgnify "
        "501; 0 = all for BFD and UniRef30/UniClust).");
  m.def("structure_seed", &structure_seed, "id"_a, "run_seed"_a,
        "A structure's 64-bit feature seed from its id and the run's seed (Note [Feature "
        "randomness]).");

  m.def(
      "build_raw_features",
      [](const FastaRecord& query,
         const std::vector<std::variant<std::string, std::pair<std::string, int64_t>>>& alignments,
         bool deduplicate) {
        std::vector<AlignmentFile> files;
        for (const auto& a : alignments) {
          if (const auto* path = std::get_if<std::string>(&a)) {
            files.push_back({*path, -1});
          } else {
            const auto& [path2, max_rows] = std::get<1>(a);
            files.push_back({path2, max_rows});
          }
        }
        RawFeatures raw;
        {
          pyb::gil_scoped_release nogil;
          raw = build_raw_features(query, std::span<const AlignmentFile>(files),
                                   {.deduplicate = deduplicate});
        }
        return raw_dict(raw);
      },
      "query"_a, "alignments"_a, "deduplicate"_a = true);
  m.def(
      "build_raw_features_from_msas",
      [](const FastaRecord& query, const std::vector<const Msa*>& msas, bool deduplicate) {
        RawFeatures raw;
        {
          pyb::gil_scoped_release nogil;
          raw = build_raw_features(query, std::span<const Msa* const>(msas),
                                   {.deduplicate = deduplicate});
        }
        return raw_dict(raw);
      },
      "query"_a, "msas"_a, "deduplicate"_a = true);

  pyb::class_<ProcessConfig>(m, "ProcessConfig", "AlphaFold2's inference feature settings.")
      .def(pyb::init([](int64_t max_clusters, int64_t max_extra, int num_recycle,
                        double replace_fraction, double uniform_prob, double profile_prob,
                        double same_prob, bool fixed_size) {
             ProcessConfig c{max_clusters, max_extra,    num_recycle, replace_fraction,
                             uniform_prob, profile_prob, same_prob,   fixed_size};
             c.validate();
             return c;
           }),
           "max_clusters"_a = 512, "max_extra"_a = 1024, "num_recycle"_a = 3,
           "replace_fraction"_a = 0.15, "uniform_prob"_a = 0.1, "profile_prob"_a = 0.1,
           "same_prob"_a = 0.1, "fixed_size"_a = false)
      .def_readwrite("max_clusters", &ProcessConfig::max_clusters,
                     "MSA cluster centres per iteration, the query included.")
      .def_readwrite("max_extra", &ProcessConfig::max_extra, "Extra-MSA rows per iteration.")
      .def_readwrite("num_recycle", &ProcessConfig::num_recycle,
                     "Recycles: num_recycle + 1 feature sets are drawn.")
      .def_readwrite("replace_fraction", &ProcessConfig::replace_fraction,
                     "Fraction of cluster-centre positions the masked-MSA objective replaces.")
      .def_readwrite("uniform_prob", &ProcessConfig::uniform_prob,
                     "Probability a replaced position becomes a uniformly random residue.")
      .def_readwrite("profile_prob", &ProcessConfig::profile_prob,
                     "Probability a replaced position is drawn from the MSA profile.")
      .def_readwrite("same_prob", &ProcessConfig::same_prob,
                     "Probability a replaced position keeps its residue.")
      .def_readwrite("fixed_size", &ProcessConfig::fixed_size,
                     "Pad the MSA dimensions to max_clusters and max_extra.");

  m.def(
      "process_features",
      [](const pyb::dict& raw, const ProcessConfig& config, uint64_t seed) {
        RawFeatures r = raw_from_dict(raw);
        FeatureDict f;
        {
          pyb::gil_scoped_release nogil;
          f = make_processed_features(r, config, seed);
        }
        return as_dict(f);
      },
      "raw"_a, "config"_a, "seed"_a,
      "All num_recycle + 1 iterations' features, stacked on a leading axis.");
  m.def(
      "processed_feature_bytes", &processed_feature_bytes, "residues"_a, "clusters"_a, "extra"_a,
      "iterations"_a,
      "Bytes process_features returns for these sizes (per iteration: cluster rows, extra rows).");
  m.def(
      "draw_msa_sample",
      [](const pyb::dict& raw, const ProcessConfig& config, uint64_t seed, int iteration) {
        RawFeatures r = raw_from_dict(raw);
        MsaSample s;
        int64_t S, L;
        {
          pyb::gil_scoped_release nogil;
          PreparedMsa p = prepare_msa(r);
          s = draw_msa_sample(Philox(seed), iteration, p, config);
          S = std::min(config.max_clusters, p.num_rows);
          L = p.num_res;
        }
        pyb::array_t<int8_t> bert({pyb::ssize_t(S), pyb::ssize_t(L)});
        std::copy(s.bert.begin(), s.bert.end(), bert.mutable_data());
        pyb::dict d;
        d["order"] = int32_array(s.order, {pyb::ssize_t(s.order.size())});
        d["bert"] = bert;
        d["extra"] = int32_array(s.extra, {pyb::ssize_t(s.extra.size())});
        return d;
      },
      "raw"_a, "config"_a, "seed"_a, "iteration"_a,
      "Iteration `iteration`'s random choices: order [R], bert [S, L] (-1 or a token), extra [E].");
  m.def(
      "iteration_features",
      [](const pyb::dict& raw, const ProcessConfig& config, const Int32Array& order,
         const pyb::array_t<int8_t, pyb::array::c_style | pyb::array::forcecast>& bert,
         const Int32Array& extra) {
        RawFeatures r = raw_from_dict(raw);
        MsaSample s = sample_from(order, bert, extra);
        FeatureDict f;
        {
          pyb::gil_scoped_release nogil;
          f = make_iteration_features(prepare_msa(r), s, config);
        }
        return as_dict(f);
      },
      "raw"_a, "config"_a, "order"_a, "bert"_a, "extra"_a,
      "One iteration's features for given random choices (see draw_msa_sample).");
}

}  // namespace exafold::py
