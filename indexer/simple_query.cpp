#include "indexer/simple_query.h"

#include <cctype>
#include <cstring>

namespace beluga::indexer {
namespace {

// A cursor over the query text; any byte outside the plain subset makes
// the parse decline (nullopt), never guess.
class Reader {
 public:
  Reader(std::string_view text, const TSLanguage* language, SimpleQuery& out)
      : text_(text), language_(language), out_(out) {}

  // nullopt: not plain. An error: plain, but unknown to the grammar.
  std::optional<Result<SimpleQuery>> all() {
    for (skip(); at_ < text_.size(); skip()) {
      SimpleQuery::Node pattern;
      if (!node(pattern) || !captures(pattern)) return std::nullopt;
      if (!error_.empty()) return Result<SimpleQuery>(make_error(error_));
      out_.patterns.push_back(std::move(pattern));
    }
    return Result<SimpleQuery>(std::move(out_));
  }

 private:
  void skip() {
    while (at_ < text_.size()) {
      if (std::isspace(static_cast<unsigned char>(text_[at_]))) {
        ++at_;
      } else if (text_[at_] == ';') {
        while (at_ < text_.size() && text_[at_] != '\n') ++at_;
      } else {
        break;
      }
    }
  }

  static bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

  std::string_view word() {
    size_t start = at_;
    while (at_ < text_.size() && name_char(text_[at_])) ++at_;
    return text_.substr(start, at_ - start);
  }

  // "(" TYPE child* ")"
  bool node(SimpleQuery::Node& n) {
    skip();
    if (at_ >= text_.size() || text_[at_] != '(') return false;
    ++at_;
    skip();
    std::string_view type = word();
    if (type.empty()) return false;
    n.type = std::string(type);
    if (type != "_" && ts_language_symbol_for_name(language_, type.data(), static_cast<uint32_t>(type.size()), true) == 0)
      note("unknown node type " + n.type);
    for (skip(); at_ < text_.size() && text_[at_] != ')'; skip()) {
      SimpleQuery::Node child;
      if (text_[at_] != '(') {
        std::string_view field = word();
        skip();
        if (field.empty() || at_ >= text_.size() || text_[at_] != ':') return false;
        ++at_;
        child.field = ts_language_field_id_for_name(language_, field.data(), static_cast<uint32_t>(field.size()));
        if (child.field == 0) note("unknown field " + std::string(field));
      }
      skip();
      if (at_ < text_.size() && text_[at_] == '[') {  // an alternation
        ++at_;
        for (skip(); at_ < text_.size() && text_[at_] != ']'; skip()) {
          SimpleQuery::Node alternative;
          if (!node(alternative) || !captures(alternative)) return false;
          child.alternatives.push_back(std::move(alternative));
        }
        if (at_ >= text_.size() || child.alternatives.empty()) return false;
        ++at_;  // ']'
        if (!captures(child)) return false;
      } else if (!node(child) || !captures(child)) {
        return false;
      }
      n.children.push_back(std::move(child));
    }
    if (at_ >= text_.size()) return false;
    ++at_;  // ')'
    return true;
  }

  bool captures(SimpleQuery::Node& n) {
    for (skip(); at_ < text_.size() && text_[at_] == '@'; skip()) {
      ++at_;
      size_t start = at_;
      while (at_ < text_.size() && (name_char(text_[at_]) || text_[at_] == '.')) ++at_;
      std::string name(text_.substr(start, at_ - start));
      if (name.empty()) return false;
      uint32_t id = 0;
      while (id < out_.capture_names.size() && out_.capture_names[id] != name) ++id;
      if (id == out_.capture_names.size()) out_.capture_names.push_back(name);
      n.captures.push_back(id);
    }
    // What may follow a node: another node, a field name, ")" or the end.
    // Quantifiers, predicates and the rest are left for ts_query_new.
    return at_ >= text_.size() || text_[at_] == '(' || text_[at_] == ')' || text_[at_] == ']' ||
           name_char(text_[at_]);
  }

  void note(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

  std::string_view text_;
  size_t at_ = 0;
  const TSLanguage* language_;
  SimpleQuery& out_;
  std::string error_;
};

struct Child {
  TSNode node;
  TSFieldId field;
};

using Captures = std::vector<SimpleCapture>;
using Continue = std::function<void()>;

bool type_matches(const SimpleQuery::Node& p, TSNode n) {
  return ts_node_is_named(n) && (p.type == "_" || std::strcmp(ts_node_type(n), p.type.c_str()) == 0);
}

void match_node(const SimpleQuery::Node& p, TSNode n, Captures& captures, const Continue& next);

// Children p.children[i..] against `children` from position `from` on.
void match_children(const SimpleQuery::Node& p, const std::vector<Child>& children, size_t i, size_t from,
                    Captures& captures, const Continue& next) {
  if (i == p.children.size()) {
    next();
    return;
  }
  const SimpleQuery::Node& want = p.children[i];
  for (size_t j = from; j < children.size(); ++j) {
    if (want.field != 0 && children[j].field != want.field) continue;
    TSNode child = children[j].node;
    auto rest = [&, j] { match_children(p, children, i + 1, j + 1, captures, next); };
    if (want.alternatives.empty()) {
      if (type_matches(want, child)) match_node(want, child, captures, rest);
      continue;
    }
    size_t mark = captures.size();
    for (uint32_t id : want.captures) captures.push_back({id, child});
    for (const SimpleQuery::Node& alternative : want.alternatives)
      if (type_matches(alternative, child)) match_node(alternative, child, captures, rest);
    captures.resize(mark);
  }
}

// `n` already has p's type; each way its children match calls `next`.
void match_node(const SimpleQuery::Node& p, TSNode n, Captures& captures, const Continue& next) {
  size_t mark = captures.size();
  for (uint32_t id : p.captures) captures.push_back({id, n});
  if (p.children.empty()) {
    next();
  } else {
    std::vector<Child> children;
    TSTreeCursor cursor = ts_tree_cursor_new(n);
    if (ts_tree_cursor_goto_first_child(&cursor)) {
      do {
        children.push_back({ts_tree_cursor_current_node(&cursor), ts_tree_cursor_current_field_id(&cursor)});
      } while (ts_tree_cursor_goto_next_sibling(&cursor));
    }
    ts_tree_cursor_delete(&cursor);
    match_children(p, children, 0, 0, captures, next);
  }
  captures.resize(mark);
}

}  // namespace

std::optional<Result<SimpleQuery>> parse_simple_query(std::string_view text, const TSLanguage* language) {
  SimpleQuery query;
  Reader reader(text, language, query);
  auto parsed = reader.all();
  if (!parsed || !*parsed) return parsed;
  SimpleQuery& q = **parsed;
  q.patterns_by_symbol.resize(ts_language_symbol_count(language));
  for (TSSymbol symbol = 0; symbol < q.patterns_by_symbol.size(); ++symbol) {
    if (ts_language_symbol_type(language, symbol) != TSSymbolTypeRegular) continue;
    const char* name = ts_language_symbol_name(language, symbol);
    for (uint32_t p = 0; p < q.patterns.size(); ++p)
      if (q.patterns[p].type == "_" || q.patterns[p].type == name) q.patterns_by_symbol[symbol].push_back(p);
  }
  return parsed;
}

void match_simple_query(const SimpleQuery& query, TSNode root,
                        const std::function<void(uint32_t, const std::vector<SimpleCapture>&)>& on_match) {
  Captures captures;
  TSTreeCursor cursor = ts_tree_cursor_new(root);
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&cursor);
    if (ts_node_is_named(n)) {
      TSSymbol symbol = ts_node_symbol(n);
      if (symbol < query.patterns_by_symbol.size()) {
        for (uint32_t p : query.patterns_by_symbol[symbol])
          match_node(query.patterns[p], n, captures, [&] { on_match(p, captures); });
      } else {  // ERROR (a built-in symbol outside the table): compare names
        for (uint32_t p = 0; p < query.patterns.size(); ++p)
          if (type_matches(query.patterns[p], n))
            match_node(query.patterns[p], n, captures, [&] { on_match(p, captures); });
      }
    }
    if (ts_tree_cursor_goto_first_child(&cursor)) continue;
    bool more = false;
    do {
      if (ts_tree_cursor_goto_next_sibling(&cursor)) {
        more = true;
        break;
      }
    } while (ts_tree_cursor_goto_parent(&cursor));
    if (!more) break;
  }
  ts_tree_cursor_delete(&cursor);
}

}  // namespace beluga::indexer
