// Fuzzes the streaming DSML parser (engine/model/dsml_parser.h): any bytes,
// fed whole, in chunk sizes derived from the input and byte by byte, must
// never crash and must give the same merged events and the same result. For
// a parsed completion it also checks that the deltas add up to the result,
// that a call's arguments are JSON exactly when it reports no argument
// error, and that re-rendering the turn from its raw text reproduces it.
//
// Input: either a line of parse.jsonl ({"completion", "options":
// {"thinking_mode"}}: the seed corpus, see scripts/fuzz.sh) or raw bytes
// (byte 0: bit 0 picks thinking mode; byte 1 seeds the chunk sizes; the
// rest is the completion).
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/chat_template.h"
#include "engine/model/dsml_parser.h"
#include "engine/model/py_json.h"

namespace {

using beluga::DsmlEvent;
using Kind = beluga::DsmlEvent::Kind;

struct Outcome {
  std::vector<std::string> events;  // merged
  std::string result;
  beluga::Result<beluga::ParsedCompletion> completion = beluga::make_error("");
  std::vector<DsmlEvent> raw_events;
};

void merge_into(const std::vector<DsmlEvent>& events, Outcome& out) {
  for (const DsmlEvent& e : events) {
    bool delta = e.kind == Kind::kReasoningDelta || e.kind == Kind::kContentDelta || e.kind == Kind::kArgumentsDelta;
    std::string head = std::to_string(static_cast<int>(e.kind)) + "#" + std::to_string(e.call_index) + ":";
    if (delta && !out.events.empty() && out.events.back().rfind(head, 0) == 0) {
      out.events.back() += e.text;
      continue;
    }
    std::string line = head + e.text;
    if (e.kind == Kind::kParameterComplete)
      line += e.parameter.name + "=" + e.parameter.value + (e.parameter.is_string ? "s" : "j");
    if (e.kind == Kind::kToolCallComplete)
      line += e.call.name + " " + e.call.arguments + (e.call.closed ? " c " : " o ") + e.call.arguments_error;
    out.events.push_back(std::move(line));
  }
}

Outcome parse(std::string_view text, beluga::ThinkingMode mode, const std::vector<size_t>& cuts) {
  beluga::DsmlStreamParser parser(mode);
  Outcome out;
  std::vector<DsmlEvent> events;
  size_t at = 0;
  for (size_t cut : cuts) {
    parser.feed(text.substr(at, cut - at), events);
    at = cut;
  }
  parser.feed(text.substr(at), events);
  parser.finish(events);
  if (!parser.done()) std::abort();
  merge_into(events, out);
  out.raw_events = std::move(events);
  out.completion = parser.result();
  if (out.completion.ok()) {
    const auto& c = *out.completion;
    out.result = c.reasoning_content + "\x01" + c.content + "\x01" + (c.ended_with_eos ? "eos" : "-");
    for (const auto& call : c.tool_calls) out.result += "\x01" + call.name + "\x02" + call.arguments;
  } else {
    out.result = "error: " + out.completion.message();
  }
  return out;
}

void check_completion(std::string_view text, beluga::ThinkingMode mode, const Outcome& whole) {
  const beluga::ParsedCompletion& c = *whole.completion;
  std::string reasoning, content;
  std::vector<std::string> arguments(c.tool_calls.size());
  for (const DsmlEvent& e : whole.raw_events) {
    if (e.kind == Kind::kReasoningDelta) reasoning += e.text;
    if (e.kind == Kind::kContentDelta) content += e.text;
    if (e.kind == Kind::kArgumentsDelta) {
      if (e.call_index >= arguments.size()) std::abort();
      arguments[e.call_index] += e.text;
    }
  }
  if (reasoning != c.reasoning_content || content != c.content) std::abort();
  bool utf8 = beluga::is_valid_utf8(text);
  for (size_t k = 0; k < c.tool_calls.size(); ++k) {
    if (arguments[k] != c.tool_calls[k].arguments) std::abort();
    if (utf8) {
      auto json = beluga::parse_json(c.tool_calls[k].arguments, beluga::JsonParseOptions{.allow_non_finite = false});
      if (json.ok() != c.tool_calls[k].arguments_error.empty()) std::abort();
      if (json.ok() && !json->is_object()) std::abort();
    }
  }
  // The raw text re-renders exactly after the prompt that produced it.
  beluga::Conversation conversation;
  beluga::Message user;
  user.role = beluga::Role::kUser;
  user.content = "x";
  conversation.messages = {user, beluga::to_assistant_message(c, text, mode)};
  beluga::RenderOptions options;
  options.thinking_mode = mode;
  options.add_bos = false;
  auto prompt = beluga::render_prompt(conversation, options);
  if (!prompt.ok()) std::abort();
  std::string expected = std::string("<｜User｜>x<｜Assistant｜>") +
                         (mode == beluga::ThinkingMode::kThinking ? "<think>" : "</think>") + std::string(text);
  if (!c.ended_with_eos) expected += "<｜end▁of▁sentence｜>";
  if (*prompt != expected) std::abort();
  // And from the parsed fields alone it renders without failing.
  conversation.messages.back().raw_completion.reset();
  (void)beluga::render_prompt(conversation, options);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  beluga::ThinkingMode mode = beluga::ThinkingMode::kChat;
  std::string text;
  uint32_t seed = 0;
  bool from_line = false;
  if (!input.empty() && input.front() == '{') {
    auto line = beluga::parse_json(input);
    const beluga::JsonValue* completion = line.ok() ? line->find("completion") : nullptr;
    if (completion && completion->is_string()) {
      text = completion->text;
      const beluga::JsonValue* options = line->find("options");
      const beluga::JsonValue* m = options ? options->find("thinking_mode") : nullptr;
      if (m && m->is_string() && m->text == "thinking") mode = beluga::ThinkingMode::kThinking;
      seed = static_cast<uint32_t>(size * 2654435761u);
      from_line = true;
    }
  }
  if (!from_line) {
    if (size < 2) return 0;
    mode = (data[0] & 1) ? beluga::ThinkingMode::kThinking : beluga::ThinkingMode::kChat;
    seed = data[1];
    text.assign(input.substr(2));
  }

  Outcome whole = parse(text, mode, {});

  std::mt19937 rng(seed);
  size_t max_chunk = 1 + seed % 23;
  std::vector<size_t> cuts;
  for (size_t at = 0;;) {
    at += 1 + rng() % max_chunk;
    if (at >= text.size()) break;
    cuts.push_back(at);
  }
  Outcome chunked = parse(text, mode, cuts);
  if (chunked.result != whole.result || chunked.events != whole.events) std::abort();

  if (text.size() <= 4096) {
    std::vector<size_t> bytes;
    for (size_t k = 1; k < text.size(); ++k) bytes.push_back(k);
    Outcome byte_by_byte = parse(text, mode, bytes);
    if (byte_by_byte.result != whole.result || byte_by_byte.events != whole.events) std::abort();
  }

  if (whole.completion.ok()) check_completion(text, mode, whole);
  return 0;
}
