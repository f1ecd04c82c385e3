#include "indexer/simple_query.h"

#include <algorithm>
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

// A non-owning reference to a continuation. Every continuation is a lambda
// on the stack of the frame that passes it down, so it outlives the call;
// std::function here allocated once per candidate child (its captures do not
// fit its small buffer), a tenth of the matcher's time on redis.
class NextRef {
 public:
  template <class F>
  NextRef(const F& f) : object_(&f), call_([](const void* o) { (*static_cast<const F*>(o))(); }) {}
  void operator()() const { call_(object_); }

 private:
  const void* object_;
  void (*call_)(const void*);
};

// The state of one match_simple_query call. `children` is a stack: each
// match_node frame lists its node's children at its end and drops them when
// it returns, so frames refer to their children by offset (a deeper frame's
// push may move the storage). One cursor lists every frame's children,
// because a frame has finished listing before it recurses.
struct Matcher {
  uint32_t symbol_count = 0;
  std::vector<SimpleCapture> captures;
  std::vector<Child> children;
  TSTreeCursor cursor;
};

bool type_matches(const Matcher& m, const SimpleQuery::Node& p, TSNode n) {
  if (!ts_node_is_named(n)) return false;
  if (p.any) return true;
  TSSymbol symbol = ts_node_symbol(n);
  if (symbol < m.symbol_count) return std::find(p.symbols.begin(), p.symbols.end(), symbol) != p.symbols.end();
  return std::strcmp(ts_node_type(n), p.type.c_str()) == 0;
}

void match_node(Matcher& m, const SimpleQuery::Node& p, TSNode n, const NextRef& next);

// Children p.children[i..] against the frame's children (m.children[begin,
// begin + count)) from position `from` on.
void match_children(Matcher& m, const SimpleQuery::Node& p, size_t begin, size_t count, size_t i, size_t from,
                    const NextRef& next) {
  if (i == p.children.size()) {
    next();
    return;
  }
  const SimpleQuery::Node& want = p.children[i];
  for (size_t j = from; j < count; ++j) {
    Child child = m.children[begin + j];  // a copy: deeper frames may move the storage
    if (want.field != 0 && child.field != want.field) continue;
    auto rest = [&, j] { match_children(m, p, begin, count, i + 1, j + 1, next); };
    if (want.alternatives.empty()) {
      if (type_matches(m, want, child.node)) match_node(m, want, child.node, rest);
      continue;
    }
    size_t mark = m.captures.size();
    for (uint32_t id : want.captures) m.captures.push_back({id, child.node});
    for (const SimpleQuery::Node& alternative : want.alternatives)
      if (type_matches(m, alternative, child.node)) match_node(m, alternative, child.node, rest);
    m.captures.resize(mark);
  }
}

// `n` already has p's type; each way its children match calls `next`.
void match_node(Matcher& m, const SimpleQuery::Node& p, TSNode n, const NextRef& next) {
  size_t mark = m.captures.size();
  for (uint32_t id : p.captures) m.captures.push_back({id, n});
  if (p.children.empty()) {
    next();
  } else {
    size_t begin = m.children.size();
    ts_tree_cursor_reset(&m.cursor, n);
    if (ts_tree_cursor_goto_first_child(&m.cursor)) {
      do {
        m.children.push_back({ts_tree_cursor_current_node(&m.cursor), ts_tree_cursor_current_field_id(&m.cursor)});
      } while (ts_tree_cursor_goto_next_sibling(&m.cursor));
    }
    match_children(m, p, begin, m.children.size() - begin, 0, 0, next);
    m.children.resize(begin);
  }
  m.captures.resize(mark);
}

// Fills `any` and `symbols` of `n` and everything below it.
void resolve_symbols(SimpleQuery::Node& n, const TSLanguage* language) {
  n.any = n.type == "_";
  n.symbols.clear();
  if (!n.any && !n.type.empty()) {
    uint32_t count = ts_language_symbol_count(language);
    for (TSSymbol symbol = 0; symbol < count; ++symbol)
      if (n.type == ts_language_symbol_name(language, symbol)) n.symbols.push_back(symbol);
  }
  for (SimpleQuery::Node& child : n.children) resolve_symbols(child, language);
  for (SimpleQuery::Node& alternative : n.alternatives) resolve_symbols(alternative, language);
}

}  // namespace

std::optional<Result<SimpleQuery>> parse_simple_query(std::string_view text, const TSLanguage* language) {
  SimpleQuery query;
  Reader reader(text, language, query);
  auto parsed = reader.all();
  if (!parsed || !*parsed) return parsed;
  SimpleQuery& q = **parsed;
  for (SimpleQuery::Node& pattern : q.patterns) resolve_symbols(pattern, language);
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
  Matcher m;
  m.symbol_count = static_cast<uint32_t>(query.patterns_by_symbol.size());
  m.cursor = ts_tree_cursor_new(root);
  TSTreeCursor walk = ts_tree_cursor_new(root);
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&walk);
    if (ts_node_is_named(n)) {
      TSSymbol symbol = ts_node_symbol(n);
      if (symbol < query.patterns_by_symbol.size()) {
        for (uint32_t p : query.patterns_by_symbol[symbol])
          match_node(m, query.patterns[p], n, [&] { on_match(p, m.captures); });
      } else {  // ERROR (a built-in symbol outside the table): compare names
        for (uint32_t p = 0; p < query.patterns.size(); ++p)
          if (type_matches(m, query.patterns[p], n))
            match_node(m, query.patterns[p], n, [&] { on_match(p, m.captures); });
      }
    }
    if (ts_tree_cursor_goto_first_child(&walk)) continue;
    bool more = false;
    do {
      if (ts_tree_cursor_goto_next_sibling(&walk)) {
        more = true;
        break;
      }
    } while (ts_tree_cursor_goto_parent(&walk));
    if (!more) break;
  }
  ts_tree_cursor_delete(&walk);
  ts_tree_cursor_delete(&m.cursor);
}

}  // namespace beluga::indexer
