#include "exafold/io/mmcif.h"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "exafold/core/error.h"

namespace exafold::io {
namespace {

void category_end(std::ostream& os) { os << "#\n"; }

// A value as CIF writes it: bare when it is one plain word, else quoted ('...' or "..."), else
// a semicolon text field; '.' when empty.
std::string cif_value(const std::string& v) {
  if (v.empty()) return ".";
  std::string lower = v;
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  bool reserved = v == "." || v == "?";
  for (const char* word : {"data_", "loop_", "save_", "global_", "stop_"})
    reserved = reserved || lower.rfind(word, 0) == 0;
  const bool plain = !reserved && v.find_first_of(" \t\r\n'\"") == std::string::npos &&
                     std::string("_#$;[]").find(v[0]) == std::string::npos;
  if (plain) return v;
  // Quotes that do not occur in the value (a reader may end a quoted value at any quote that
  // whitespace follows; avoiding them altogether is the safe side).
  if (v.find('\n') == std::string::npos) {
    if (v.find('\'') == std::string::npos) return "'" + v + "'";
    if (v.find('"') == std::string::npos) return "\"" + v + "\"";
  }
  return "\n;" + v + "\n;";
}

// The Chemical Component Dictionary's entries for the residues a prediction holds (formula with
// its charge, as the CCD writes it, and formula weight).
struct ChemComp {
  const char* id;
  const char* type;
  const char* name;
  const char* formula;
  const char* weight;
};
constexpr std::array<ChemComp, 21> kChemComps = {{
    {"ALA", "L-peptide linking", "ALANINE", "C3 H7 N O2", "89.093"},
    {"ARG", "L-peptide linking", "ARGININE", "C6 H15 N4 O2 1", "175.209"},
    {"ASN", "L-peptide linking", "ASPARAGINE", "C4 H8 N2 O3", "132.118"},
    {"ASP", "L-peptide linking", "ASPARTIC ACID", "C4 H7 N O4", "133.103"},
    {"CYS", "L-peptide linking", "CYSTEINE", "C3 H7 N O2 S", "121.158"},
    {"GLN", "L-peptide linking", "GLUTAMINE", "C5 H10 N2 O3", "146.144"},
    {"GLU", "L-peptide linking", "GLUTAMIC ACID", "C5 H9 N O4", "147.129"},
    {"GLY", "peptide linking", "GLYCINE", "C2 H5 N O2", "75.067"},
    {"HIS", "L-peptide linking", "HISTIDINE", "C6 H10 N3 O2 1", "156.162"},
    {"ILE", "L-peptide linking", "ISOLEUCINE", "C6 H13 N O2", "131.173"},
    {"LEU", "L-peptide linking", "LEUCINE", "C6 H13 N O2", "131.173"},
    {"LYS", "L-peptide linking", "LYSINE", "C6 H15 N2 O2 1", "147.195"},
    {"MET", "L-peptide linking", "METHIONINE", "C5 H11 N O2 S", "149.211"},
    {"PHE", "L-peptide linking", "PHENYLALANINE", "C9 H11 N O2", "165.189"},
    {"PRO", "L-peptide linking", "PROLINE", "C5 H9 N O2", "115.130"},
    {"SER", "L-peptide linking", "SERINE", "C3 H7 N O3", "105.093"},
    {"THR", "L-peptide linking", "THREONINE", "C4 H9 N O3", "119.119"},
    {"TRP", "L-peptide linking", "TRYPTOPHAN", "C11 H12 N2 O2", "204.225"},
    {"TYR", "L-peptide linking", "TYROSINE", "C9 H11 N O3", "181.189"},
    {"VAL", "L-peptide linking", "VALINE", "C5 H11 N O2", "117.146"},
    {"UNK", "L-peptide linking", "UNKNOWN", "C4 H9 N O2", "103.120"},
}};

void loop(std::ostream& os, const char* category, std::initializer_list<const char*> items) {
  os << "loop_\n";
  for (const char* item : items) os << category << '.' << item << '\n';
}

// Everything about the model except its atoms and metrics.
void write_model_description(const ProteinStructure& st, std::ostream& os,
                             const MmcifWriteOptions& opt) {
  const char chain = st.chain_id;
  const std::string version = opt.software_version.empty() ? "." : opt.software_version;
  os << "_audit_conform.dict_name mmcif_ma.dic\n_audit_conform.dict_version "
     << kModelcifDictVersion
     << "\n_audit_conform.dict_location "
        "https://raw.githubusercontent.com/ihmwg/ModelCIF/master/dist/mmcif_ma.dic\n#\n";
  os << "_struct.entry_id " << opt.name << "\n_struct.title " << cif_value(opt.title)
     << "\n_struct.pdbx_model_details " << cif_value(opt.details) << "\n#\n";
  loop(os, "_software",
       {"pdbx_ordinal", "name", "classification", "version", "type", "location", "description"});
  os << "1 exafold 'model building' " << cif_value(version)
     << " program . 'AlphaFold2 inference engine'\n";
  category_end(os);

  std::set<uint8_t> used(st.aatype.begin(), st.aatype.end());
  loop(os, "_chem_comp", {"id", "type", "name", "formula", "formula_weight", "ma_provenance"});
  for (uint8_t t : used) {
    const ChemComp& c = kChemComps[t];
    os << c.id << ' ' << cif_value(c.type) << ' ' << cif_value(c.name) << ' '
       << cif_value(c.formula) << ' ' << c.weight << " 'CCD Core'\n";
  }
  category_end(os);

  loop(os, "_ma_data", {"id", "name", "content_type"});
  os << "1 'Target sequence' target\n2 Model 'model coordinates'\n";
  category_end(os);
  os << "_ma_target_entity.entity_id 1\n_ma_target_entity.data_id 1\n"
        "_ma_target_entity.origin ?\n#\n"
     << "_ma_target_entity_instance.asym_id " << chain
     << "\n_ma_target_entity_instance.entity_id 1\n_ma_target_entity_instance.details .\n#\n";
  os << "_ma_model_list.ordinal_id 1\n_ma_model_list.model_id 1\n_ma_model_list.model_group_id 1\n"
     << "_ma_model_list.model_name " << cif_value(opt.model_name)
     << "\n_ma_model_list.model_group_name " << cif_value("exafold " + version + " model")
     << "\n_ma_model_list.data_id 2\n_ma_model_list.model_type 'Ab initio model'\n#\n";
}

void write_metrics(const ProteinStructure& st, std::ostream& os, const MmcifWriteOptions& opt) {
  const char chain = st.chain_id;
  const bool ptm = std::isfinite(opt.ptm);
  double mean = 0;
  for (float x : st.plddt) mean += x;
  mean /= double(st.size());
  loop(os, "_ma_qa_metric", {"id", "name", "description", "type", "mode", "software_group_id"});
  os << "1 pLDDT 'Predicted lddt' pLDDT global .\n2 pLDDT 'Predicted lddt' pLDDT local .\n";
  if (ptm) os << "3 pTM 'Predicted TM score' pTM global .\n";
  category_end(os);
  char buf[160];
  loop(os, "_ma_qa_metric_global", {"ordinal_id", "model_id", "metric_id", "metric_value"});
  std::snprintf(buf, sizeof buf, "1 1 1 %.2f\n", mean);
  os << buf;
  if (ptm) {
    std::snprintf(buf, sizeof buf, "2 1 3 %.3f\n", double(opt.ptm));
    os << buf;
  }
  category_end(os);
  loop(os, "_ma_qa_metric_local",
       {"ordinal_id", "model_id", "label_asym_id", "label_seq_id", "label_comp_id", "metric_id",
        "metric_value"});
  for (size_t i = 0; i < st.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%zu 1 %c %zu %s 2 %.2f\n", i + 1, chain, i + 1,
                  std::string(kRestypes3[st.aatype[i]]).c_str(), double(st.plddt[i]));
    os << buf;
  }
  category_end(os);
}

}  // namespace

void write_mmcif(const ProteinStructure& st, std::ostream& os, const MmcifWriteOptions& opt) {
  st.validate();
  check(!opt.name.empty() && opt.name.find_first_of(" \t\r\n'\"") == std::string::npos,
        "mmCIF block name must be one non-empty word, got \"", opt.name, "\"");
  check(!opt.modelcif || opt.entity_poly,
        "the ModelCIF categories need the entity categories (entity_poly)");
  const char chain = st.chain_id;
  os << "data_" << opt.name << "\n#\n_entry.id " << opt.name << "\n#\n";
  if (opt.modelcif) write_model_description(st, os, opt);

  if (opt.entity_poly) {
    std::string sequence;
    for (uint8_t t : st.aatype) sequence += kRestypes1[t];
    os << "_entity.id 1\n_entity.type polymer\n_entity.src_method man\n"
          "_entity.pdbx_description .\n#\n"
       << "_entity_poly.entity_id 1\n_entity_poly.type 'polypeptide(L)'\n"
          "_entity_poly.nstd_linkage no\n_entity_poly.pdbx_seq_one_letter_code "
       << sequence << "\n_entity_poly.pdbx_seq_one_letter_code_can " << sequence << "\n#\n"
       << "_struct_asym.id " << chain << "\n_struct_asym.entity_id 1\n#\n";
    loop(os, "_entity_poly_seq", {"entity_id", "num", "mon_id", "hetero"});
    for (size_t i = 0; i < st.size(); ++i)
      os << "1 " << i + 1 << ' ' << kRestypes3[st.aatype[i]] << " n\n";
    category_end(os);
  }

  std::set<char> elements;
  for (size_t i = 0; i < st.size(); ++i)
    for (size_t a = 0; a < kAtom37Names.size(); ++a)
      if (st.atom_mask[i * 37 + a]) elements.insert(kAtom37Names[a][0]);
  if (opt.modelcif) {
    loop(os, "_atom_type", {"symbol"});
    for (char e : elements) os << e << '\n';
    category_end(os);
  }

  loop(os, "_atom_site", {"group_PDB",      "id",
                          "type_symbol",    "label_atom_id",
                          "label_alt_id",   "label_comp_id",
                          "label_asym_id",  "label_entity_id",
                          "label_seq_id",   "pdbx_PDB_ins_code",
                          "Cartn_x",        "Cartn_y",
                          "Cartn_z",        "occupancy",
                          "B_iso_or_equiv", "auth_seq_id",
                          "auth_comp_id",   "auth_asym_id",
                          "auth_atom_id",   "pdbx_PDB_model_num"});
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

  if (opt.modelcif) write_metrics(st, os, opt);
  check<IoError>(bool(os), "writing mmCIF text failed");
}

std::string make_mmcif_string(const ProteinStructure& structure, const MmcifWriteOptions& options) {
  std::ostringstream os;
  write_mmcif(structure, os, options);
  return os.str();
}

}  // namespace exafold::io
