// Parser (pattern → syntax tree), compiler (tree → Pike VM program) and the
// VM. The VM keeps, for each position of the line, the set of program
// counters alive there (at most the program's size), so a search costs
// O(line length × program size) whatever the pattern; the program size is
// capped (counted repetition is expanded), and so is the nesting depth.
#include "tools/line_regex.h"

#include <algorithm>
#include <cctype>

namespace beluga::tools {

namespace {

constexpr size_t kMaxPatternBytes = 10000;
constexpr size_t kMaxProgram = 20000;
constexpr int kMaxDepth = 100;
constexpr int kMaxCount = 1000;               // {n,m} bounds
constexpr uint32_t kInvalidBase = 0x110000;   // invalid byte b decodes to kInvalidBase + b
constexpr uint32_t kMaxCodePoint = kInvalidBase + 0xFF;

struct Range {
  uint32_t lo, hi;
};

struct CharClass {
  std::vector<Range> ranges;  // sorted, merged
  bool negated = false;
  bool contains(uint32_t c) const {
    auto it = std::upper_bound(ranges.begin(), ranges.end(), c, [](uint32_t v, const Range& r) { return v < r.lo; });
    return it != ranges.begin() && std::prev(it)->hi >= c;
  }
};

enum class Op : uint8_t { kChar, kAny, kClass, kSplit, kJmp, kMatch, kBol, kEol, kWordB, kNotWordB };

struct Inst {
  Op op;
  uint32_t c = 0;  // kChar: the code point; kClass: the class index
  int x = 0, y = 0;
};

struct Node {
  enum Kind { kEmpty, kChar, kAny, kClass, kConcat, kAlt, kRepeat, kAssert } kind = kEmpty;
  uint32_t value = 0;  // code point, class index, or the assertion's Op
  int min = 0, max = 0;  // kRepeat; max = -1 for no upper bound
  std::vector<std::unique_ptr<Node>> kids;
};

std::unique_ptr<Node> make(Node::Kind kind, uint32_t value = 0) {
  auto n = std::make_unique<Node>();
  n->kind = kind;
  n->value = value;
  return n;
}

// Decodes one UTF-8 code point at s[i]; invalid bytes map to kInvalidBase + byte.
uint32_t decode(std::string_view s, size_t& i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return (++i, c);
  size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
  if (c >= 0xF5) n = 0;
  if (n && i + n <= s.size()) {
    uint32_t cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    bool ok = true;
    for (size_t k = 1; k < n && ok; ++k) {
      ok = (b(i + k) & 0xC0) == 0x80;
      cp = (cp << 6) | (b(i + k) & 0x3F);
    }
    if (ok && !(n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) && !(n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      i += n;
      return cp;
    }
  }
  ++i;
  return kInvalidBase + c;
}

bool is_word(uint32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

uint32_t swap_case(uint32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c >= 'A' && c <= 'Z') return c + 32;
  return c;
}

void normalise(std::vector<Range>& ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
  std::vector<Range> merged;
  for (const Range& r : ranges) {
    if (!merged.empty() && r.lo <= merged.back().hi + 1) merged.back().hi = std::max(merged.back().hi, r.hi);
    else merged.push_back(r);
  }
  ranges = std::move(merged);
}

std::vector<Range> complement(std::vector<Range> ranges) {
  normalise(ranges);
  std::vector<Range> out;
  uint32_t next = 0;
  for (const Range& r : ranges) {
    if (r.lo > next) out.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= kMaxCodePoint) out.push_back({next, kMaxCodePoint});
  return out;
}

std::vector<Range> shorthand(char c) {
  std::vector<Range> r;
  switch (c) {
    case 'd': case 'D': r = {{'0', '9'}}; break;
    case 'w': case 'W': r = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; break;
    case 's': case 'S':
      r = {{'\t', '\r'}, {' ', ' '}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x2000, 0x200A}, {0x2028, 0x2029},
           {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
      break;
  }
  return (c == 'D' || c == 'W' || c == 'S') ? complement(r) : r;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Parser {
 public:
  Parser(std::string_view pattern, std::vector<CharClass>& classes) : p_(pattern), classes_(classes) {}

  Result<std::unique_ptr<Node>> run() {
    std::unique_ptr<Node> tree = alternation(0);
    if (!error_.empty()) return make_error(error_);
    if (i_ < p_.size()) return make_error("unmatched ')' at offset " + std::to_string(i_));
    return tree;
  }

 private:
  bool more() const { return i_ < p_.size() && error_.empty(); }
  char peek() const { return p_[i_]; }
  void fail(std::string message) {
    if (error_.empty()) error_ = std::move(message) + " (at offset " + std::to_string(i_) + ")";
  }

  std::unique_ptr<Node> alternation(int depth) {
    if (depth > kMaxDepth) {
      fail("the pattern nests too deeply");
      return make(Node::kEmpty);
    }
    auto alt = make(Node::kAlt);
    alt->kids.push_back(concatenation(depth));
    while (more() && peek() == '|') {
      ++i_;
      alt->kids.push_back(concatenation(depth));
    }
    if (alt->kids.size() == 1) return std::move(alt->kids[0]);
    return alt;
  }

  std::unique_ptr<Node> concatenation(int depth) {
    auto cat = make(Node::kConcat);
    while (more() && peek() != '|' && peek() != ')') cat->kids.push_back(repetition(depth));
    return cat;
  }

  // {n}, {n,}, {n,m} at i_ (which is at '{'); false when it is a literal '{'.
  bool counted(int& min, int& max) {
    size_t j = i_ + 1;
    auto number = [&](int& v) {
      size_t start = j;
      v = 0;
      while (j < p_.size() && p_[j] >= '0' && p_[j] <= '9') {
        v = std::min(v * 10 + (p_[j] - '0'), kMaxCount + 1);
        ++j;
      }
      return j > start;
    };
    if (!number(min)) return false;
    max = min;
    if (j < p_.size() && p_[j] == ',') {
      ++j;
      if (!number(max)) max = -1;
    }
    if (j >= p_.size() || p_[j] != '}') return false;
    i_ = j + 1;
    return true;
  }

  std::unique_ptr<Node> repetition(int depth) {
    std::unique_ptr<Node> atom_node = atom(depth);
    if (!more()) return atom_node;
    int min = 0, max = 0;
    char c = peek();
    if (c == '*') min = 0, max = -1, ++i_;
    else if (c == '+') min = 1, max = -1, ++i_;
    else if (c == '?') min = 0, max = 1, ++i_;
    else if (c == '{' && counted(min, max)) {
      if (min > kMaxCount || max > kMaxCount) {
        fail("a repetition count above " + std::to_string(kMaxCount));
        return atom_node;
      }
      if (max != -1 && max < min) {
        fail("the repetition {" + std::to_string(min) + "," + std::to_string(max) + "} is out of order");
        return atom_node;
      }
    } else {
      return atom_node;
    }
    if (atom_node->kind == Node::kAssert || atom_node->kind == Node::kEmpty) {
      fail("nothing to repeat");
      return atom_node;
    }
    if (more() && peek() == '?') ++i_;  // lazy: same answer to "does it match"
    if (more() && (peek() == '*' || peek() == '+' || peek() == '?')) {
      fail("nothing to repeat");
      return atom_node;
    }
    auto rep = make(Node::kRepeat);
    rep->min = min;
    rep->max = max;
    rep->kids.push_back(std::move(atom_node));
    return rep;
  }

  // An escape after '\' (i_ is past the backslash). Returns a code point, or
  // sets `cls` for \d \w \s and friends.
  uint32_t escape(bool in_class, std::vector<Range>* cls, Node::Kind* assertion) {
    if (i_ >= p_.size()) {
      fail("the pattern ends with a lone backslash");
      return 0;
    }
    char c = p_[i_++];
    switch (c) {
      case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
        if (cls) *cls = shorthand(c);
        return 0;
      case 'b':
        if (in_class) return 8;
        if (assertion) *assertion = Node::kAssert;
        return static_cast<uint32_t>(Op::kWordB);
      case 'B':
        if (in_class) return 'B';
        if (assertion) *assertion = Node::kAssert;
        return static_cast<uint32_t>(Op::kNotWordB);
      case 't': return '\t';
      case 'n': return '\n';
      case 'r': return '\r';
      case 'f': return '\f';
      case 'v': return '\v';
      case '0': return 0;
      case 'c':
        if (i_ < p_.size() && std::isalpha(static_cast<unsigned char>(p_[i_]))) return static_cast<uint32_t>(p_[i_++] % 32);
        return '\\';
      case 'x':
        if (i_ + 1 < p_.size() && hex_value(p_[i_]) >= 0 && hex_value(p_[i_ + 1]) >= 0) {
          uint32_t v = static_cast<uint32_t>(hex_value(p_[i_]) * 16 + hex_value(p_[i_ + 1]));
          i_ += 2;
          return v;
        }
        return 'x';
      case 'u': {
        uint32_t v = 0;
        if (i_ < p_.size() && p_[i_] == '{') {
          size_t j = i_ + 1;
          while (j < p_.size() && hex_value(p_[j]) >= 0 && v <= 0x10FFFF) v = v * 16 + static_cast<uint32_t>(hex_value(p_[j++]));
          if (j < p_.size() && p_[j] == '}' && j > i_ + 1 && v <= 0x10FFFF) {
            i_ = j + 1;
            return v;
          }
          fail("a malformed \\u{...} escape");
          return 0;
        }
        if (i_ + 3 < p_.size() && hex_value(p_[i_]) >= 0 && hex_value(p_[i_ + 1]) >= 0 && hex_value(p_[i_ + 2]) >= 0 &&
            hex_value(p_[i_ + 3]) >= 0) {
          for (int k = 0; k < 4; ++k) v = v * 16 + static_cast<uint32_t>(hex_value(p_[i_++]));
          return v;
        }
        return 'u';
      }
      case 'k':
        fail("backreferences (\\k<name>) are not supported");
        return 0;
      default:
        if (c >= '1' && c <= '9' && !in_class) {
          fail("backreferences (\\1...) are not supported");
          return 0;
        }
        --i_;
        return decode(p_, i_);
    }
  }

  std::unique_ptr<Node> char_class() {
    CharClass cls;
    if (more() && peek() == '^') cls.negated = true, ++i_;
    std::vector<Range> ranges;
    while (true) {
      if (i_ >= p_.size()) {
        fail("an unterminated character class '['");
        break;
      }
      if (peek() == ']') {
        ++i_;
        break;
      }
      auto item = [&](uint32_t& cp, bool& is_set) {
        std::vector<Range> set;
        if (peek() == '\\') {
          ++i_;
          cp = escape(true, &set, nullptr);
        } else {
          cp = decode(p_, i_);
        }
        is_set = !set.empty();
        if (is_set) ranges.insert(ranges.end(), set.begin(), set.end());
      };
      uint32_t lo = 0;
      bool lo_set = false;
      item(lo, lo_set);
      if (!error_.empty()) break;
      if (!lo_set && i_ + 1 < p_.size() && peek() == '-' && p_[i_ + 1] != ']') {
        ++i_;
        uint32_t hi = 0;
        bool hi_set = false;
        item(hi, hi_set);
        if (hi_set) {
          ranges.push_back({lo, lo});
          ranges.push_back({'-', '-'});
        } else if (hi < lo) {
          fail("a character class range out of order");
          break;
        } else {
          ranges.push_back({lo, hi});
        }
      } else if (!lo_set) {
        ranges.push_back({lo, lo});
      }
    }
    normalise(ranges);
    cls.ranges = std::move(ranges);
    classes_.push_back(std::move(cls));
    return make(Node::kClass, static_cast<uint32_t>(classes_.size() - 1));
  }

  std::unique_ptr<Node> atom(int depth) {
    char c = peek();
    switch (c) {
      case '(': {
        ++i_;
        if (i_ < p_.size() && p_[i_] == '?') {
          std::string_view rest = p_.substr(i_);
          if (rest.substr(0, 2) == "?:") {
            i_ += 2;
          } else if (rest.substr(0, 2) == "?=" || rest.substr(0, 2) == "?!" || rest.substr(0, 3) == "?<=" ||
                     rest.substr(0, 3) == "?<!") {
            fail("lookahead and lookbehind are not supported");
            return make(Node::kEmpty);
          } else if (rest.substr(0, 2) == "?<") {
            size_t close = rest.find('>');
            if (close == std::string_view::npos) {
              fail("an unterminated group name");
              return make(Node::kEmpty);
            }
            i_ += close + 1;
          } else {
            fail("an unknown group type '(?'");
            return make(Node::kEmpty);
          }
        }
        std::unique_ptr<Node> inner = alternation(depth + 1);
        if (i_ >= p_.size() || p_[i_] != ')') {
          fail("an unterminated group '('");
          return inner;
        }
        ++i_;
        return inner;
      }
      case '[': ++i_; return char_class();
      case '.': ++i_; return make(Node::kAny);
      case '^': ++i_; return make(Node::kAssert, static_cast<uint32_t>(Op::kBol));
      case '$': ++i_; return make(Node::kAssert, static_cast<uint32_t>(Op::kEol));
      case '*': case '+': case '?':
        fail("nothing to repeat");
        return make(Node::kEmpty);
      case '{': {
        int a, b;
        size_t save = i_;
        if (counted(a, b)) {
          i_ = save;
          fail("nothing to repeat");
          return make(Node::kEmpty);
        }
        ++i_;
        return make(Node::kChar, '{');
      }
      case '\\': {
        ++i_;
        std::vector<Range> set;
        Node::Kind assertion = Node::kEmpty;
        uint32_t cp = escape(false, &set, &assertion);
        if (assertion == Node::kAssert) return make(Node::kAssert, cp);
        if (!set.empty()) {
          CharClass cls;
          cls.ranges = std::move(set);
          normalise(cls.ranges);
          classes_.push_back(std::move(cls));
          return make(Node::kClass, static_cast<uint32_t>(classes_.size() - 1));
        }
        return make(Node::kChar, cp);
      }
      default:
        return make(Node::kChar, decode(p_, i_));
    }
  }

  std::string_view p_;
  size_t i_ = 0;
  std::vector<CharClass>& classes_;
  std::string error_;
};

struct TooLarge {};

}  // namespace

struct LineRegex::Program {
  std::vector<Inst> insts;
  std::vector<CharClass> classes;
  bool ignore_case = false;
  bool is_literal = false;
  std::string literal;

  bool class_matches(uint32_t index, uint32_t c) const {
    const CharClass& cls = classes[index];
    bool in = cls.contains(c) || (ignore_case && swap_case(c) != c && cls.contains(swap_case(c)));
    return in != cls.negated;
  }

  int emit(Inst inst) {
    if (insts.size() >= kMaxProgram) throw TooLarge{};
    insts.push_back(inst);
    return static_cast<int>(insts.size() - 1);
  }

  void compile(const Node& n) {
    switch (n.kind) {
      case Node::kEmpty: break;
      case Node::kChar:
        if (ignore_case && swap_case(n.value) != n.value) {
          CharClass cls;
          cls.ranges = {{n.value, n.value}};
          classes.push_back(std::move(cls));
          emit({Op::kClass, static_cast<uint32_t>(classes.size() - 1)});
        } else {
          emit({Op::kChar, n.value});
        }
        break;
      case Node::kAny: emit({Op::kAny}); break;
      case Node::kClass: emit({Op::kClass, n.value}); break;
      case Node::kAssert: emit({static_cast<Op>(n.value)}); break;
      case Node::kConcat:
        for (const auto& kid : n.kids) compile(*kid);
        break;
      case Node::kAlt: {
        std::vector<int> jumps;
        for (size_t k = 0; k < n.kids.size(); ++k) {
          if (k + 1 == n.kids.size()) {
            compile(*n.kids[k]);
            break;
          }
          int split = emit({Op::kSplit});
          insts[split].x = split + 1;
          compile(*n.kids[k]);
          jumps.push_back(emit({Op::kJmp}));
          insts[split].y = static_cast<int>(insts.size());
        }
        for (int j : jumps) insts[j].x = static_cast<int>(insts.size());
        break;
      }
      case Node::kRepeat: {
        for (int k = 0; k < n.min; ++k) compile(*n.kids[0]);
        if (n.max == -1) {
          int loop = emit({Op::kSplit});
          insts[loop].x = loop + 1;
          compile(*n.kids[0]);
          int back = emit({Op::kJmp});
          insts[back].x = loop;
          insts[loop].y = static_cast<int>(insts.size());
        } else {
          std::vector<int> splits;
          for (int k = n.min; k < n.max; ++k) {
            int split = emit({Op::kSplit});
            insts[split].x = split + 1;
            splits.push_back(split);
            compile(*n.kids[0]);
          }
          for (int s : splits) insts[s].y = static_cast<int>(insts.size());
        }
        break;
      }
    }
  }
};

Result<LineRegex> LineRegex::compile(std::string_view pattern, bool ignore_case) {
  if (pattern.size() > kMaxPatternBytes)
    return make_error("the pattern is longer than " + std::to_string(kMaxPatternBytes) + " bytes");
  auto program = std::make_shared<Program>();
  program->ignore_case = ignore_case;
  if (!ignore_case && !pattern.empty() && pattern.find_first_of("\\^$.|?*+()[]{}") == std::string_view::npos) {
    program->is_literal = true;
    program->literal = std::string(pattern);
  } else {
    Result<std::unique_ptr<Node>> tree = Parser(pattern, program->classes).run();
    if (!tree) return make_error("invalid regular expression: " + tree.message());
    try {
      program->compile(**tree);
      program->emit({Op::kMatch});
    } catch (const TooLarge&) {
      return make_error("the regular expression is too large once its repetitions are expanded; simplify it");
    }
  }
  LineRegex regex;
  regex.program_ = std::move(program);
  return regex;
}

bool LineRegex::search(std::string_view line) const {
  const Program& prog = *program_;
  if (prog.is_literal) return line.find(prog.literal) != std::string_view::npos;
  const size_t n = prog.insts.size();

  thread_local std::vector<uint32_t> text;
  thread_local std::vector<int> seeds, next_seeds, active, stack;
  thread_local std::vector<uint32_t> mark;  // generation stamp per pc
  thread_local uint32_t generation = 0;
  text.clear();
  for (size_t i = 0; i < line.size();) text.push_back(decode(line, i));
  if (mark.size() < n) mark.assign(n, 0);
  seeds.clear();

  const size_t length = text.size();
  for (size_t pos = 0;; ++pos) {
    if (++generation == 0) {
      std::fill(mark.begin(), mark.end(), 0);
      generation = 1;
    }
    uint32_t prev = pos > 0 ? text[pos - 1] : 0, next = pos < length ? text[pos] : 0;
    bool word_before = pos > 0 && is_word(prev), word_after = pos < length && is_word(next);
    // The epsilon closure of the seeds plus a new thread at the start.
    active.clear();
    stack.assign(seeds.rbegin(), seeds.rend());
    stack.push_back(0);
    while (!stack.empty()) {
      int pc = stack.back();
      stack.pop_back();
      if (mark[pc] == generation) continue;
      mark[pc] = generation;
      const Inst& inst = prog.insts[pc];
      switch (inst.op) {
        case Op::kMatch: return true;
        case Op::kJmp: stack.push_back(inst.x); break;
        case Op::kSplit:
          stack.push_back(inst.y);
          stack.push_back(inst.x);
          break;
        case Op::kBol: if (pos == 0) stack.push_back(pc + 1); break;
        case Op::kEol: if (pos == length) stack.push_back(pc + 1); break;
        case Op::kWordB: if (word_before != word_after) stack.push_back(pc + 1); break;
        case Op::kNotWordB: if (word_before == word_after) stack.push_back(pc + 1); break;
        default: active.push_back(pc);
      }
    }
    if (pos == length) return false;
    uint32_t c = text[pos];
    next_seeds.clear();
    for (int pc : active) {
      const Inst& inst = prog.insts[pc];
      bool ok = false;
      switch (inst.op) {
        case Op::kChar: ok = inst.c == c; break;
        case Op::kAny: ok = c != '\n' && c != '\r' && c != 0x2028 && c != 0x2029; break;
        case Op::kClass: ok = prog.class_matches(inst.c, c); break;
        default: break;
      }
      if (ok) next_seeds.push_back(pc + 1);
    }
    seeds.swap(next_seeds);
  }
}

}  // namespace beluga::tools
