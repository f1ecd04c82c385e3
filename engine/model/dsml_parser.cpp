// DsmlStreamParser: parse_message_from_completion_text of encoding_dsv4.py
// (with parse_tool_calls and _read_until_stop) as a resumable state
// machine.
//
// The reference reads the whole text with one primitive: "read until the
// first of these stop strings, or to the end". Each state here is one such
// read. The unconsumed text of the current state lives in buffer_ from
// pos_; a state either finds its stop (and decides), or, at the end of the
// text, takes everything (and decides), or waits for more text. While it
// waits it emits what is already certain: reasoning and content up to what
// could still be the start of a stop string, parameter values likewise, so
// deltas are early but never retracted. Because every decision depends only
// on the text and never on where a chunk ended, the merged event sequence is
// the same for every chunking (tested over all golden cases and fuzzed).
//
// The regular expressions of the reference are matched by hand:
//   invoke:    ^\s*name="(.*?)">\n$            (\s: Unicode whitespace)
//   parameter: ^ name="(.*?)" string="(true|false)">(.*?)<$   (DOTALL)
// In both, Python's `$` also matches before one final "\n", and the lazy
// groups make the first occurrence of the closing pattern win.
#include "engine/model/dsml_parser.h"

#include <algorithm>
#include <cassert>
#include <initializer_list>
#include <optional>

#include "engine/model/py_json.h"

namespace beluga {
namespace {

constexpr size_t npos = std::string_view::npos;

// The strings the reference rejects inside reasoning or content, in the
// order it checks them (the first found names the error).
constexpr std::string_view kCheckedTokens[] = {dsv4::kBos, dsv4::kEos, dsv4::kThinkStart, dsv4::kThinkEnd,
                                               dsv4::kDsml};
constexpr size_t kScannerTail = dsv4::kBos.size() - 1;  // the longest checked token, less one

constexpr std::string_view kParamNamePrefix = " name=\"";
constexpr std::string_view kStringTrue = "\" string=\"true\">";
constexpr std::string_view kStringFalse = "\" string=\"false\">";
constexpr std::string_view kTagGap = ">\n";

// Error messages quote the offending text as the reference does; beyond
// this many bytes the middle is elided so a runaway completion does not
// become a runaway message.
constexpr size_t kMaxQuotedBytes = 4096;

struct Found {
  size_t pos = npos;
  size_t which = 0;
  size_t length = 0;
};

// The earliest occurrence at or after `from` of any stop (the first listed
// wins a tie), as _read_until_stop.
Found find_first(std::string_view text, size_t from, std::initializer_list<std::string_view> stops) {
  Found best;
  size_t k = 0;
  for (std::string_view stop : stops) {
    size_t pos = from <= text.size() ? text.find(stop, from) : npos;
    if (pos != npos && pos < best.pos) best = Found{pos, k, stop.size()};
    ++k;
  }
  return best;
}

// Where to resume a search once `size` bytes were searched in vain: a stop
// may still start in the last (longest stop - 1) bytes.
size_t resume_search(size_t size, std::initializer_list<std::string_view> stops) {
  size_t longest = 0;
  for (std::string_view stop : stops) longest = std::max(longest, stop.size());
  return size >= longest ? size - (longest - 1) : 0;
}

// The longest suffix of `text` that is a proper prefix of some stop: text
// that may yet turn into a stop string.
size_t partial_stop_length(std::string_view text, std::initializer_list<std::string_view> stops) {
  size_t best = 0;
  for (std::string_view stop : stops) {
    for (size_t k = std::min(stop.size() - 1, text.size()); k > best; --k) {
      if (text.substr(text.size() - k) == stop.substr(0, k)) {
        best = k;
        break;
      }
    }
  }
  return best;
}

// `end`, or the start of a UTF-8 sequence that begins before `end` and is
// not complete by it (never before `begin`): deltas never split a character.
size_t utf8_complete_end(std::string_view text, size_t begin, size_t end) {
  for (size_t back = 1; back <= 3 && end >= begin + back; ++back) {
    unsigned char c = static_cast<unsigned char>(text[end - back]);
    if (c < 0x80) return end;
    if (c < 0xC0) continue;  // continuation byte
    size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (c >= 0xF8) return end;  // not a lead byte: nothing to wait for
    return back < length ? end - back : end;
  }
  return end;
}

// Length of the character at s[i] if Python's str.isspace() holds for it.
size_t python_space_length(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) ? 1 : 0;
  auto has = [&](std::string_view seq) { return s.substr(i, seq.size()) == seq; };
  if (has("\u0085") || has("\u00A0")) return 2;
  if (has("\u1680") || has("\u2028") || has("\u2029") || has("\u202F") || has("\u205F") || has("\u3000")) return 3;
  // U+2000..U+200A: E2 80 80..8A
  if (i + 2 < s.size() && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
      static_cast<unsigned char>(s[i + 2]) >= 0x80 && static_cast<unsigned char>(s[i + 2]) <= 0x8A)
    return 3;
  return 0;
}

// ^\s*name="(.*?)">\n$ on the text between "<｜DSML｜invoke" and the next tag.
std::optional<std::string_view> match_invoke_header(std::string_view header) {
  size_t i = 0;
  while (i < header.size()) {
    size_t n = python_space_length(header, i);
    if (n == 0) break;
    i += n;
  }
  constexpr std::string_view kName = "name=\"";
  if (header.substr(i, kName.size()) != kName) return std::nullopt;
  std::string_view rest = header.substr(i + kName.size());
  if (rest.ends_with("\">\n")) return rest.substr(0, rest.size() - 3);
  if (rest.ends_with("\">\n\n")) return rest.substr(0, rest.size() - 4);
  return std::nullopt;
}

struct ParameterMatch {
  std::string_view name;
  bool is_string = false;
  size_t value_begin = 0;
  size_t value_end = 0;
};

// ^ name="(.*?)" string="(true|false)">(.*?)<$ on the text between
// "<｜DSML｜parameter" and "/｜DSML｜parameter".
std::optional<ParameterMatch> match_parameter(std::string_view content) {
  if (!content.starts_with(kParamNamePrefix)) return std::nullopt;
  size_t value_end;
  if (content.ends_with("<")) value_end = content.size() - 1;
  else if (content.ends_with("<\n")) value_end = content.size() - 2;
  else return std::nullopt;
  Found f = find_first(content, kParamNamePrefix.size(), {kStringTrue, kStringFalse});
  if (f.pos == npos || f.pos + f.length > value_end) return std::nullopt;
  return ParameterMatch{content.substr(kParamNamePrefix.size(), f.pos - kParamNamePrefix.size()), f.which == 0,
                        f.pos + f.length, value_end};
}

// Moves `i` back to the start of the UTF-8 character containing it.
size_t char_start(std::string_view s, size_t i) {
  while (i > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  return i;
}

std::string quote_for_error(std::string_view text, size_t max_bytes = kMaxQuotedBytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t head = char_start(text, max_bytes / 2);
  size_t tail = char_start(text, text.size() - max_bytes / 4);
  return std::string(text.substr(0, head)) + "…[" + std::to_string(tail - head) + " bytes omitted]…" +
         std::string(text.substr(tail));
}

DsmlEvent make_event(DsmlEvent::Kind kind, std::string text = {}, size_t call_index = 0) {
  DsmlEvent event;
  event.kind = kind;
  event.text = std::move(text);
  event.call_index = call_index;
  return event;
}

std::string describe_call(size_t index, const ParsedToolCall& call) {
  return "tool call " + std::to_string(index + 1) + " (\"" + call.name + "\")";
}

// Empty when every string="false" value is JSON (strict RFC 8259: no NaN),
// so that the arguments text is a JSON object.
std::string arguments_error(size_t index, const ParsedToolCall& call) {
  for (const DsmlParameter& p : call.parameters) {
    if (p.is_string) continue;
    auto parsed = parse_json(p.value, JsonParseOptions{.allow_non_finite = false});
    if (parsed) continue;
    return describe_call(index, call) + ": parameter \"" + p.name +
           "\" has string=\"false\" but its value is not JSON (" + parsed.message() + "): '" +
           quote_for_error(p.value, 200) +
           "'. Write JSON values (numbers, booleans, arrays, objects, null) with string=\"false\" and text "
           "with string=\"true\".";
  }
  return {};
}

}  // namespace

void DsmlStreamParser::TokenScanner::feed(std::string_view text) {
  std::string window = tail;
  window.append(text);
  for (size_t k = 0; k < std::size(kCheckedTokens); ++k)
    if (window.find(kCheckedTokens[k]) != npos) found |= 1u << k;
  tail = window.size() > kScannerTail ? window.substr(window.size() - kScannerTail) : window;
}

DsmlStreamParser::DsmlStreamParser(ThinkingMode mode)
    : state_(mode == ThinkingMode::kThinking ? State::kReasoning : State::kContent) {}

void DsmlStreamParser::feed(std::string_view chunk, std::vector<DsmlEvent>& events) {
  if (done() || chunk.empty()) return;
  // Offsets are kept relative to pos_, so dropping consumed text is free.
  if (pos_ >= 4096 && pos_ * 2 >= buffer_.size()) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(chunk);
  run(false, events);
}

void DsmlStreamParser::finish(std::vector<DsmlEvent>& events) {
  if (done()) return;
  run(true, events);
}

Result<ParsedCompletion> DsmlStreamParser::result() const {
  if (state_ == State::kDone) return completion_;
  if (state_ == State::kFailed) return make_error(error_);
  return make_error("the completion is not finished (finish() was not called)");
}

void DsmlStreamParser::run(bool at_end, std::vector<DsmlEvent>& events) {
  while (!done()) {
    bool moved = false;
    switch (state_) {
      case State::kReasoning:
      case State::kContent: moved = step_text(at_end, events); break;
      case State::kAfterEos: moved = step_after_eos(at_end, events); break;
      case State::kBlockGap: moved = step_block_gap(at_end, events); break;
      case State::kInvokeHeader: moved = step_invoke_header(at_end, events); break;
      case State::kParamBody: moved = step_param_body(at_end, events); break;
      case State::kParamGap: moved = step_param_gap(at_end, events); break;
      case State::kAfterBlock: moved = step_after_block(at_end, events); break;
      case State::kDone:
      case State::kFailed: return;
    }
    if (!moved) return;
  }
}

void DsmlStreamParser::advance(size_t bytes, State next) {
  pos_ += bytes;
  state_ = next;
  search_from_ = 0;
  if (next == State::kAfterEos) completion_.ended_with_eos = true;
  if (next == State::kParamBody) {
    header_known_ = false;
    header_duplicate_ = false;
    header_search_from_ = 0;
    value_start_ = value_emitted_ = 0;
    value_is_string_ = false;
  }
}

bool DsmlStreamParser::fail(std::string message, std::vector<DsmlEvent>& events) {
  error_ = std::move(message);
  state_ = State::kFailed;
  events.push_back(make_event(DsmlEvent::Kind::kFailed, error_));
  return true;
}

void DsmlStreamParser::succeed(std::vector<DsmlEvent>& events) {
  unsigned found = reasoning_tokens_.found | content_tokens_.found;
  for (size_t k = 0; k < std::size(kCheckedTokens); ++k) {
    if (found & (1u << k)) {
      fail("Unexpected special token '" + std::string(kCheckedTokens[k]) + "' in content", events);
      return;
    }
  }
  state_ = State::kDone;
  events.push_back(make_event(DsmlEvent::Kind::kEnd));
}

void DsmlStreamParser::emit_text(std::string_view text, std::vector<DsmlEvent>& events) {
  if (text.empty()) return;
  if (state_ == State::kReasoning) {
    completion_.reasoning_content.append(text);
    reasoning_tokens_.feed(text);
    events.push_back(make_event(DsmlEvent::Kind::kReasoningDelta, std::string(text)));
  } else {
    completion_.content.append(text);
    content_tokens_.feed(text);
    events.push_back(make_event(DsmlEvent::Kind::kContentDelta, std::string(text)));
  }
}

// Reasoning (to </think>) and content (to EOS or the tool block).
bool DsmlStreamParser::step_text(bool at_end, std::vector<DsmlEvent>& events) {
  const bool reasoning = state_ == State::kReasoning;
  const std::string_view first_stop = reasoning ? dsv4::kThinkEnd : dsv4::kEos;
  std::string_view seg = segment();
  Found f = find_first(seg, 0, {first_stop, dsv4::kToolCallsStart});
  if (f.pos != npos) {
    emit_text(seg.substr(0, f.pos), events);
    if (reasoning && f.which == 1) return fail("Invalid thinking format: missing </think>", events);
    State next = reasoning ? State::kContent : (f.which == 0 ? State::kAfterEos : State::kBlockGap);
    advance(f.pos + f.length, next);
    return true;
  }
  if (at_end) {
    emit_text(seg, events);
    pos_ = buffer_.size();
    return fail(reasoning ? "Invalid thinking format: missing </think>" : "Invalid format: missing EOS token",
                events);
  }
  size_t keep = partial_stop_length(seg, {first_stop, dsv4::kToolCallsStart});
  size_t end = utf8_complete_end(seg, 0, seg.size() - keep);
  emit_text(seg.substr(0, end), events);
  pos_ += end;  // emitted text is not needed again
  return false;
}

bool DsmlStreamParser::step_after_eos(bool at_end, std::vector<DsmlEvent>& events) {
  if (!segment().empty()) return fail("Unexpected content at end", events);
  if (!at_end) return false;
  succeed(events);
  return true;
}

// The top of parse_tool_calls' loop: ">\n", then an invoke or the end of
// the block. The text may also simply end here.
bool DsmlStreamParser::step_block_gap(bool at_end, std::vector<DsmlEvent>& events) {
  std::string_view seg = segment();
  if (seg.empty()) {
    if (!at_end) return false;
    succeed(events);
    return true;
  }
  Found f = find_first(seg, search_from_, {dsv4::kInvokeOpen, dsv4::kToolCallsClose});
  if (f.pos == npos && !at_end) {
    search_from_ = resume_search(seg.size(), {dsv4::kInvokeOpen, dsv4::kToolCallsClose});
    return false;
  }
  std::string_view gap = f.pos == npos ? seg : seg.substr(0, f.pos);
  if (gap != kTagGap)
    return fail("Tool call format error: expected '>\\n' but got '" + quote_for_error(gap) + "'", events);
  if (f.pos == npos) return fail("Missing special token in tool calls", events);
  advance(f.pos + f.length, f.which == 0 ? State::kInvokeHeader : State::kAfterBlock);
  return true;
}

void DsmlStreamParser::start_call(std::string name, std::vector<DsmlEvent>& events) {
  completion_.tool_calls.push_back(ParsedToolCall{std::move(name), {}, {}, {}, false});
  events.push_back(make_event(DsmlEvent::Kind::kToolCallStarted, completion_.tool_calls.back().name,
                               completion_.tool_calls.size() - 1));
}

void DsmlStreamParser::complete_call(bool closed, std::vector<DsmlEvent>& events) {
  size_t index = completion_.tool_calls.size() - 1;
  ParsedToolCall& call = completion_.tool_calls.back();
  std::string tail = call.parameters.empty() ? "{}" : "}";
  call.arguments += tail;
  events.push_back(make_event(DsmlEvent::Kind::kArgumentsDelta, std::move(tail), index));
  call.closed = closed;
  call.arguments_error = arguments_error(index, call);
  DsmlEvent complete = make_event(DsmlEvent::Kind::kToolCallComplete, {}, index);
  complete.call = call;
  events.push_back(std::move(complete));
}

bool DsmlStreamParser::step_invoke_header(bool at_end, std::vector<DsmlEvent>& events) {
  std::string_view seg = segment();
  Found f = find_first(seg, search_from_, {dsv4::kParameterOpen, dsv4::kInvokeClose});
  if (f.pos == npos && !at_end) {
    search_from_ = resume_search(seg.size(), {dsv4::kParameterOpen, dsv4::kInvokeClose});
    return false;
  }
  std::string_view header = f.pos == npos ? seg : seg.substr(0, f.pos);
  auto name = match_invoke_header(header);
  if (!name) return fail("Tool name format error: '" + quote_for_error(header) + "'", events);
  start_call(std::string(*name), events);
  if (f.pos == npos) {  // the text ended inside the invoke: keep the call
    complete_call(false, events);
    advance(seg.size(), State::kBlockGap);
  } else if (f.which == 0) {
    advance(f.pos + f.length, State::kParamBody);
  } else {
    complete_call(true, events);
    advance(f.pos + f.length, State::kBlockGap);
  }
  return true;
}

// Emits what is certain of the parameter whose text is segment()[0, limit):
// once its ` name="P" string="…">` header is complete, the arguments prefix,
// then its value up to what could still be the closing "<" (or "<\n") and
// "/｜DSML｜parameter".
void DsmlStreamParser::stream_parameter(size_t limit, std::vector<DsmlEvent>& events) {
  std::string_view seg = segment().substr(0, limit);
  ParsedToolCall& call = completion_.tool_calls.back();
  const size_t index = completion_.tool_calls.size() - 1;
  if (!header_known_) {
    if (seg.size() < kParamNamePrefix.size() || !seg.starts_with(kParamNamePrefix)) return;
    size_t from = std::max(header_search_from_, kParamNamePrefix.size());
    Found f = find_first(seg, from, {kStringTrue, kStringFalse});
    if (f.pos == npos) {
      header_search_from_ = resume_search(seg.size(), {kStringTrue, kStringFalse});
      return;
    }
    header_known_ = true;
    std::string_view name = seg.substr(kParamNamePrefix.size(), f.pos - kParamNamePrefix.size());
    value_is_string_ = f.which == 0;
    value_start_ = value_emitted_ = f.pos + f.length;
    header_duplicate_ = std::any_of(call.parameters.begin(), call.parameters.end(),
                                    [&](const DsmlParameter& p) { return p.name == name; });
    if (header_duplicate_) return;  // an error at the closing tag; nothing to stream
    std::string json = call.parameters.empty() ? "{" : ", ";
    append_python_json_quote(name, json);
    json += ": ";
    if (value_is_string_) json += '"';
    call.arguments += json;
    events.push_back(make_event(DsmlEvent::Kind::kArgumentsDelta, std::move(json), index));
  }
  if (header_duplicate_) return;
  size_t keep = partial_stop_length(seg, {dsv4::kParameterCloseStop}) + 2;  // + the "<\n" before it
  if (seg.size() < keep) return;
  size_t bound = utf8_complete_end(seg, value_emitted_, seg.size() - keep);
  if (bound <= value_emitted_) return;
  std::string json;
  std::string_view piece = seg.substr(value_emitted_, bound - value_emitted_);
  if (value_is_string_) append_python_json_escaped(piece, json);
  else json.assign(piece);
  value_emitted_ = bound;
  call.arguments += json;
  events.push_back(make_event(DsmlEvent::Kind::kArgumentsDelta, std::move(json), index));
}

bool DsmlStreamParser::step_param_body(bool at_end, std::vector<DsmlEvent>& events) {
  std::string_view seg = segment();
  Found f = find_first(seg, search_from_, {dsv4::kParameterCloseStop});
  if (f.pos == npos && !at_end) {
    stream_parameter(seg.size(), events);
    search_from_ = resume_search(seg.size(), {dsv4::kParameterCloseStop});
    return false;
  }
  // Stream exactly what a byte-by-byte feed would have streamed by now, so
  // the events do not depend on the chunking even when this parameter fails.
  stream_parameter(f.pos == npos ? seg.size() : f.pos + f.length - 1, events);
  std::string_view content = f.pos == npos ? seg : seg.substr(0, f.pos);
  auto m = match_parameter(content);
  if (!m) return fail("Parameter format error: '" + quote_for_error(content) + "'", events);
  ParsedToolCall& call = completion_.tool_calls.back();
  const size_t index = completion_.tool_calls.size() - 1;
  for (const DsmlParameter& p : call.parameters)
    if (p.name == m->name) return fail("Duplicate parameter name: '" + std::string(m->name) + "'", events);
  // The streamed header came from the same (first) occurrence the match used.
  assert(header_known_ && value_start_ == m->value_begin && value_emitted_ <= m->value_end);
  std::string json;
  std::string_view rest = content.substr(value_emitted_, m->value_end - value_emitted_);
  if (m->is_string) {
    append_python_json_escaped(rest, json);
    json += '"';
  } else {
    json.assign(rest);
  }
  call.arguments += json;
  if (!json.empty()) events.push_back(make_event(DsmlEvent::Kind::kArgumentsDelta, std::move(json), index));
  DsmlParameter parameter{std::string(m->name),
                          std::string(content.substr(m->value_begin, m->value_end - m->value_begin)), m->is_string};
  call.parameters.push_back(parameter);
  DsmlEvent done_event = make_event(DsmlEvent::Kind::kParameterComplete, {}, index);
  done_event.parameter = std::move(parameter);
  events.push_back(std::move(done_event));
  advance(f.pos == npos ? seg.size() : f.pos + f.length, State::kParamGap);
  return true;
}

bool DsmlStreamParser::step_param_gap(bool at_end, std::vector<DsmlEvent>& events) {
  std::string_view seg = segment();
  Found f = find_first(seg, search_from_, {dsv4::kParameterOpen, dsv4::kInvokeClose});
  if (f.pos == npos && !at_end) {
    search_from_ = resume_search(seg.size(), {dsv4::kParameterOpen, dsv4::kInvokeClose});
    return false;
  }
  std::string_view gap = f.pos == npos ? seg : seg.substr(0, f.pos);
  if (gap != kTagGap)
    return fail("Parameter format error: expected '>\\n' but got '" + quote_for_error(gap) + "'", events);
  if (f.pos == npos) {  // the text ended inside the invoke: keep the call
    complete_call(false, events);
    advance(seg.size(), State::kBlockGap);
  } else if (f.which == 0) {
    advance(f.pos + f.length, State::kParamBody);
  } else {
    complete_call(true, events);
    advance(f.pos + f.length, State::kBlockGap);
  }
  return true;
}

// After </｜DSML｜tool_calls>: only EOS (then nothing) or the end of the text.
bool DsmlStreamParser::step_after_block(bool at_end, std::vector<DsmlEvent>& events) {
  std::string_view seg = segment();
  if (seg.starts_with(dsv4::kEos)) {
    advance(dsv4::kEos.size(), State::kAfterEos);
    return true;
  }
  bool may_become_eos = dsv4::kEos.starts_with(seg);
  if (!may_become_eos || (at_end && !seg.empty())) return fail("Unexpected content after tool calls", events);
  if (!at_end) return false;
  succeed(events);
  return true;
}

Result<ParsedCompletion> parse_completion(std::string_view text, ThinkingMode mode) {
  DsmlStreamParser parser(mode);
  std::vector<DsmlEvent> events;
  parser.feed(text, events);
  parser.finish(events);
  return parser.result();
}

Status check_tool_calls(const ParsedCompletion& completion) {
  for (size_t k = 0; k < completion.tool_calls.size(); ++k) {
    const ParsedToolCall& call = completion.tool_calls[k];
    if (!call.closed)
      return make_error(describe_call(k, call) +
                        " was cut off before </｜DSML｜invoke>: the output ended early, so its parameters may be "
                        "incomplete. Make the call again in full.");
    if (!call.arguments_error.empty()) return make_error(call.arguments_error);
  }
  return {};
}

JsonValue completion_to_json(const ParsedCompletion& c) {
  JsonValue out = JsonValue::object();
  out.set("role", JsonValue::from_string("assistant"));
  out.set("content", JsonValue::from_string(c.content));
  out.set("reasoning_content", JsonValue::from_string(c.reasoning_content));
  JsonValue calls = JsonValue::array();
  for (const ParsedToolCall& call : c.tool_calls) {
    JsonValue function = JsonValue::object();
    function.set("name", JsonValue::from_string(call.name));
    function.set("arguments", JsonValue::from_string(call.arguments));
    JsonValue item = JsonValue::object();
    item.set("type", JsonValue::from_string("function"));
    item.set("function", std::move(function));
    calls.items.push_back(std::move(item));
  }
  out.set("tool_calls", std::move(calls));
  return out;
}

Message to_assistant_message(const ParsedCompletion& completion, std::string_view text, ThinkingMode mode) {
  Message m;
  m.role = Role::kAssistant;
  m.content = completion.content;
  m.reasoning_content = completion.reasoning_content;
  for (const ParsedToolCall& call : completion.tool_calls) m.tool_calls.push_back(ToolCall{"", call.name, call.arguments});
  std::string raw(mode == ThinkingMode::kThinking ? dsv4::kThinkStart : dsv4::kThinkEnd);
  raw.append(text);
  m.raw_completion = std::move(raw);
  return m;
}

}  // namespace beluga
