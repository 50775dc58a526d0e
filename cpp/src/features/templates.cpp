#include "exafold/features/templates.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <unordered_set>

#include "exafold/core/error.h"
#include "exafold/features/alphabet.h"
#include "features/kalign.h"

namespace exafold::features {

namespace {

constexpr int kAtoms = 37;
constexpr int kHhblitsClasses = 22;

Tensor zeros(const Shape& shape) {
  Tensor t = Tensor::empty(shape, DType::float32);
  std::fill_n(t.data<float>(), t.numel(), 0.0f);
  return t;
}

// A checked "YYYY-MM-DD" as yyyymmdd (datetime.strptime(s, '%Y-%m-%d') on zero-padded dates).
std::optional<int64_t> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  auto num = [&](size_t b, size_t n) {
    int v = 0;
    for (size_t i = b; i < b + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1 || m < 1 || m > 12 || d < 1) return std::nullopt;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[m - 1] + (m == 2 && leap)) return std::nullopt;
  return int64_t(y) * 10000 + m * 100 + d;
}

std::string format_probs(const std::optional<double>& p) {
  if (!p) return "None";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", *p);
  return buf;
}

// _get_pdb_id_and_chain: r'[a-zA-Z\d]{4}_[a-zA-Z0-9.]+' at the start of the name.
bool pdb_id_and_chain(std::string_view name, std::string& id, std::string& chain) {
  auto alnum = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  };
  if (name.size() < 6) return false;
  for (size_t i = 0; i < 4; ++i)
    if (!alnum(name[i])) return false;
  if (name[4] != '_') return false;
  size_t e = 5;
  while (e < name.size() && (alnum(name[e]) || name[e] == '.')) ++e;
  if (e == 5) return false;
  id.assign(name.substr(0, 4));
  for (char& c : id)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  chain.assign(name.substr(5, e - 5));
  return true;
}

std::string without_gaps(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (c != '-') out.push_back(c);
  return out;
}

// Query index -> hit index, in insertion order (Python dicts keep it; realignment iterates it).
using Mapping = std::vector<std::pair<int64_t, int64_t>>;

// _build_query_to_hit_index_mapping. False when the hit has no aligned residue or its query
// segment is not in the query (AlphaFold2 fails or misplaces the template there).
bool query_to_hit_mapping(const TemplateHit& hit, std::string_view query, Mapping& mapping,
                          std::string& why) {
  mapping.clear();
  if (hit.query.empty()) return true;
  std::string segment = without_gaps(hit.query);
  const size_t hit_length = without_gaps(hit.hit_sequence).size();
  size_t offset = query.find(segment);
  if (offset == std::string_view::npos) {
    why = "the hit's query segment " + segment + " is not in the query";
    return false;
  }
  auto lowest = [](const std::vector<int32_t>& v) {
    int32_t lo = INT32_MAX;
    for (int32_t x : v)
      if (x > -1) lo = std::min(lo, x);
    return lo;
  };
  int32_t min_hit = lowest(hit.indices_hit), min_query = lowest(hit.indices_query);
  if (min_hit == INT32_MAX || min_query == INT32_MAX) {
    why = "the hit has no aligned residue";
    return false;
  }
  std::map<int64_t, size_t> at;  // later columns overwrite a key in place, as dict assignment
  size_t n = std::min(hit.indices_query.size(), hit.indices_hit.size());
  for (size_t k = 0; k < n; ++k) {
    int32_t qi = hit.indices_query[k], qt = hit.indices_hit[k];
    if (qi == -1 || qt == -1) continue;
    int64_t q = int64_t(qi - min_query) + int64_t(offset), t = qt - min_hit;
    if (t >= int64_t(hit_length) || q >= int64_t(query.size())) continue;
    auto [it, fresh] = at.try_emplace(q, mapping.size());
    if (fresh)
      mapping.push_back({q, t});
    else
      mapping[it->second].second = t;
  }
  return true;
}

struct Match {
  const TemplateChain* chain = nullptr;
  int64_t offset = 0;
};

// _find_template_in_pdb: exact in the hit's chain, exact in any chain, then X as a wildcard.
Match find_template(const std::vector<std::pair<const TemplateChain*, std::string>>& seqres,
                    const std::string& chain_id, const std::string& sequence) {
  for (const auto& [chain, seq] : seqres)
    if (chain->id == chain_id) {
      if (!seq.empty()) {
        size_t at = seq.find(sequence);
        if (at != std::string::npos) return {chain, int64_t(at)};
      }
      break;
    }
  for (const auto& [chain, seq] : seqres) {
    if (seq.empty()) continue;
    size_t at = seq.find(sequence);
    if (at != std::string::npos) return {chain, int64_t(at)};
  }
  for (const auto& [chain, seq] : seqres) {
    if (seq.size() < sequence.size()) continue;
    for (size_t p = 0; p + sequence.size() <= seq.size(); ++p) {
      bool ok = true;
      for (size_t k = 0; k < sequence.size() && ok; ++k) {
        char t = sequence[k], c = seq[p + k];
        ok = t == 'X' || c == t || c == 'X';
      }
      if (ok) return {chain, int64_t(p)};
    }
  }
  return {};
}

class Featurizer {
 public:
  Featurizer(std::string_view query, TemplateHitFormat format, const TemplateSource& source,
             const TemplateFeaturizerOptions& options)
      : query_(query), format_(format), source_(source), options_(options) {
    if (options.max_template_date) max_date_ = parse_date(*options.max_template_date);
  }

  TemplateFeatures run(std::span<const TemplateHit> hits) {
    std::vector<const TemplateHit*> order;
    for (const TemplateHit& h : hits) order.push_back(&h);
    bool sort =
        format_ == TemplateHitFormat::hhr || (!hits.empty() && hits.front().sum_probs.has_value());
    if (sort)
      std::stable_sort(order.begin(), order.end(), [](const TemplateHit* a, const TemplateHit* b) {
        return a->sum_probs.value_or(0) > b->sum_probs.value_or(0);
      });
    std::unordered_set<std::string> seen;  // hmmsearch: template sequences already taken
    for (const TemplateHit* hit : order) {
      if (int64_t(templates_.size()) >= options_.max_hits) break;
      TemplateHitReport report;
      report.index = hit->index;
      report.name = hit->name;
      Template t;
      process(*hit, report, t);
      if (report.status == TemplateHitReport::Status::used) {
        if (format_ == TemplateHitFormat::hmmsearch_sto && !seen.insert(t.sequence).second) {
          report.status = TemplateHitReport::Status::duplicate;
          if (report.reason.empty()) report.reason = "same template sequence as an earlier hit";
          reports_.push_back(std::move(report));
          continue;
        }
        report.template_index = int64_t(templates_.size());
        templates_.push_back(std::move(t));
      }
      reports_.push_back(std::move(report));
    }
    return finish(hits.size());
  }

 private:
  struct Template {
    std::string domain_name, sequence;
    std::vector<float> positions, masks;
    float sum_probs = 0;
  };

  using Status = TemplateHitReport::Status;

  static void set(TemplateHitReport& r, Status s, std::string why) {
    r.status = s;
    r.realigned = false;  // a realignment warning is only kept with the template it made
    r.reason = std::move(why);
  }

  std::string label(const TemplateHit& hit, const std::string& id, const std::string& chain) {
    return id + "_" + chain + " (sum_probs: " + format_probs(hit.sum_probs) +
           ", rank: " + std::to_string(hit.index) + "): ";
  }

  // _process_single_hit
  void process(const TemplateHit& hit, TemplateHitReport& report, Template& out) {
    std::string id, chain_id;
    if (!pdb_id_and_chain(hit.name, id, chain_id))
      return set(report, Status::error,
                 "hit name " + hit.name + " does not start with <PDB id>_<chain>");
    report.name = id + "_" + chain_id;
    auto obs = options_.obsolete.find(id);
    if (obs != options_.obsolete.end() && obs->second.empty())
      return set(report, Status::warning, "Hit " + id + " is obsolete.");
    if (obs != options_.obsolete.end()) id = obs->second;

    const std::string sequence = without_gaps(hit.hit_sequence);
    if (options_.filters == HitFilters::alphafold) {
      double align_ratio = double(hit.aligned_cols) / double(query_.size());
      double length_ratio = double(sequence.size()) / double(query_.size());
      if (align_ratio <= 0.1)
        return set(report, Status::filtered,
                   "proportion of residues aligned to the query too small: " +
                       std::to_string(align_ratio));
      if (query_.find(sequence) != std::string_view::npos && length_ratio > 0.95)
        return set(report, Status::filtered,
                   "template is an exact subsequence of the query with length ratio " +
                       std::to_string(length_ratio));
      if (sequence.size() < 10)
        return set(report, Status::filtered,
                   "template too short: " + std::to_string(sequence.size()) + " residues");
    }

    Mapping mapping;
    std::string why;
    if (!query_to_hit_mapping(hit, query_, mapping, why))
      return set(report, Status::error, label(hit, id, chain_id) + why);

    std::shared_ptr<const TemplateEntry> entry = source_.find(id);
    if (!entry)
      return set(report, Status::warning,
                 label(hit, id, chain_id) + "no template structure: " + source_.location(id) +
                     " not found");
    if (entry->error.empty() && max_date_) {
      std::optional<int64_t> released;
      if (entry->release_date) released = parse_date(*entry->release_date);
      if (!released)
        return set(report, Status::warning,
                   label(hit, id, chain_id) + source_.location(id) +
                       (entry->release_date
                            ? ": release date " + *entry->release_date + " is not YYYY-MM-DD"
                            : ": no release date "
                              "(_pdbx_audit_revision_history)"));
      if (*released > *max_date_)
        return set(report, Status::filtered,
                   "Template " + id + " date (" + *entry->release_date + ") > max template date (" +
                       *options_.max_template_date + ").");
    }
    extract(hit, *entry, id, chain_id, sequence, mapping, report, out);
    out.sum_probs = float(hit.sum_probs.value_or(0));
  }

  // _extract_template_features
  void extract(const TemplateHit& hit, const TemplateEntry& entry, const std::string& id,
               const std::string& chain_id, std::string template_sequence, Mapping mapping,
               TemplateHitReport& report, Template& out) {
    const std::string lbl = label(hit, id, chain_id);
    if (!entry.error.empty() || entry.chains.empty())
      return set(report, Status::warning,
                 lbl + "no chains: " + (entry.error.empty() ? "no protein chain" : entry.error));
    std::vector<std::pair<const TemplateChain*, std::string>> seqres;
    for (const TemplateChain& c : entry.chains)
      seqres.push_back({&c, c.sequence(options_.residue_letters)});

    std::string found_chain = chain_id;
    int64_t offset = 0;
    Match m = find_template(seqres, chain_id, template_sequence);
    if (m.chain) {
      found_chain = m.chain->id;
      offset = m.offset;
    } else {
      std::string warning = "The exact sequence " + template_sequence + " was not found in " + id +
                            "_" + chain_id + ". Realigning the template to the actual sequence.";
      if (!realign(id, chain_id, seqres, template_sequence, mapping, report)) return;
      report.reason = std::move(warning);
      report.realigned = true;
    }
    // _get_atom_positions on the chain found (after a realignment, the hit's own chain).
    const TemplateChain* chain = entry.chain(found_chain);
    if (!chain)
      return set(report, Status::warning,
                 lbl + "no atom data: chain " + found_chain + " is not a protein chain of " + id);
    if (!chain->atom_error.empty())
      return set(report, chain->atom_error_is_warning ? Status::warning : Status::error,
                 lbl + (chain->atom_error_is_warning ? "no atom data: " : "") + chain->atom_error);

    const size_t n = query_.size();
    out.positions.assign(n * kAtoms * 3, 0.0f);
    out.masks.assign(n * kAtoms, 0.0f);
    out.sequence.assign(n, '-');
    const int64_t chain_len = chain->size();
    double mask_sum = 0;
    for (const auto& [q, v] : mapping) {
      // v is -1 where a realignment left a hit residue unaligned; AlphaFold2 indexes with it
      // as Python does, so such a query residue gets the chain's last residue.
      int64_t r = v + offset;
      if (r < 0) r += chain_len;
      int64_t s = v < 0 ? int64_t(template_sequence.size()) + v : v;
      if (r < 0 || r >= chain_len || s < 0 || s >= int64_t(template_sequence.size()))
        return set(report, Status::error,
                   lbl + "the alignment maps query residue " + std::to_string(q + 1) +
                       " outside the template");
      std::copy_n(chain->positions.data() + r * kAtoms * 3, kAtoms * 3,
                  out.positions.data() + q * kAtoms * 3);
      std::copy_n(chain->mask.data() + r * kAtoms, kAtoms, out.masks.data() + q * kAtoms);
      out.sequence[size_t(q)] = template_sequence[size_t(s)];
    }
    for (float x : out.masks) mask_sum += x;
    // Alanine, the residue with the fewest atoms, has 5.
    if (mask_sum < 5)
      return set(report, Status::warning,
                 lbl + "template all atom mask was all zeros: " + id + "_" + found_chain);
    for (char c : out.sequence)
      if (hhblits_id_of(c) < 0)
        return set(report, Status::error,
                   lbl + "template residue " + std::string(1, c) + " has no HHblits code");
    out.domain_name = id + "_" + found_chain;
  }

  // _realign_pdb_template_to_query. False (report set) on failure.
  bool realign(const std::string& id, const std::string& chain_id,
               const std::vector<std::pair<const TemplateChain*, std::string>>& seqres,
               std::string& template_sequence, Mapping& mapping, TemplateHitReport& report) {
    const std::string* fresh = nullptr;
    for (const auto& [chain, seq] : seqres)
      if (chain->id == chain_id) fresh = &seq;
    if (!fresh || fresh->empty()) {
      if (seqres.size() == 1) {
        fresh = &seqres.front().second;
      } else {
        set(report, Status::error,
            "could not find chain " + chain_id + " in " + id +
                ". If there are no mmCIF parsing errors, it is possible it was not a protein "
                "chain.");
        return false;
      }
    }
    std::pair<std::string, std::string> aligned;
    try {
      aligned = kalign_align(options_.kalign_binary, template_sequence, *fresh);
    } catch (const Error& e) {
      set(report, Status::error,
          "could not align old template " + template_sequence + " to template " + *fresh + " (" +
              id + "_" + chain_id + "): " + e.what());
      return false;
    }
    std::map<int64_t, int64_t> old_to_new;
    int64_t old_index = -1, new_index = -1, same = 0;
    const size_t columns = std::min(aligned.first.size(), aligned.second.size());
    for (size_t k = 0; k < columns; ++k) {
      char a = aligned.first[k], b = aligned.second[k];
      if (a != '-') ++old_index;
      if (b != '-') ++new_index;
      if (a != '-' && b != '-') {
        old_to_new[old_index] = new_index;
        same += a == b;
      }
    }
    double identity = double(same) / double(std::min(template_sequence.size(), fresh->size()));
    if (identity < 0.9) {
      set(report, Status::error,
          "insufficient similarity of the sequence in the database: " + template_sequence +
              " to the actual sequence in the mmCIF file " + id + "_" + chain_id + ": " + *fresh +
              ". We require at least 90 % similarity wrt to the shorter of the "
              "sequences.");
      return false;
    }
    for (auto& [q, v] : mapping) {
      auto it = old_to_new.find(v);
      v = it == old_to_new.end() ? -1 : it->second;
    }
    template_sequence = without_gaps(*fresh);
    return true;
  }

  TemplateFeatures finish(size_t num_hits) {
    TemplateFeatures f;
    f.hits = std::move(reports_);
    const int64_t n = int64_t(query_.size());
    bool placeholder = templates_.empty() && format_ == TemplateHitFormat::hmmsearch_sto;
    const int64_t t = placeholder ? 1 : int64_t(templates_.size());
    Tensor aatype = zeros({t, n, kHhblitsClasses});
    Tensor positions = zeros({t, n, kAtoms, 3});
    Tensor masks = zeros({t, n, kAtoms});
    Tensor probs = zeros({t, 1});
    for (int64_t i = 0; i < int64_t(templates_.size()); ++i) {
      const Template& tp = templates_[size_t(i)];
      float* a = aatype.data<float>() + i * n * kHhblitsClasses;
      for (int64_t r = 0; r < n; ++r)
        a[r * kHhblitsClasses + hhblits_id_of(tp.sequence[size_t(r)])] = 1;
      std::copy(tp.positions.begin(), tp.positions.end(),
                positions.data<float>() + i * n * kAtoms * 3);
      std::copy(tp.masks.begin(), tp.masks.end(), masks.data<float>() + i * n * kAtoms);
      probs.data<float>()[i] = tp.sum_probs;
      f.domain_names.push_back(tp.domain_name);
      f.sequences.push_back(tp.sequence);
    }
    if (placeholder) {
      f.domain_names.push_back("");
      f.sequences.push_back("");
    }
    f.arrays.set("template_aatype", std::move(aatype));
    f.arrays.set("template_all_atom_masks", std::move(masks));
    f.arrays.set("template_all_atom_positions", std::move(positions));
    f.arrays.set("template_sum_probs", std::move(probs));
    if (templates_.empty()) {
      f.message = num_hits == 0 ? "no template: the search found no hit"
                                : "no usable template among " + std::to_string(num_hits) + " hits";
      if (placeholder) f.message += " (one all-zero template, as AlphaFold2 gives for hmmsearch)";
    }
    return f;
  }

  std::string_view query_;
  TemplateHitFormat format_;
  const TemplateSource& source_;
  const TemplateFeaturizerOptions& options_;
  std::optional<int64_t> max_date_;
  std::vector<Template> templates_;
  std::vector<TemplateHitReport> reports_;
};

}  // namespace

const char* to_string(TemplateHitReport::Status s) {
  switch (s) {
    case TemplateHitReport::Status::used:
      return "used";
    case TemplateHitReport::Status::duplicate:
      return "duplicate";
    case TemplateHitReport::Status::filtered:
      return "filtered";
    case TemplateHitReport::Status::warning:
      return "warning";
    case TemplateHitReport::Status::error:
      return "error";
  }
  return "?";
}

void TemplateFeaturizerOptions::validate() const {
  if (max_template_date)
    check(parse_date(*max_template_date).has_value(), "max_template_date must be YYYY-MM-DD, got '",
          *max_template_date, "'");
  check(max_hits >= 0, "max_hits must be >= 0, got ", max_hits);
}

std::vector<std::string> TemplateFeatures::warnings() const {
  std::vector<std::string> out;
  for (const TemplateHitReport& r : hits)
    if (r.status == TemplateHitReport::Status::warning || r.realigned) out.push_back(r.reason);
  return out;
}

std::vector<std::string> TemplateFeatures::errors() const {
  std::vector<std::string> out;
  for (const TemplateHitReport& r : hits)
    if (r.status == TemplateHitReport::Status::error) out.push_back(r.reason);
  return out;
}

TemplateFeatures featurize_templates(std::string_view query, std::span<const TemplateHit> hits,
                                     TemplateHitFormat format, const TemplateSource& source,
                                     const TemplateFeaturizerOptions& options) {
  options.validate();
  check(!query.empty(), "template featurisation needs a query sequence");
  for (char c : query)
    check(c >= 'A' && c <= 'Z', "query residue '", std::string(1, c),
          "' is not an upper-case letter");
  return Featurizer(query, format, source, options).run(hits);
}

}  // namespace exafold::features
