#include "daemon/http/openai_responses.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "daemon/http/format_support.h"
#include "daemon/http/openai_responses_input.h"

namespace beluga::daemon::http {
namespace {

using nlohmann::json;

// Item ids: the kind's prefix, the response id's suffix, the output index.
std::string item_id(std::string_view kind_prefix, const std::string& response_id, size_t output_index) {
  std::string_view suffix = response_id;
  if (suffix.rfind("resp_", 0) == 0) suffix.remove_prefix(5);
  return std::string(kind_prefix) + std::string(suffix) + "_" + std::to_string(output_index);
}

json reasoning_item(const std::string& id, const std::string& text, bool done) {
  json item{{"id", id}, {"type", "reasoning"}, {"summary", json::array()}};
  if (done) {
    item["content"] = json::array({json{{"type", "reasoning_text"}, {"text", text}}});
    item["encrypted_content"] = "beluga-reasoning:" + text;
    item["status"] = "completed";
  } else {
    item["content"] = json::array();
    item["status"] = "in_progress";
  }
  return item;
}

json text_part(const std::string& text) {
  return json{{"type", "output_text"}, {"text", text}, {"annotations", json::array()}, {"logprobs", json::array()}};
}

json message_item(const std::string& id, const std::string& text, bool done) {
  return json{{"id", id},
              {"type", "message"},
              {"role", "assistant"},
              {"status", done ? "completed" : "in_progress"},
              {"content", done ? json::array({text_part(text)}) : json::array()}};
}

json call_item(const std::string& id, const std::string& call_id, const std::string& name, const std::string& arguments,
               bool done) {
  return json{{"id", id},          {"type", "function_call"},  {"call_id", call_id},
              {"name", name},      {"arguments", arguments},   {"status", done ? "completed" : "in_progress"}};
}

json usage_json(const ChatUsage& usage) {
  const int64_t cached = std::clamp<int64_t>(usage.cached_prompt_tokens, 0, usage.prompt_tokens);
  return json{{"input_tokens", usage.prompt_tokens},
              {"input_tokens_details", {{"cached_tokens", cached}}},
              {"output_tokens", usage.completion_tokens},
              {"output_tokens_details", {{"reasoning_tokens", usage.reasoning_tokens}}},
              {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
}

// The response object around `output`; usage only when `final`.
json response_object(const ChatOutcome& outcome, json output, std::string_view status, bool final) {
  json incomplete = nullptr;
  if (status == "incomplete") incomplete = json{{"reason", "max_output_tokens"}};
  return json{{"id", outcome.id},
              {"object", "response"},
              {"created_at", outcome.created},
              {"status", status},
              {"background", false},
              {"error", nullptr},
              {"incomplete_details", incomplete},
              {"instructions", nullptr},
              {"max_output_tokens", nullptr},
              {"metadata", json::object()},
              {"model", outcome.model},
              {"output", std::move(output)},
              {"parallel_tool_calls", true},
              {"previous_response_id", nullptr},
              {"reasoning", {{"effort", nullptr}, {"summary", nullptr}}},
              {"store", false},
              {"temperature", nullptr},
              {"text", {{"format", {{"type", "text"}}}}},
              {"tool_choice", "auto"},
              {"tools", json::array()},
              {"top_p", nullptr},
              {"truncation", "disabled"},
              {"usage", final ? usage_json(outcome.usage) : json(nullptr)}};
}

std::string_view final_status(const ChatOutcome& outcome) {
  return outcome.finish == FinishReason::kLength ? "incomplete" : "completed";
}

// OpenAI's error "code" for an HTTP status (its "type" is the ApiError's).
json error_json(const ApiError& error) {
  std::string type = error.type.empty() ? (error.status < 500 ? "invalid_request_error" : "server_error") : error.type;
  return json{{"error", {{"message", error.message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}};
}

// Output items opened and closed as the events change kind; the closed
// items, in order, are the output of the final response.completed.
class ResponsesStream final : public StreamEncoder {
 public:
  std::string begin(const ChatOutcome& head) override {
    head_ = head;
    json response = response_object(head, json::array(), "in_progress", false);
    std::string out = emit("response.created", json{{"response", response}});
    out += emit("response.in_progress", json{{"response", response}});  // numbered after created
    return out;
  }

  std::string event(const ChatEvent& event) override {
    std::string out;
    switch (event.kind) {
      case ChatEvent::Kind::kReasoningDelta:
        if (event.text.empty()) break;
        if (open_ != Item::kReasoning) {
          out += close();
          out += open(Item::kReasoning, reasoning_item(next_id("rs_"), "", false));
          out += emit("response.content_part.added",
                      json{{"item_id", id_}, {"output_index", index()}, {"content_index", 0},
                           {"part", {{"type", "reasoning_text"}, {"text", ""}}}});
        }
        text_ += event.text;
        out += emit("response.reasoning_text.delta",
                    json{{"item_id", id_}, {"output_index", index()}, {"content_index", 0}, {"delta", event.text}});
        break;
      case ChatEvent::Kind::kContentDelta:
        if (event.text.empty()) break;
        if (open_ != Item::kMessage) {
          out += close();
          out += open(Item::kMessage, message_item(next_id("msg_"), "", false));
          out += emit("response.content_part.added",
                      json{{"item_id", id_}, {"output_index", index()}, {"content_index", 0}, {"part", text_part("")}});
        }
        text_ += event.text;
        out += emit("response.output_text.delta", json{{"item_id", id_},
                                                       {"output_index", index()},
                                                       {"content_index", 0},
                                                       {"delta", event.text},
                                                       {"logprobs", json::array()}});
        break;
      case ChatEvent::Kind::kToolCallStarted:
        out += close();
        call_index_ = event.call_index;
        call_id_ = event.call_id;
        name_ = event.name;
        out += open(Item::kCall, call_item(next_id("fc_"), call_id_, name_, "", false));
        break;
      case ChatEvent::Kind::kArgumentsDelta:
        if (open_ != Item::kCall || event.call_index != call_index_ || event.text.empty()) break;
        text_ += event.text;
        out += emit("response.function_call_arguments.delta",
                    json{{"item_id", id_}, {"output_index", index()}, {"delta", event.text}});
        break;
      case ChatEvent::Kind::kToolCallDone:
        if (open_ != Item::kCall || event.call_index != call_index_) break;
        if (event.text.size() > text_.size() && event.text.compare(0, text_.size(), text_) == 0) {
          out += emit("response.function_call_arguments.delta",
                      json{{"item_id", id_}, {"output_index", index()}, {"delta", event.text.substr(text_.size())}});
        }
        text_ = event.text;
        out += close();
        break;
    }
    return out;
  }

  std::string end(const ChatOutcome& outcome) override {
    if (outcome.finish == FinishReason::kCancelled) return "";
    std::string out = close();
    const std::string_view status = final_status(outcome);
    json response = response_object(outcome, output_, status, true);
    out += emit(status == "completed" ? "response.completed" : "response.incomplete", json{{"response", response}});
    return out;
  }

  std::string error(const ApiError& error) override {
    std::string out = close();
    json body = error_json(error)["error"];
    out += emit("error", json{{"code", body["code"]}, {"message", error.message}, {"param", nullptr}});
    json response = response_object(head_, output_, "failed", false);
    response["error"] = json{{"code", body["type"]}, {"message", error.message}};
    out += emit("response.failed", json{{"response", response}});
    return out;
  }

 private:
  enum class Item { kNone, kReasoning, kMessage, kCall };

  size_t index() const { return output_.size(); }  // the open item's output index
  std::string next_id(std::string_view prefix) { return item_id(prefix, head_.id, output_.size()); }

  std::string emit(std::string_view type, json data) {
    data["type"] = type;
    data["sequence_number"] = sequence_++;
    return sse_event(type, data);
  }

  std::string open(Item kind, json item) {
    open_ = kind;
    id_ = item["id"].get<std::string>();
    text_.clear();
    return emit("response.output_item.added", json{{"output_index", index()}, {"item", std::move(item)}});
  }

  std::string close() {
    std::string out;
    json item;
    switch (open_) {
      case Item::kNone: return out;
      case Item::kReasoning: {
        json part{{"type", "reasoning_text"}, {"text", text_}};
        out += emit("response.reasoning_text.done",
                    json{{"item_id", id_}, {"output_index", index()}, {"content_index", 0}, {"text", text_}});
        out += emit("response.content_part.done",
                    json{{"item_id", id_}, {"output_index", index()}, {"content_index", 0}, {"part", part}});
        item = reasoning_item(id_, text_, true);
        break;
      }
      case Item::kMessage:
        out += emit("response.output_text.done", json{{"item_id", id_},
                                                      {"output_index", index()},
                                                      {"content_index", 0},
                                                      {"text", text_},
                                                      {"logprobs", json::array()}});
        out += emit("response.content_part.done",
                    json{{"item_id", id_}, {"output_index", index()}, {"content_index", 0}, {"part", text_part(text_)}});
        item = message_item(id_, text_, true);
        break;
      case Item::kCall:
        out += emit("response.function_call_arguments.done",
                    json{{"item_id", id_}, {"output_index", index()}, {"name", name_}, {"arguments", text_}});
        item = call_item(id_, call_id_, name_, text_, true);
        break;
    }
    out += emit("response.output_item.done", json{{"output_index", index()}, {"item", item}});
    output_.push_back(std::move(item));
    open_ = Item::kNone;
    text_.clear();
    return out;
  }

  ChatOutcome head_;
  json output_ = json::array();  // closed items
  int64_t sequence_ = 0;
  Item open_ = Item::kNone;
  std::string id_;    // of the open item
  std::string text_;  // of the open item: reasoning, message text or arguments
  size_t call_index_ = 0;
  std::string call_id_;
  std::string name_;
};

class OpenAiResponses final : public ApiFormat {
 public:
  std::string_view path() const override { return "/v1/responses"; }
  std::string_view id_prefix() const override { return "resp_"; }
  std::string_view call_id_prefix() const override { return "call_"; }

  Result<ChatRequest> parse(const json& body) const override { return parse_responses_request(body); }

  json response(const ChatOutcome& outcome) const override {
    json output = json::array();
    if (!outcome.reasoning.empty()) {
      output.push_back(reasoning_item(item_id("rs_", outcome.id, output.size()), outcome.reasoning, true));
    }
    if (!outcome.content.empty()) {
      output.push_back(message_item(item_id("msg_", outcome.id, output.size()), outcome.content, true));
    }
    for (const OutcomeToolCall& call : outcome.tool_calls) {
      output.push_back(call_item(item_id("fc_", outcome.id, output.size()), call.id, call.name, call.arguments, true));
    }
    return response_object(outcome, std::move(output), final_status(outcome), true);
  }

  std::unique_ptr<StreamEncoder> stream() const override { return std::make_unique<ResponsesStream>(); }

  json error_body(const ApiError& error) const override { return error_json(error); }
};

}  // namespace

std::unique_ptr<ApiFormat> openai_responses_format() { return std::make_unique<OpenAiResponses>(); }

}  // namespace beluga::daemon::http
