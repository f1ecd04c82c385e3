#include "indexer/tags.h"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

#include "indexer/content.h"
#include "indexer/grammars.h"
#include "indexer/simple_query.h"
#include "tools/line_regex.h"

namespace beluga::indexer {
namespace {

constexpr size_t kMaxNameBytes = 256;
constexpr size_t kMaxSignatureBytes = 200;

struct ParserDeleter {
  void operator()(TSParser* p) const { ts_parser_delete(p); }
};
struct QueryDeleter {
  void operator()(TSQuery* q) const { ts_query_delete(q); }
};
struct CursorDeleter {
  void operator()(TSQueryCursor* c) const { ts_query_cursor_delete(c); }
};
struct TreeDeleter {
  void operator()(TSTree* t) const { ts_tree_delete(t); }
};

// One text predicate of a pattern, parsed once per query.
struct Predicate {
  enum class Op { kEq, kMatch, kAnyOf };
  Op op = Op::kEq;
  bool negated = false;
  uint32_t capture = 0;
  std::optional<uint32_t> other_capture;  // #eq? @a @b
  std::vector<std::string> values;
  // #match?: the project's linear-time matcher (no pattern can hang a run,
  // unlike std::regex); nullopt when the pattern did not compile.
  std::optional<tools::LineRegex> regex;
};

// What each capture id means for tagging.
struct CaptureRole {
  bool is_name = false;
  bool is_definition = false;
  bool is_reference = false;
  std::string kind;
};

struct CompiledQuery {
  std::unique_ptr<TSQuery, QueryDeleter> query;     // null when `simple` matches instead
  std::optional<SimpleQuery> simple;                // simple_query.h: no ts_query_new needed
  std::vector<CaptureRole> roles;                   // by capture id
  std::vector<std::vector<Predicate>> predicates;   // by pattern index
};

CaptureRole role_of(std::string_view name) {
  CaptureRole role;
  if (name == "name") role.is_name = true;
  else if (name.starts_with("definition.")) role.is_definition = true, role.kind = name.substr(11);
  else if (name.starts_with("reference.")) role.is_reference = true, role.kind = name.substr(10);
  return role;
}

std::string query_error_text(TSQueryError type) {
  switch (type) {
    case TSQueryErrorSyntax: return "syntax error";
    case TSQueryErrorNodeType: return "unknown node type";
    case TSQueryErrorField: return "unknown field";
    case TSQueryErrorCapture: return "unknown capture";
    case TSQueryErrorStructure: return "impossible pattern";
    case TSQueryErrorLanguage: return "language version mismatch";
    default: return "error";
  }
}

Result<CompiledQuery> compile_query(Language language, const TSLanguage* grammar, bool simple_allowed) {
  std::string_view source = tags_query_for(language);
  uint32_t error_offset = 0;
  TSQueryError error_type = TSQueryErrorNone;
  CompiledQuery compiled;
  if (auto simple = simple_allowed ? parse_simple_query(source, grammar) : std::nullopt) {
    if (!*simple)
      return make_error("the tags query of " + std::string(language_name(language)) + " does not compile (" +
                        simple->message() + ")");
    compiled.simple = std::move(**simple);
    for (const std::string& name : compiled.simple->capture_names) compiled.roles.push_back(role_of(name));
    compiled.predicates.resize(compiled.simple->patterns.size());  // plain patterns have none
    return compiled;
  }
  compiled.query.reset(ts_query_new(grammar, source.data(), static_cast<uint32_t>(source.size()), &error_offset,
                                    &error_type));
  if (!compiled.query) {
    std::string_view near = source.substr(std::min<size_t>(error_offset, source.size()), 60);
    return make_error("the tags query of " + std::string(language_name(language)) + " does not compile (" +
                      query_error_text(error_type) + " at byte " + std::to_string(error_offset) + ": \"" +
                      std::string(near.substr(0, near.find('\n'))) + "\")");
  }
  TSQuery* query = compiled.query.get();
  uint32_t captures = ts_query_capture_count(query);
  compiled.roles.resize(captures);
  for (uint32_t id = 0; id < captures; ++id) {
    uint32_t length = 0;
    // Call first, then read `length`: as constructor arguments the two would
    // be evaluated in an unspecified order.
    const char* text = ts_query_capture_name_for_id(query, id, &length);
    compiled.roles[id] = role_of(std::string_view(text, length));
  }
  uint32_t patterns = ts_query_pattern_count(query);
  compiled.predicates.resize(patterns);
  for (uint32_t p = 0; p < patterns; ++p) {
    uint32_t step_count = 0;
    const TSQueryPredicateStep* steps = ts_query_predicates_for_pattern(query, p, &step_count);
    // Steps come as runs ended by a Done step: first the operator string,
    // then its arguments (captures or strings).
    std::vector<TSQueryPredicateStep> run;
    for (uint32_t s = 0; s < step_count; ++s) {
      if (steps[s].type != TSQueryPredicateStepTypeDone) {
        run.push_back(steps[s]);
        continue;
      }
      if (run.size() >= 2 && run[0].type == TSQueryPredicateStepTypeString &&
          run[1].type == TSQueryPredicateStepTypeCapture) {
        uint32_t length = 0;
        const char* op_text = ts_query_string_value_for_id(query, run[0].value_id, &length);
        std::string op(op_text, length);
        Predicate predicate;
        predicate.capture = run[1].value_id;
        for (size_t a = 2; a < run.size(); ++a) {
          if (run[a].type == TSQueryPredicateStepTypeCapture) {
            predicate.other_capture = run[a].value_id;
          } else {
            const char* text = ts_query_string_value_for_id(query, run[a].value_id, &length);
            predicate.values.emplace_back(text, length);
          }
        }
        bool known = true;
        if (op == "eq?" || op == "not-eq?") {
          predicate.op = Predicate::Op::kEq, predicate.negated = op == "not-eq?";
        } else if (op == "match?" || op == "not-match?") {
          predicate.op = Predicate::Op::kMatch, predicate.negated = op == "not-match?";
          if (!predicate.values.empty()) {
            auto regex = tools::LineRegex::compile(predicate.values[0]);
            if (regex) predicate.regex = std::move(*regex);  // else never matches: see predicate_holds()
          }
        } else if (op == "any-of?" || op == "not-any-of?") {
          predicate.op = Predicate::Op::kAnyOf, predicate.negated = op == "not-any-of?";
        } else {
          known = false;  // directives (strip!, select-adjacent!...) and unknown predicates
        }
        if (known) compiled.predicates[p].push_back(std::move(predicate));
      }
      run.clear();
    }
  }
  return compiled;
}

std::string_view node_text(TSNode node, std::string_view source) {
  uint32_t start = std::min<uint32_t>(ts_node_start_byte(node), static_cast<uint32_t>(source.size()));
  uint32_t end = std::min<uint32_t>(std::max(ts_node_end_byte(node), start), static_cast<uint32_t>(source.size()));
  return source.substr(start, end - start);
}

bool predicate_holds(const Predicate& predicate, const TSQueryCapture* captures, size_t count,
                     std::string_view source) {
  std::optional<std::string_view> text, other;
  for (size_t c = 0; c < count; ++c) {
    if (captures[c].index == predicate.capture && !text) text = node_text(captures[c].node, source);
    if (predicate.other_capture && captures[c].index == *predicate.other_capture && !other)
      other = node_text(captures[c].node, source);
  }
  if (!text) return true;  // capture absent from this match (a quantified one): nothing to test
  bool result = false;
  switch (predicate.op) {
    case Predicate::Op::kEq:
      if (predicate.other_capture) result = other && *text == *other;
      else result = !predicate.values.empty() && *text == predicate.values[0];
      break;
    case Predicate::Op::kMatch:
      if (!predicate.regex) return false;
      result = predicate.regex->search(*text);
      break;
    case Predicate::Op::kAnyOf:
      result = std::find(predicate.values.begin(), predicate.values.end(), *text) != predicate.values.end();
      break;
  }
  return predicate.negated ? !result : result;
}

// For C/C++ a function's @definition node is its declarator; its range
// should be the whole function_definition, body included.
TSNode widen_definition(TSNode node) {
  TSNode current = node;
  for (int level = 0; level < 4; ++level) {
    std::string_view type = ts_node_type(current);
    if (type == "function_definition") return current;
    if (level > 0 && !type.ends_with("_declarator")) break;
    TSNode parent = ts_node_parent(current);
    if (ts_node_is_null(parent)) break;
    current = parent;
  }
  return node;
}

std::string signature_at(std::string_view source, uint32_t start_byte) {
  size_t start = std::min<size_t>(start_byte, source.size());
  size_t begin = 0;  // the start of the line holding `start`
  if (start > 0) {
    size_t newline = source.rfind('\n', start - 1);
    if (newline != std::string_view::npos) begin = newline + 1;
  }
  size_t end = source.find('\n', start);
  if (end == std::string_view::npos) end = source.size();
  std::string line;
  bool space = false;
  for (char c : source.substr(begin, end - begin)) {
    if (line.size() > kMaxSignatureBytes + 4) break;  // a minified line: only the prefix is kept anyway
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      space = !line.empty();
      continue;
    }
    if (space) line += ' ';
    space = false;
    line += c;
  }
  if (!line.empty() && line.back() == '{') line.pop_back();
  while (!line.empty() && line.back() == ' ') line.pop_back();
  std::string valid = to_valid_utf8(line);
  return std::string(utf8_prefix(valid, kMaxSignatureBytes));
}

}  // namespace

struct TagExtractor::Impl {
  struct Loaded {
    std::unique_ptr<TSParser, ParserDeleter> parser;
    CompiledQuery query;
  };
  std::map<Language, Loaded> loaded;
  std::unique_ptr<TSQueryCursor, CursorDeleter> cursor{ts_query_cursor_new()};
  QueryEngine engine = QueryEngine::kFastest;

  Result<Loaded*> load(Language language) {
    if (auto it = loaded.find(language); it != loaded.end()) return &it->second;
    const TSLanguage* grammar = grammar_for(language);
    if (!grammar) return make_error("no grammar for " + std::string(language_name(language)));
    Loaded entry;
    entry.parser.reset(ts_parser_new());
    if (!ts_parser_set_language(entry.parser.get(), grammar))
      return make_error("the " + std::string(language_name(language)) + " grammar has ABI " +
                        std::to_string(ts_language_abi_version(grammar)) + ", which this tree-sitter library (ABI " +
                        std::to_string(TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION) + "-" +
                        std::to_string(TREE_SITTER_LANGUAGE_VERSION) +
                        ") cannot load; refetch the grammars pinned in indexer/grammars.lock");
    auto query = compile_query(language, grammar, engine != QueryEngine::kTreeSitter);
    if (!query) return query.error();
    entry.query = std::move(*query);
    return &loaded.emplace(language, std::move(entry)).first->second;
  }
};

TagExtractor::TagExtractor(QueryEngine engine) : impl_(std::make_unique<Impl>()) { impl_->engine = engine; }
TagExtractor::~TagExtractor() = default;

Result<FileTags> TagExtractor::extract(Language language, std::string_view source) {
  FileTags tags;
  if (!has_tags(language)) return tags;
  if (source.size() > UINT32_MAX) return make_error("the file is too large for tree-sitter (4 GiB limit)");
  auto loaded = impl_->load(language);
  if (!loaded) return loaded.error();
  Impl::Loaded& entry = **loaded;
  std::unique_ptr<TSTree, TreeDeleter> tree(
      ts_parser_parse_string(entry.parser.get(), nullptr, source.data(), static_cast<uint32_t>(source.size())));
  if (!tree) {
    ts_parser_reset(entry.parser.get());
    return make_error("tree-sitter gave up parsing the file");
  }
  TSNode root = ts_tree_root_node(tree.get());
  tags.syntax_error = ts_node_has_error(root);

  // Every candidate tag, then keyed by the @name node's position: a
  // definition beats a reference, then the lowest pattern index, then the
  // first seen. (A vector sorted once: a map node per match was a good part
  // of the extraction's allocations.)
  struct Found {
    std::pair<uint32_t, uint32_t> key;  // (start, end) of the name node
    uint32_t pattern;
    bool definition;
    const std::string* kind;  // the capture role's, alive as long as the query
    TSNode tagged;  // the @definition / @reference node
    TSNode name;
  };
  std::vector<Found> found;

  const CompiledQuery& compiled = entry.query;
  // One match: its pattern and captures (TSQueryCapture or SimpleCapture).
  auto consider = [&](uint32_t pattern, const auto* captures, size_t count) {
    std::optional<TSNode> name, tagged;
    const CaptureRole* tag_role = nullptr;
    for (size_t c = 0; c < count; ++c) {
      const CaptureRole& role = compiled.roles[captures[c].index];
      if (role.is_name && !name) name = captures[c].node;
      if ((role.is_definition || role.is_reference) && !tag_role) {
        tag_role = &role;
        tagged = captures[c].node;
      }
    }
    if (!name || !tag_role) return;
    found.push_back({std::make_pair(ts_node_start_byte(*name), ts_node_end_byte(*name)), pattern,
                     tag_role->is_definition, &tag_role->kind, *tagged, *name});
  };
  if (compiled.simple) {
    match_simple_query(*compiled.simple, root, [&](uint32_t pattern, const std::vector<SimpleCapture>& captures) {
      consider(pattern, captures.data(), captures.size());
    });
  } else {
    TSQueryCursor* cursor = impl_->cursor.get();
    ts_query_cursor_exec(cursor, compiled.query.get(), root);
    TSQueryMatch match;
    while (ts_query_cursor_next_match(cursor, &match)) {
      bool ok = true;
      for (const Predicate& predicate : compiled.predicates[match.pattern_index])
        if (!predicate_holds(predicate, match.captures, match.capture_count, source)) {
          ok = false;
          break;
        }
      if (ok) consider(match.pattern_index, match.captures, match.capture_count);
    }
  }

  std::stable_sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    if (a.key != b.key) return a.key < b.key;
    if (a.definition != b.definition) return a.definition;
    return a.pattern < b.pattern;
  });
  for (size_t i = 0; i < found.size(); ++i) {
    if (i > 0 && found[i].key == found[i - 1].key) continue;  // the first of each key wins
    const Found& f = found[i];
    std::string_view text = node_text(f.name, source);
    if (text.empty() || text.size() > kMaxNameBytes) continue;
    std::string name = to_valid_utf8(text);
    if (f.definition) {
      TSNode range = widen_definition(f.tagged);
      Definition d;
      d.name = std::move(name);
      d.kind = *f.kind;
      d.start_line = static_cast<int>(ts_node_start_point(range).row) + 1;
      d.end_line = static_cast<int>(ts_node_end_point(range).row) + 1;
      d.signature = signature_at(source, ts_node_start_byte(range));
      tags.definitions.push_back(std::move(d));
    } else {
      Reference r;
      r.name = std::move(name);
      r.kind = *f.kind;
      r.line = static_cast<int>(ts_node_start_point(f.name).row) + 1;
      tags.references.push_back(std::move(r));
    }
  }
  return tags;
}

Result<FileTags> TagExtractor::extract_header(std::string_view source, Language& language) {
  language = looks_like_cpp(source) ? Language::kCpp : Language::kC;
  return extract(language, source);
}

}  // namespace beluga::indexer
