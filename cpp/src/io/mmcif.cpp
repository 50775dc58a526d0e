#include "exafold/io/mmcif.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "exafold/core/error.h"

namespace exafold::io {
namespace {

void category_end(std::ostream& os) { os << "#\n"; }

}  // namespace

void write_mmcif(const ProteinStructure& st, std::ostream& os, const MmcifWriteOptions& opt) {
  st.validate();
  check(!opt.name.empty() && opt.name.find_first_of(" \t\r\n") == std::string::npos,
        "mmCIF block name must be one non-empty word, got \"", opt.name, "\"");
  const char chain = st.chain_id;
  os << "data_" << opt.name << "\n#\n_entry.id " << opt.name << "\n#\n";

  if (opt.entity_poly) {
    os << "_entity.id 1\n_entity.type polymer\n#\n"
       << "_entity_poly.entity_id 1\n_entity_poly.type 'polypeptide(L)'\n#\n"
       << "_struct_asym.id " << chain << "\n_struct_asym.entity_id 1\n#\n"
       << "loop_\n_entity_poly_seq.entity_id\n_entity_poly_seq.num\n_entity_poly_seq.mon_id\n"
          "_entity_poly_seq.hetero\n";
    for (size_t i = 0; i < st.size(); ++i)
      os << "1 " << i + 1 << ' ' << kRestypes3[st.aatype[i]] << " n\n";
    category_end(os);
  }

  os << "loop_\n";
  for (const char* item : {"group_PDB",      "id",
                           "type_symbol",    "label_atom_id",
                           "label_alt_id",   "label_comp_id",
                           "label_asym_id",  "label_entity_id",
                           "label_seq_id",   "pdbx_PDB_ins_code",
                           "Cartn_x",        "Cartn_y",
                           "Cartn_z",        "occupancy",
                           "B_iso_or_equiv", "auth_seq_id",
                           "auth_comp_id",   "auth_asym_id",
                           "auth_atom_id",   "pdbx_PDB_model_num"})
    os << "_atom_site." << item << '\n';
  char buf[160];
  int serial = 0;
  for (size_t i = 0; i < st.size(); ++i) {
    const std::string res(kRestypes3[st.aatype[i]]);
    for (size_t a = 0; a < kAtom37Names.size(); ++a) {
      if (!st.atom_mask[i * 37 + a]) continue;
      const float* p = &st.atom_positions[(i * 37 + a) * 3];
      for (int k = 0; k < 3; ++k)
        check(std::isfinite(p[k]), "non-finite coordinate at residue ", i, " atom ",
              kAtom37Names[a]);
      const std::string name(kAtom37Names[a]);
      std::snprintf(
          buf, sizeof buf, "ATOM %d %c %s . %s %c 1 %zu ? %.3f %.3f %.3f 1.00 %.2f %d %s %c %s 1\n",
          ++serial, name[0], name.c_str(), res.c_str(), chain, i + 1, double(p[0]), double(p[1]),
          double(p[2]), double(st.plddt[i]), st.residue_index[i], res.c_str(), chain, name.c_str());
      os << buf;
    }
  }
  category_end(os);

  if (opt.plddt_metrics) {
    double mean = 0;
    for (float x : st.plddt) mean += x;
    mean /= double(st.size());
    os << "loop_\n_ma_qa_metric.id\n_ma_qa_metric.mode\n_ma_qa_metric.name\n_ma_qa_metric.type\n"
          "1 global pLDDT pLDDT\n2 local pLDDT pLDDT\n#\n";
    std::snprintf(buf, sizeof buf,
                  "_ma_qa_metric_global.metric_id 1\n_ma_qa_metric_global.metric_value %.2f\n"
                  "_ma_qa_metric_global.model_id 1\n_ma_qa_metric_global.ordinal_id 1\n#\n",
                  mean);
    os << buf << "loop_\n";
    for (const char* item : {"label_asym_id", "label_comp_id", "label_seq_id", "metric_id",
                             "metric_value", "model_id", "ordinal_id"})
      os << "_ma_qa_metric_local." << item << '\n';
    for (size_t i = 0; i < st.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%c %s %zu 2 %.2f 1 %zu\n", chain,
                    std::string(kRestypes3[st.aatype[i]]).c_str(), i + 1, double(st.plddt[i]),
                    i + 1);
      os << buf;
    }
    category_end(os);
  }
  check<IoError>(bool(os), "writing mmCIF text failed");
}

std::string make_mmcif_string(const ProteinStructure& structure, const MmcifWriteOptions& options) {
  std::ostringstream os;
  write_mmcif(structure, os, options);
  return os.str();
}

}  // namespace exafold::io
