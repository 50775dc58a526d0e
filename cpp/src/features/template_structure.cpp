#include "exafold/features/template_structure.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <unordered_map>

#include <zlib.h>

#include "exafold/core/error.h"
#include "exafold/features/parse_error.h"
#include "exafold/model/residue_constants.h"
#include "features/cif_items.h"
#include "features/numbers.h"
#include "features/template_tables.h"
#include "features/text_check.h"

namespace exafold::features {

namespace {

namespace rc = model::rc;

// The file's content is unusable the way AlphaFold2 reads it: the entry gets this reason.
class Unreadable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void unreadable(const std::string& why) { throw Unreadable(why); }

constexpr std::array<std::string_view, 25> kWanted = {
    "_atom_site.id",
    "_atom_site.group_PDB",
    "_atom_site.label_atom_id",
    "_atom_site.label_alt_id",
    "_atom_site.label_comp_id",
    "_atom_site.label_asym_id",
    "_atom_site.label_seq_id",
    "_atom_site.auth_asym_id",
    "_atom_site.auth_seq_id",
    "_atom_site.pdbx_PDB_ins_code",
    "_atom_site.Cartn_x",
    "_atom_site.Cartn_y",
    "_atom_site.Cartn_z",
    "_atom_site.occupancy",
    "_atom_site.B_iso_or_equiv",
    "_atom_site.pdbx_PDB_model_num",
    "_entity_poly_seq.entity_id",
    "_entity_poly_seq.num",
    "_entity_poly_seq.mon_id",
    "_chem_comp.id",
    "_chem_comp.type",
    "_struct_asym.id",
    "_struct_asym.entity_id",
    "_pdbx_audit_revision_history.revision_date",
    "_entry.id",
};

const int kAtomSD = [] {
  for (int a = 0; a < rc::kAtom37; ++a)
    if (std::strcmp(rc::atom_types[a], "SD") == 0) return a;
  return -1;
}();

int atom37_index(std::string_view name) {
  static const std::unordered_map<std::string_view, int> index = [] {
    std::unordered_map<std::string_view, int> m;
    for (int a = 0; a < rc::kAtom37; ++a) m.emplace(rc::atom_types[a], a);
    return m;
  }();
  auto it = index.find(name);
  return it == index.end() ? -1 : it->second;
}

const CifItem& required(const CifItems& items, std::string_view name) {
  const CifItem* item = items.find(name);
  if (!item) unreadable("no " + std::string(name) + " in the file");
  return *item;
}

std::string where(const std::string& file, const CifItem& item, size_t i) {
  return file + ":" + std::to_string(item.lines[i]) + ": ";
}

double decimal_at(const CifItem& item, size_t i, std::string_view what, const std::string& file) {
  auto v = parse_decimal(item.values[i]);
  if (!v)
    unreadable(where(file, item, i) + std::string(what) +
               " is not a number: " + quote_text(item.values[i]));
  return *v;
}

int64_t integer_at(const CifItem& item, size_t i, std::string_view what, const std::string& file) {
  auto v = parse_integer(item.values[i]);
  if (!v)
    unreadable(where(file, item, i) + std::string(what) +
               " is not an integer: " + quote_text(item.values[i]));
  return *v;
}

// ---- Biopython's structure builder (MMCIFParser._build_structure + StructureBuilder), for the
// parts the featuriser reads: a residue's atoms, each atom's selected location, the residue's
// name, and the exceptions that make AlphaFold2 drop the whole file.

struct Atom {
  float xyz[3];
  double occupancy;
  bool blank_altloc;
};

// An Atom, or a DisorderedAtom: the location with the highest occupancy, the first on ties.
struct AtomSlot {
  std::string_view name;
  bool disordered = false;
  std::vector<Atom> locations;
  size_t selected = 0;
  double best = -std::numeric_limits<double>::infinity();

  void add_location(const Atom& a) {
    locations.push_back(a);
    if (a.occupancy > best) {
      best = a.occupancy;
      selected = locations.size() - 1;
    }
  }
};

struct Residue {
  std::string_view name;
  std::vector<AtomSlot> atoms;  // in Biopython's child order

  AtomSlot* find(std::string_view atom) {
    for (AtomSlot& s : atoms)
      if (s.name == atom) return &s;
    return nullptr;
  }
  void detach(std::string_view atom) {
    std::erase_if(atoms, [&](const AtomSlot& s) { return s.name == atom; });
  }
  bool completely_disordered() const {
    for (const AtomSlot& s : atoms)
      for (const Atom& a : s.locations)
        if (a.blank_altloc) return false;
    return true;
  }
};

// A Residue, or a DisorderedResidue (a point mutation): the variant last selected.
struct ResidueSlot {
  bool disordered = false;
  std::vector<Residue> variants;
  size_t selected = 0;

  Residue& current() { return variants[selected]; }
  Residue* variant(std::string_view name) {
    for (Residue& r : variants)
      if (r.name == name) return &r;
    return nullptr;
  }
};

// Biopython's residue id (hetflag, resseq, icode); the hetflag is ' ', 'W' or 'H_<name>'.
struct ResidueKey {
  char kind;                  // ' ', 'W' or 'H'
  std::string_view het_name;  // the residue name when kind is 'H'
  int64_t number;
  std::string_view icode;  // " " when unset
  bool operator==(const ResidueKey&) const = default;
  std::string hetflag() const {
    return kind == 'H' ? "H_" + std::string(het_name) : std::string(1, kind);
  }
};

struct ResidueKeyHash {
  size_t operator()(const ResidueKey& k) const {
    size_t h = std::hash<int64_t>{}(k.number);
    h = h * 31 + size_t(k.kind);
    h = h * 131 + std::hash<std::string_view>{}(k.het_name);
    return h * 137 + std::hash<std::string_view>{}(k.icode);
  }
};

ResidueKey residue_key(std::string_view group, std::string_view resname, int64_t number,
                       std::string_view icode) {
  if (icode == "." || icode == "?") icode = " ";
  if (group != "HETATM") return {' ', {}, number, icode};
  if (resname == "HOH" || resname == "WAT") return {'W', {}, number, icode};
  return {'H', resname, number, icode};
}

struct Chain {
  std::string_view id;
  std::unordered_map<ResidueKey, ResidueSlot, ResidueKeyHash> residues;
};

struct Model {
  std::vector<Chain> chains;
  Chain* find(std::string_view id) {
    for (Chain& c : chains)
      if (c.id == id) return &c;
    return nullptr;
  }
};

class StructureBuilder {
 public:
  explicit StructureBuilder(const std::string& file) : file_(file) {}

  void build(const CifItems& items) {
    const CifItem& serial_ids = required(items, "_atom_site.id");
    const CifItem& atom_names = required(items, "_atom_site.label_atom_id");
    const CifItem& res_names = required(items, "_atom_site.label_comp_id");
    const CifItem& chain_ids = required(items, "_atom_site.auth_asym_id");
    const CifItem& xs = required(items, "_atom_site.Cartn_x");
    const CifItem& ys = required(items, "_atom_site.Cartn_y");
    const CifItem& zs = required(items, "_atom_site.Cartn_z");
    const CifItem& altlocs = required(items, "_atom_site.label_alt_id");
    const CifItem& icodes = required(items, "_atom_site.pdbx_PDB_ins_code");
    const CifItem& bfactors = required(items, "_atom_site.B_iso_or_equiv");
    const CifItem& occupancies = required(items, "_atom_site.occupancy");
    const CifItem& groups = required(items, "_atom_site.group_PDB");
    const CifItem& models = required(items, "_atom_site.pdbx_PDB_model_num");
    const CifItem* seq = items.find("_atom_site.auth_seq_id");
    const CifItem& seq_ids = seq ? *seq : required(items, "_atom_site.label_seq_id");
    const size_t n = atom_names.values.size();
    for (const CifItem* c : {&serial_ids, &res_names, &chain_ids, &xs, &ys, &zs, &altlocs, &icodes,
                             &bfactors, &occupancies, &groups, &models, &seq_ids})
      if (c->values.size() != n) unreadable("the _atom_site columns differ in length");
    std::vector<float> coords(3 * n);
    for (size_t i = 0; i < n; ++i) {
      coords[3 * i] = float(decimal_at(xs, i, "Cartn_x", file_));
      coords[3 * i + 1] = float(decimal_at(ys, i, "Cartn_y", file_));
      coords[3 * i + 2] = float(decimal_at(zs, i, "Cartn_z", file_));
    }
    std::vector<int64_t> model_numbers(n);
    for (size_t i = 0; i < n; ++i)
      model_numbers[i] = integer_at(models, i, "pdbx_PDB_model_num", file_);

    int64_t current_serial = -1;
    bool first = true;
    std::string_view chain_id;
    bool have_chain = false, have_residue = false;
    ResidueKey current_key{};
    std::string_view residue_name;
    for (size_t i = 0; i < n; ++i) {
      std::string_view resname = res_names.values[i];
      std::string_view altloc = altlocs.values[i];
      bool blank_altloc = altloc == "." || altloc == "?";
      std::string_view resseq = seq_ids.values[i];
      if (resseq == ".") continue;  // Biopython skips atoms without a residue number
      int64_t number = integer_at(seq_ids, i, "the residue number", file_);
      decimal_at(bfactors, i, "B_iso_or_equiv", file_);
      double occupancy = decimal_at(occupancies, i, "occupancy", file_);
      ResidueKey key = residue_key(groups.values[i], resname, number, icodes.values[i]);
      if (first || model_numbers[i] != current_serial) {
        current_serial = model_numbers[i];
        models_.emplace_back();
        first = false;
        have_chain = have_residue = false;
      }
      if (!have_chain || chain_ids.values[i] != chain_id) {
        chain_id = chain_ids.values[i];
        have_chain = true;
        have_residue = false;
        init_chain(chain_id);
      }
      if (!have_residue || !(key == current_key) || resname != residue_name) {
        current_key = key;
        residue_name = resname;
        have_residue = true;
        at_ = &atom_names.lines[i];
        init_residue(resname, key);
      }
      Atom atom{{coords[3 * i], coords[3 * i + 1], coords[3 * i + 2]}, occupancy, blank_altloc};
      at_ = &atom_names.lines[i];
      init_atom(atom_names.values[i], atom);
    }
    if (models_.empty()) unreadable("no atoms in _atom_site");
  }

  Model& first_model() { return models_.front(); }

 private:
  // "file:line: " of the atom being added, for messages.
  std::string at() const { return file_ + ":" + std::to_string(*at_) + ": "; }

  void init_chain(std::string_view id) {
    Model& m = models_.back();
    chain_ = m.find(id);
    if (!chain_) {
      m.chains.push_back(Chain{id, {}});
      chain_ = &m.chains.back();
    }
  }

  void init_residue(std::string_view resname, const ResidueKey& key) {
    slot_ = nullptr;
    auto it = chain_->residues.find(key);
    if (key.kind == ' ' && it != chain_->residues.end()) {
      ResidueSlot& dup = it->second;
      if (dup.disordered) {
        if (Residue* r = dup.variant(resname)) {
          // StructureBuilder selects it, then adds a new residue under the same id and fails.
          (void)r;
          unreadable(at() + "residue " + std::string(resname) + " " + std::to_string(key.number) +
                     " of chain " + std::string(chain_->id) + " defined twice");
        }
        dup.variants.push_back(Residue{resname, {}});
        dup.selected = dup.variants.size() - 1;
        slot_ = &dup;
        return;
      }
      if (resname == dup.current().name) {
        slot_ = &dup;
        return;
      }
      if (!dup.current().completely_disordered())
        unreadable(at() + "blank alternate locations in the point mutation " +
                   std::string(resname) + " " + std::to_string(key.number) + " of chain " +
                   std::string(chain_->id));
      dup.disordered = true;
      dup.variants.push_back(Residue{resname, {}});
      dup.selected = 1;
      slot_ = &dup;
      return;
    }
    if (it != chain_->residues.end())
      unreadable(at() + "residue " + std::string(resname) + " " + std::to_string(key.number) +
                 " of chain " + std::string(chain_->id) + " defined twice");
    ResidueSlot& s = chain_->residues[key];
    s.variants.push_back(Residue{resname, {}});
    slot_ = &s;
  }

  void init_atom(std::string_view name, const Atom& atom) {
    Residue& residue = slot_->current();
    AtomSlot* dup = residue.find(name);
    if (!atom.blank_altloc) {
      if (dup && dup->disordered) {
        dup->add_location(atom);
      } else if (dup) {
        // A located atom after a blank one of the same name: both go into a new
        // DisorderedAtom, the new one first, appended at the end of the residue.
        AtomSlot merged{name, true, {}, 0, -std::numeric_limits<double>::infinity()};
        Atom old = dup->locations.front();
        residue.detach(name);
        merged.add_location(atom);
        merged.add_location(old);
        residue.atoms.push_back(std::move(merged));
      } else {
        AtomSlot s{name, true, {}, 0, -std::numeric_limits<double>::infinity()};
        s.add_location(atom);
        residue.atoms.push_back(std::move(s));
      }
      return;
    }
    if (slot_->disordered)
      unreadable(at() + "atom " + std::string(name) + " without an alternate location in the " +
                 "point mutation " + std::string(residue.name));
    if (dup)
      unreadable(at() + "atom " + std::string(name) + " defined twice in residue " +
                 std::string(residue.name));
    AtomSlot s{name, false, {}, 0, -std::numeric_limits<double>::infinity()};
    s.add_location(atom);
    residue.atoms.push_back(std::move(s));
  }

  const std::string& file_;
  std::vector<Model> models_;
  Chain* chain_ = nullptr;
  ResidueSlot* slot_ = nullptr;
  const int32_t* at_ = nullptr;
};

// ---- alphafold/data/mmcif_parsing.py's parse(), then templates._get_atom_positions per chain.

struct Monomer {
  std::string_view id;
  int64_t num;
};

struct SeqresPosition {  // ResidueAtPosition
  bool missing = true;
  ResidueKey key{};
};

TemplateEntry build_entry(const CifItems& items, std::string id, const std::string& file) {
  StructureBuilder builder(file);
  builder.build(items);

  TemplateEntry entry;
  entry.id = std::move(id);
  if (const CifItem* dates = items.find("_pdbx_audit_revision_history.revision_date")) {
    // min() of the strings, as get_release_date does.
    entry.release_date = std::string(*std::min_element(dates->values.begin(), dates->values.end()));
  } else if (!items.find("_entry.id")) {
    unreadable("no _pdbx_audit_revision_history.revision_date and no _entry.id");
  }

  // _get_protein_chains
  const CifItem* poly_entity = items.find("_entity_poly_seq.entity_id");
  const CifItem* poly_num = items.find("_entity_poly_seq.num");
  const CifItem* poly_mon = items.find("_entity_poly_seq.mon_id");
  std::vector<std::pair<std::string_view, std::vector<Monomer>>> polymers;
  if (poly_entity || poly_num || poly_mon) {
    if (!poly_entity || !poly_num || !poly_mon)
      unreadable("_entity_poly_seq lacks entity_id, num or mon_id");
    for (size_t i = 0; i < poly_entity->values.size(); ++i) {
      std::string_view e = poly_entity->values[i];
      auto it = std::find_if(polymers.begin(), polymers.end(),
                             [&](const auto& p) { return p.first == e; });
      if (it == polymers.end()) it = polymers.insert(polymers.end(), {e, {}});
      it->second.push_back(
          {poly_mon->values[i], integer_at(*poly_num, i, "_entity_poly_seq.num", file)});
    }
  }
  std::unordered_map<std::string_view, std::string_view> chem_type;
  if (const CifItem* ids = items.find("_chem_comp.id")) {
    const CifItem& types = required(items, "_chem_comp.type");
    for (size_t i = 0; i < ids->values.size(); ++i) chem_type[ids->values[i]] = types.values[i];
  }
  std::unordered_map<std::string_view, std::vector<std::string_view>> entity_chains;
  if (const CifItem* asym = items.find("_struct_asym.id")) {
    const CifItem& ent = required(items, "_struct_asym.entity_id");
    for (size_t i = 0; i < asym->values.size(); ++i)
      entity_chains[ent.values[i]].push_back(asym->values[i]);
  }
  // valid_chains: label chain -> SEQRES, in insertion order (a repeated chain keeps its place).
  std::vector<std::pair<std::string_view, const std::vector<Monomer>*>> valid;
  for (const auto& [entity, monomers] : polymers) {
    bool peptide = false;
    for (const Monomer& m : monomers) {
      auto it = chem_type.find(m.id);
      if (it == chem_type.end())
        unreadable("residue " + std::string(m.id) + " of _entity_poly_seq is not in _chem_comp");
      std::string type(it->second);
      for (char& c : type) c = char(std::tolower(uint8_t(c)));
      peptide |= type.find("peptide") != std::string::npos;
    }
    if (!peptide) continue;
    for (std::string_view chain : entity_chains[entity]) {
      auto it =
          std::find_if(valid.begin(), valid.end(), [&](const auto& v) { return v.first == chain; });
      if (it == valid.end())
        valid.push_back({chain, &monomers});
      else
        it->second = &monomers;
    }
  }
  if (valid.empty()) unreadable("no protein chains");

  // Atoms of model "1": label -> author chain, and each author chain's SEQRES positions.
  const CifItem& comp = required(items, "_atom_site.label_comp_id");
  const CifItem& auth_asym = required(items, "_atom_site.auth_asym_id");
  const CifItem& label_asym = required(items, "_atom_site.label_asym_id");
  const CifItem& auth_seq = required(items, "_atom_site.auth_seq_id");
  const CifItem& label_seq = required(items, "_atom_site.label_seq_id");
  const CifItem& icodes = required(items, "_atom_site.pdbx_PDB_ins_code");
  const CifItem& groups = required(items, "_atom_site.group_PDB");
  const CifItem& models = required(items, "_atom_site.pdbx_PDB_model_num");
  std::unordered_map<std::string_view, int64_t> seq_start;
  for (const auto& [chain, monomers] : valid) {
    int64_t lo = std::numeric_limits<int64_t>::max();
    for (const Monomer& m : *monomers) lo = std::min(lo, m.num);
    seq_start[chain] = lo;
  }
  std::unordered_map<std::string_view, std::string_view> label_to_author;
  std::unordered_map<std::string_view, std::map<int64_t, SeqresPosition>> seqres_to_structure;
  for (size_t i = 0; i < comp.values.size(); ++i) {
    if (models.values[i] != "1") continue;
    label_to_author[label_asym.values[i]] = auth_asym.values[i];
    auto start = seq_start.find(label_asym.values[i]);
    if (start == seq_start.end()) continue;
    int64_t number = integer_at(auth_seq, i, "auth_seq_id", file);
    int64_t idx = integer_at(label_seq, i, "label_seq_id", file) - start->second;
    seqres_to_structure[auth_asym.values[i]][idx] = {
        false, residue_key(groups.values[i], comp.values[i], number, icodes.values[i])};
  }
  std::vector<std::string_view> order;  // author chains in chain_to_seqres order
  std::unordered_map<std::string_view, const std::vector<Monomer>*> author_seqres;
  for (const auto& [chain, monomers] : valid) {
    auto a = label_to_author.find(chain);
    if (a == label_to_author.end())
      unreadable("protein chain " + std::string(chain) + " has no atoms in model 1");
    auto& mapping = seqres_to_structure[a->second];
    for (size_t k = 0; k < monomers->size(); ++k) mapping.try_emplace(int64_t(k));
    if (!author_seqres.count(a->second)) order.push_back(a->second);
    author_seqres[a->second] = monomers;
  }

  Model& model = builder.first_model();
  const int cd = atom37_index("CD"), nh1 = atom37_index("NH1"), nh2 = atom37_index("NH2");
  for (std::string_view author : order) {
    TemplateChain chain;
    chain.id = std::string(author);
    const auto& monomers = *author_seqres[author];
    for (const Monomer& m : monomers) chain.residues.emplace_back(m.id);
    const int64_t num_res = chain.size();
    Chain* structure = model.find(author);
    if (!structure) {
      chain.atom_error = "no chain " + chain.id + " in the first model";
      entry.chains.push_back(std::move(chain));
      continue;
    }
    chain.positions.assign(size_t(num_res) * rc::kAtom37 * 3, 0.0f);
    chain.mask.assign(size_t(num_res) * rc::kAtom37, 0.0f);
    const auto& mapping = seqres_to_structure[author];
    for (int64_t r = 0; r < num_res && chain.atom_error.empty(); ++r) {
      const SeqresPosition& p = mapping.at(r);
      if (p.missing) continue;
      auto it = structure->residues.find(p.key);
      if (it == structure->residues.end()) {
        chain.atom_error = "residue ('" + p.key.hetflag() + "', " + std::to_string(p.key.number) +
                           ", '" + std::string(p.key.icode) + "') of SEQRES position " +
                           std::to_string(r + 1) + " is not in the first model";
        chain.atom_error_is_warning = true;
        break;
      }
      Residue& res = it->second.current();
      float* pos = chain.positions.data() + r * rc::kAtom37 * 3;
      float* mask = chain.mask.data() + r * rc::kAtom37;
      for (const AtomSlot& s : res.atoms) {
        const Atom& a = s.locations[s.selected];
        int k = atom37_index(s.name);
        if (k < 0) {
          std::string upper(s.name);
          for (char& c : upper) c = char(std::toupper(uint8_t(c)));
          if (upper == "SE" && res.name == "MSE") k = kAtomSD;
        }
        if (k < 0) continue;
        std::copy_n(a.xyz, 3, pos + 3 * k);
        mask[k] = 1.0f;
      }
      // AlphaFold2 swaps NH1 and NH2 of an arginine whose NH1 is the farther from CD, in
      // float32 as numpy computes the two norms.
      if (res.name == "ARG" && mask[cd] != 0 && mask[nh1] != 0 && mask[nh2] != 0) {
        auto dist = [&](int k) {
          float d0 = pos[3 * k] - pos[3 * cd], d1 = pos[3 * k + 1] - pos[3 * cd + 1],
                d2 = pos[3 * k + 2] - pos[3 * cd + 2];
          return std::sqrt(d0 * d0 + d1 * d1 + d2 * d2);
        };
        if (dist(nh1) > dist(nh2))
          std::swap_ranges(pos + 3 * nh1, pos + 3 * nh1 + 3, pos + 3 * nh2);
      }
    }
    if (chain.atom_error.empty()) {
      // _check_residue_distances with max_ca_ca_distance = 150 (float64).
      bool prev = false;
      double pca[3] = {0, 0, 0};
      for (int64_t r = 0; r < num_res; ++r) {
        const float* pos = chain.positions.data() + r * rc::kAtom37 * 3 + 3 * rc::kAtomCA;
        if (chain.mask[size_t(r * rc::kAtom37 + rc::kAtomCA)] == 0) {
          prev = false;
          continue;
        }
        double ca[3] = {pos[0], pos[1], pos[2]};
        if (prev) {
          double d =
              std::sqrt((ca[0] - pca[0]) * (ca[0] - pca[0]) + (ca[1] - pca[1]) * (ca[1] - pca[1]) +
                        (ca[2] - pca[2]) * (ca[2] - pca[2]));
          if (d > 150.0) {
            chain.atom_error = "C-alpha atoms of SEQRES positions " + std::to_string(r) + " and " +
                               std::to_string(r + 1) + " are " + std::to_string(d) +
                               " A apart (more than 150 A)";
            chain.atom_error_is_warning = true;
            break;
          }
        }
        std::copy_n(ca, 3, pca);
        prev = true;
      }
    }
    if (!chain.atom_error.empty()) {
      chain.positions.clear();
      chain.mask.clear();
    }
    entry.chains.push_back(std::move(chain));
  }
  return entry;
}

}  // namespace

std::string TemplateChain::sequence(ResidueLetters letters) const {
  std::string out;
  out.reserve(residues.size());
  for (const std::string& name : residues) {
    char c = 'X';
    if (letters == ResidueLetters::standard_only) {
      for (int t = 0; t < 20; ++t)
        if (name == rc::restype_3[t]) c = rc::restype_1[t][0];
    } else {
      const ResidueLetter* end = kScopResidueLetters + kNumScopResidueLetters;
      const ResidueLetter* it = std::lower_bound(kScopResidueLetters, end, name,
                                                 [](const ResidueLetter& e, const std::string& n) {
                                                   return std::strcmp(e.name, n.c_str()) < 0;
                                                 });
      if (it != end && name == it->name) c = it->letter;
    }
    out.push_back(c);
  }
  return out;
}

const TemplateChain* TemplateEntry::chain(std::string_view chain_id) const {
  for (const TemplateChain& c : chains)
    if (c.id == chain_id) return &c;
  return nullptr;
}

TemplateEntry parse_template_mmcif(std::string_view text, std::string id, const std::string& name) {
  try {
    LineReader in(text, name);
    CifItems items(in, kWanted);
    return build_entry(items, id, name);
  } catch (const ParseError& e) {
    return TemplateEntry{std::move(id), std::nullopt, {}, e.what()};
  } catch (const Unreadable& e) {
    std::string why = e.what();
    if (why.rfind(name + ":", 0) != 0) why = name + ": " + why;
    return TemplateEntry{std::move(id), std::nullopt, {}, why};
  }
}

TemplateEntry read_template_mmcif(const std::string& path, std::string id) {
  std::string text;
  if (path.ends_with(".gz")) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) fail<IoError>("cannot open ", path, ": ", std::strerror(errno));
    char buf[1 << 16];
    int got;
    while ((got = gzread(f, buf, sizeof buf)) > 0) text.append(buf, size_t(got));
    int err = 0;
    const char* why = got < 0 ? gzerror(f, &err) : nullptr;
    std::string reason = why ? why : "";
    gzclose(f);
    // A corrupt archive is unreadable content, like a corrupt file: the hit is skipped.
    if (got < 0)
      return TemplateEntry{
          std::move(id), std::nullopt, {}, path + ": cannot decompress: " + reason};
  } else {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail<IoError>("cannot open ", path, ": ", std::strerror(errno));
    std::ostringstream buf;
    buf << f.rdbuf();
    if (f.bad()) fail<IoError>("cannot read ", path);
    text = std::move(buf).str();
  }
  return parse_template_mmcif(text, std::move(id), path);
}

}  // namespace exafold::features
