#include "features/cif_items.h"

#include <unordered_set>

#include "features/text_check.h"

namespace exafold::features {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view rstrip(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' ||
                        s.back() == '\v' || s.back() == '\f'))
    s.remove_suffix(1);
  return s;
}

struct Token {
  std::string_view text;
  bool quoted = false;  // quoted or a text field: never a keyword or a data name
  int64_t line = 0;
};

// MMCIF2Dict._tokenize and _splitline, one token at a time.
class Tokenizer {
 public:
  Tokenizer(LineReader& in, std::deque<std::string>& text_fields)
      : in_(in), text_fields_(text_fields) {}

  bool next(Token& t) {
    for (;;) {
      if (pos_ < rest_.size() || pending_field_) {
        if (pending_field_) {
          pending_field_ = false;
          t = field_;
          return true;
        }
        if (split(t)) return true;
        continue;
      }
      std::string_view line;
      if (!in_.next(line)) return false;
      if (auto why = bad_text_reason(line, "line"); !why.empty()) in_.fail(why);
      if (line.starts_with("#")) continue;
      if (line.starts_with(";")) {
        read_text_field(line);
        continue;
      }
      rest_ = strip(line);
      pos_ = 0;
    }
  }

 private:
  void read_text_field(std::string_view first) {
    int64_t start = in_.line_number();
    std::string text(rstrip(first.substr(1)));
    std::string_view line;
    for (;;) {
      if (!in_.next(line))
        in_.fail_at(start, "text field (';' at the start of the line) never closed");
      if (auto why = bad_text_reason(line, "line"); !why.empty()) in_.fail(why);
      line = rstrip(line);
      if (line.starts_with(";")) break;
      text += '\n';
      text.append(line);
    }
    line = line.substr(1);
    if (!line.empty() && !is_blank(line[0]))
      in_.fail("expected a blank after the ';' that closes a text field");
    text_fields_.push_back(std::move(text));
    field_ = {text_fields_.back(), true, start};
    pending_field_ = true;
    rest_ = strip(line);
    pos_ = 0;
  }

  // The next token of rest_ from pos_; false when only blanks or a comment remain.
  bool split(Token& t) {
    std::string_view s = rest_;
    size_t i = pos_;
    while (i < s.size() && is_blank(s[i])) ++i;
    if (i == s.size() || s[i] == '#') {
      pos_ = s.size();
      return false;
    }
    t.line = in_.line_number();
    char q = s[i];
    if (q == '\'' || q == '"') {
      // Closes at the same quote followed by a blank or the end of the line.
      for (size_t j = i + 1; j < s.size(); ++j) {
        if (s[j] == q && (j + 1 == s.size() || is_blank(s[j + 1]))) {
          t.text = s.substr(i + 1, j - i - 1);
          t.quoted = true;
          pos_ = j + 1;
          return true;
        }
      }
      in_.fail("line ended with a quote open (" + quote_byte(q) + " at column " +
               std::to_string(size_t(s.data() - rest_.data()) + i + 1) + ")");
    }
    size_t j = i;
    while (j < s.size() && !is_blank(s[j])) ++j;
    t.text = s.substr(i, j - i);
    t.quoted = false;
    pos_ = j;
    return true;
  }

  LineReader& in_;
  std::deque<std::string>& text_fields_;
  std::string_view rest_;
  size_t pos_ = 0;
  Token field_;
  bool pending_field_ = false;
};

bool is_keyword(const Token& t, std::string_view word) {
  if (t.quoted || t.text.size() < word.size() || (t.text[0] | 0x20) != word[0]) return false;
  for (size_t k = 1; k < word.size(); ++k)
    if (std::tolower(uint8_t(t.text[k])) != word[k]) return false;
  return true;
}

}  // namespace

CifItems::CifItems(LineReader& in, std::span<const std::string_view> wanted) {
  for (std::string_view w : wanted) items_.emplace(w, CifItem{});
  std::unordered_set<std::string> seen;  // every name, to reject repeats
  std::unordered_set<std::string_view> present;
  Tokenizer tok(in, text_fields_);
  Token t;
  if (!tok.next(t))
    in.fail_at(in.line_number() > 0 ? in.line_number() : 1, "empty file: no mmCIF data block");
  if (!is_keyword(t, "data_"))
    in.fail_at(t.line,
               "not an mmCIF file: expected 'data_<name>' first, found " + quote_text(t.text));
  block_ = std::string(t.text.substr(5));

  auto declare = [&](const Token& name) -> CifItem* {
    if (!seen.insert(std::string(name.text)).second)
      in.fail_at(name.line, "data name " + quote_text(name.text) + " given twice");
    auto it = items_.find(name.text);
    if (it == items_.end()) return nullptr;
    present.insert(it->first);
    return &it->second;
  };
  auto add = [](CifItem* item, const Token& v) {
    if (!item) return;
    item->values.push_back(v.text);
    item->lines.push_back(int32_t(v.line));
  };

  bool have = tok.next(t);
  while (have) {
    if (is_keyword(t, "data_") || is_keyword(t, "save_") || is_keyword(t, "global_") ||
        is_keyword(t, "stop_"))
      in.fail_at(t.line,
                 quote_text(t.text) + ": only one data block, without save frames, is supported");
    if (is_keyword(t, "loop_") && t.text.size() == 5) {
      int64_t loop_line = t.line;
      std::vector<CifItem*> columns;
      while ((have = tok.next(t)) && !t.quoted && t.text.starts_with("_"))
        columns.push_back(declare(t));
      if (columns.empty()) in.fail_at(loop_line, "loop_ without data names");
      const size_t n = columns.size();
      size_t i = 0, col = 0;  // values read, and the column of the next one
      while (have && (t.quoted || !(t.text.starts_with("_") && col == 0)) &&
             !(is_keyword(t, "loop_") && t.text.size() == 5) && !is_keyword(t, "data_")) {
        add(columns[col], t);
        ++i;
        if (++col == n) col = 0;
        have = tok.next(t);
      }
      if (i == 0) in.fail_at(loop_line, "loop_ without values");
      if (col != 0)
        in.fail_at(have ? t.line : in.line_number(),
                   "loop of " + std::to_string(n) + " data names ends after " + std::to_string(i) +
                       " values, not whole rows");
      continue;
    }
    if (t.quoted || !t.text.starts_with("_"))
      in.fail_at(t.line,
                 "expected a data name ('_category.item') or loop_, found " + quote_text(t.text));
    Token name = t;
    if (!tok.next(t)) in.fail_at(name.line, "data name " + quote_text(name.text) + " has no value");
    if (!t.quoted && (t.text.starts_with("_") || (is_keyword(t, "loop_") && t.text.size() == 5)))
      in.fail_at(t.line, "data name " + quote_text(name.text) + " has no value");
    add(declare(name), t);
    have = tok.next(t);
  }
  std::erase_if(items_, [&](const auto& kv) { return !present.count(kv.first); });
}

const CifItem* CifItems::find(std::string_view name) const {
  auto it = items_.find(name);
  return it == items_.end() ? nullptr : &it->second;
}

}  // namespace exafold::features
