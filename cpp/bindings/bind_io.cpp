// PDB/mmCIF writers and HDF5 shards.
#include <cmath>
#include <optional>

#include "common.h"
#include "exafold/core/error.h"
#include "exafold/io/hdf5_shard.h"
#include "exafold/io/mmcif.h"
#include "exafold/io/pdb.h"
#include "numpy_vector.h"

namespace exafold::py {
namespace {

using namespace exafold::io;
using pyb::arg;

template <class T>
using carray = pyb::array_t<T, pyb::array::c_style | pyb::array::forcecast>;

template <class T>
std::span<const T> span_of(const carray<T>& a) {
  return {a.data(), size_t(a.size())};
}

// The numpy arrays a structure is made of; forcecast converts float masks and int64 indices.
struct StructureArrays {
  carray<uint8_t> aatype;
  carray<int32_t> residue_index;
  carray<float> atom_positions;
  carray<uint8_t> atom_mask;
  carray<float> plddt;

  ProteinStructure view(const std::string& chain_id) const {
    check(chain_id.size() == 1, "chain_id must be one character, got \"", chain_id, "\"");
    return {span_of(aatype),    span_of(residue_index), span_of(atom_positions),
            span_of(atom_mask), span_of(plddt),         chain_id[0]};
  }
};

PaeStorage parse_pae(const std::string& s) {
  if (s == "float16") return PaeStorage::float16;
  if (s == "float32") return PaeStorage::float32;
  if (s == "none") return PaeStorage::none;
  fail("pae must be float16, float32 or none, got \"", s, "\"");
}

pyb::dict shard_dict(Shard&& s) {
  const auto r = pyb::ssize_t(s.aatype.size());
  pyb::dict d;
  d["exafold_version"] = s.exafold_version;
  d["layout_version"] = s.layout_version;
  d["created"] = s.created;
  d["pae_dtype"] = pae_storage_name(s.pae_storage);
  d["index"] = s.index();
  // Keys are the dataset names of docs/formats.md.
  d["id"] = s.ids;
  d["sequence"] = s.sequences;
  d["model"] = s.models;
  d["residue_offsets"] = to_numpy(std::move(s.residue_offsets));
  d["aatype"] = to_numpy(std::move(s.aatype));
  d["residue_index"] = to_numpy(std::move(s.residue_index));
  d["atom_positions"] = to_numpy(std::move(s.atom_positions), {r, kAtom37, 3});
  d["atom_mask"] = to_numpy(std::move(s.atom_mask), {r, kAtom37});
  d["plddt"] = to_numpy(std::move(s.plddt));
  d["mean_plddt"] = to_numpy(std::move(s.mean_plddt));
  d["ptm"] = to_numpy(std::move(s.ptm));
  d["seed"] = to_numpy(std::move(s.seeds));
  d["runtime_seconds"] = to_numpy(std::move(s.runtime_seconds));
  d["flops"] = to_numpy(std::move(s.flops));
  d["template_offsets"] = to_numpy(std::move(s.template_offsets));
  d["template_name"] = s.template_names;
  d["template_sum_probs"] = to_numpy(std::move(s.template_sum_probs));
  if (s.pae_storage != PaeStorage::none) {
    d["pae_offsets"] = to_numpy(std::move(s.pae_offsets));
    d["pae"] = to_numpy(std::move(s.pae));
  }
  return d;
}

}  // namespace

void bind_io(pyb::module_& m) {
  m.def(
      "make_pdb_string",
      [](carray<uint8_t> aatype, carray<int32_t> residue_index, carray<float> positions,
         carray<uint8_t> mask, carray<float> plddt, const std::string& chain_id, bool model_record,
         int model_number, bool ter_record, bool end_record) {
        const StructureArrays a{aatype, residue_index, positions, mask, plddt};
        pyb::gil_scoped_release release;
        return make_pdb_string(a.view(chain_id),
                               {model_record, model_number, ter_record, end_record});
      },
      arg("aatype"), arg("residue_index"), arg("atom_positions"), arg("atom_mask"), arg("plddt"),
      pyb::kw_only(), arg("chain_id") = "A", arg("model_record") = true, arg("model_number") = 1,
      arg("ter_record") = true, arg("end_record") = true,
      "PDB text of one chain in AlphaFold2's layout (pLDDT in the B-factor column)");
  m.def(
      "make_mmcif_string",
      [](carray<uint8_t> aatype, carray<int32_t> residue_index, carray<float> positions,
         carray<uint8_t> mask, carray<float> plddt, const std::string& chain_id, std::string name,
         bool entity_poly, bool plddt_metrics) {
        const StructureArrays a{aatype, residue_index, positions, mask, plddt};
        pyb::gil_scoped_release release;
        return make_mmcif_string(a.view(chain_id), {std::move(name), entity_poly, plddt_metrics});
      },
      arg("aatype"), arg("residue_index"), arg("atom_positions"), arg("atom_mask"), arg("plddt"),
      pyb::kw_only(), arg("chain_id") = "A", arg("name") = "exafold", arg("entity_poly") = true,
      arg("plddt_metrics") = true, "mmCIF text of one chain with ModelCIF-style pLDDT metrics");

  pyb::class_<ShardWriter>(m, "ShardWriter",
                           "Writes one HDF5 shard (docs/formats.md) as <path>.tmp; finish() "
                           "makes it durable under <path>. A context manager: a clean exit "
                           "finishes, an exception discards.")
      .def(pyb::init([](std::string path, const std::string& pae, int64_t chunk_residues,
                        int deflate_level) {
             return std::make_unique<ShardWriter>(
                 std::move(path),
                 ShardWriterOptions{parse_pae(pae), chunk_residues, deflate_level});
           }),
           arg("path"), arg("pae") = "float16", arg("chunk_residues") = 8192,
           arg("deflate_level") = 1)
      .def(
          "append",
          [](ShardWriter& w, std::string id, std::string sequence, carray<uint8_t> aatype,
             carray<int32_t> residue_index, carray<float> positions, carray<uint8_t> mask,
             carray<float> plddt, std::string model, uint64_t seed, double runtime_seconds,
             double flops, std::optional<float> ptm, std::optional<carray<float>> pae,
             std::vector<std::string> templates, std::optional<carray<float>> template_sum_probs) {
            ShardStructure s{
                std::move(id),
                std::move(sequence),
                span_of(aatype),
                span_of(residue_index),
                span_of(positions),
                span_of(mask),
                span_of(plddt),
                ptm.value_or(std::nanf("")),
                pae ? span_of(*pae) : std::span<const float>{},
                std::move(model),
                seed,
                runtime_seconds,
                flops,
                templates,
                template_sum_probs ? span_of(*template_sum_probs) : std::span<const float>{}};
            // The arrays stay referenced by the arguments; HDF5 writes need no Python.
            pyb::gil_scoped_release release;
            return w.append(s);
          },
          arg("id"), arg("sequence"), arg("aatype"), arg("residue_index"), arg("atom_positions"),
          arg("atom_mask"), arg("plddt"), pyb::kw_only(), arg("model"), arg("seed"),
          arg("runtime_seconds"), arg("flops"), arg("ptm") = pyb::none(), arg("pae") = pyb::none(),
          arg("templates") = std::vector<std::string>{}, arg("template_sum_probs") = pyb::none(),
          "Appends one structure (atom37 arrays, pLDDT, optional pTM and PAE [S, S], the "
          "templates used and their sum_probs); returns its row.")
      .def(
          "finish",
          [](ShardWriter& w) {
            pyb::gil_scoped_release release;
            w.finish();
          },
          "Writes the attributes, fsyncs and renames the file to its final name.")
      .def("__len__", &ShardWriter::size)
      .def(
          "__enter__", [](ShardWriter& w) -> ShardWriter& { return w; },
          pyb::return_value_policy::reference)
      // Finish on a clean exit; on an exception leave it unfinished so it is discarded.
      .def("__exit__", [](ShardWriter& w, pyb::object type, pyb::object, pyb::object) {
        if (type.is_none()) w.finish();
      });

  m.def(
      "read_shard",
      [](const std::string& path) {
        Shard s;
        {
          pyb::gil_scoped_release release;
          s = read_shard(path);
        }
        return shard_dict(std::move(s));
      },
      arg("path"),
      "A shard as a dict keyed by its dataset and attribute names (docs/formats.md): numpy "
      "arrays (per-residue columns concatenated, residue_offsets delimiting structures; "
      "template_offsets the templates), the string columns (id, sequence, model, "
      "template_name) as lists, and index: id -> row");
}

}  // namespace exafold::py
