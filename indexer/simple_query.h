// Internal to indexer/ (includes tree-sitter's C API): a matcher for tags
// queries made only of plain node patterns, used instead of ts_query_new
// where it can be.
//
// Why: tree-sitter 0.20.7 (Debian 12's, which beluga linked before it
// built in the pinned 0.25 runtime) analysed the whole parse table when it
// compiled a query: 18 ms for C's tags query and 60-130 ms for C++'s, paid
// again by every thread of every process. An index update that re-parses one C++ file spent most
// of its time there. The C and C++ tags queries use none of what makes
// queries hard — only
//
//   pattern := node capture*
//   node    := "(" TYPE child* ")"        TYPE a named node type, or _
//   child   := [FIELD ":"] (node | "[" (node capture*)+ "]") capture*
//   capture := "@" NAME
//
// (and ";" comments) — which this file matches by walking the tree: a node
// of TYPE whose children match each child pattern in order (strictly
// increasing child positions, as tree-sitter's sibling steps do; with
// FIELD, only children under that field; an alternation matches a child
// that one of its nodes matches, once per such node). Every combination of
// matching children is one match, as with a query cursor. Anything else in the
// query text (predicates, quantifiers, alternations, anchors, strings,
// negated fields) makes parse_simple_query() decline, and the caller
// compiles a real TSQuery. tests/indexer/tags_test.cpp checks that both give
// identical tags on the fixtures and on this repository's own sources
// (C, C++, Java and Python qualify today).
//
// Thread contract: a SimpleQuery is immutable after parsing; match() uses
// only its arguments.
#pragma once

#include <tree_sitter/api.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"

namespace beluga::indexer {

struct SimpleQuery {
  struct Node {
    std::string type;          // "_" = any named node; "" for an alternation
    TSFieldId field = 0;       // 0: no field constraint
    std::vector<uint32_t> captures;
    std::vector<Node> children;
    std::vector<Node> alternatives;  // a child "[ node... ]": one of them matches
    // Filled by parse_simple_query: `type` is "_", and the grammar symbols
    // named `type` (so matching compares small integers, not strings; the
    // ERROR node, outside the symbol table, is still compared by name).
    bool any = false;
    std::vector<TSSymbol> symbols;
  };
  std::vector<Node> patterns;              // by pattern index
  std::vector<std::string> capture_names;  // by capture id, in order of first appearance
  // By grammar symbol: the patterns whose top node that symbol can be (so
  // the walk compares no strings at nodes no pattern starts from).
  std::vector<std::vector<uint32_t>> patterns_by_symbol;
};

struct SimpleCapture {
  uint32_t index;  // capture id
  TSNode node;
};

// nullopt: the text uses more than plain node patterns (use ts_query_new).
// An error: it is plain but names a node type or field the grammar lacks.
std::optional<Result<SimpleQuery>> parse_simple_query(std::string_view text, const TSLanguage* language);

// Calls `on_match(pattern_index, captures)` for every match under `root`.
void match_simple_query(const SimpleQuery& query, TSNode root,
                        const std::function<void(uint32_t, const std::vector<SimpleCapture>&)>& on_match);

}  // namespace beluga::indexer
