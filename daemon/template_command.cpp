// `beluga template render|parse`: see template_command.h for the contract.
#include "daemon/template_command.h"

#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "engine/model/chat_template.h"
#include "engine/model/chat_template_json.h"
#include "engine/model/dsml_parser.h"
#include "engine/model/py_json.h"

namespace beluga {
namespace {

// A request line is a conversation; anything near this size is a mistake.
constexpr size_t kMaxLineBytes = size_t{256} << 20;

struct TemplateOptions {
  bool jsonl = false;
  std::string revision = "v4";
  std::string thinking_mode = "thinking";
};

EncodingRevision revision_of(const std::string& name) {
  return name == "v4-0731" ? EncodingRevision::kV4_0731 : EncodingRevision::kV4;
}

std::string error_line(size_t line, const std::string& message) {
  JsonValue error = JsonValue::object();
  error.set("line", JsonValue::from_int(static_cast<long long>(line)));
  error.set("message", JsonValue::from_string(message));
  JsonValue out = JsonValue::object();
  out.set("error", std::move(error));
  return to_python_json(out);
}

std::string read_stdin() {
  std::cin >> std::noskipws;
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

Result<std::string> render_request(std::string_view text, const TemplateOptions& options) {
  auto json = parse_json(text);
  if (!json) return json.error();
  // The --revision flag is the default; a line's options may name another.
  bool names_revision = json->find("options") && json->find("options")->find("encoding_revision");
  auto request = render_request_from_json(*json);
  if (!request) return request.error();
  if (!names_revision) request->options.revision = revision_of(options.revision);
  return render_prompt(request->conversation, request->options);
}

Result<ParsedCompletion> parse_request(std::string_view text) {
  auto json = parse_json(text);
  if (!json) return json.error();
  if (!json->is_object()) return make_error("expected an object {\"completion\": \"...\", \"options\": {...}}");
  const JsonValue* completion = json->find("completion");
  if (!completion || !completion->is_string()) return make_error("missing \"completion\" (a string)");
  const JsonValue* options = json->find("options");
  const JsonValue* mode = options ? options->find("thinking_mode") : nullptr;
  if (!mode || !mode->is_string() || (mode->text != "chat" && mode->text != "thinking"))
    return make_error("options.thinking_mode must be \"chat\" or \"thinking\"");
  return parse_completion(completion->text, mode->text == "thinking" ? ThinkingMode::kThinking : ThinkingMode::kChat);
}

// Runs `handle` on each non-blank line of stdin; prints its output line or an
// error line. Returns the exit code.
template <class Handle>
int for_each_line(const char* command, Handle handle) {
  std::string line;
  size_t number = 0;
  bool failed = false;
  while (std::getline(std::cin, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    Result<std::string> out = line.size() > kMaxLineBytes
                                  ? Result<std::string>(make_error("line longer than 256 MiB"))
                                  : handle(line);
    if (out) {
      std::cout << *out << '\n' << std::flush;
    } else {
      failed = true;
      std::cerr << "beluga: template " << command << ": line " << number << ": " << out.message() << '\n';
      std::cout << error_line(number, out.message()) << '\n' << std::flush;
    }
  }
  return failed ? 1 : 0;
}

int run_render(const TemplateOptions& options) {
  if (options.jsonl) {
    return for_each_line("render", [&](const std::string& line) -> Result<std::string> {
      auto prompt = render_request(line, options);
      if (!prompt) return prompt.error();
      return "{\"prompt\": " + python_json_quote(*prompt) + "}";
    });
  }
  auto prompt = render_request(read_stdin(), options);
  if (!prompt) {
    std::cerr << "beluga: template render: " << prompt.message() << '\n';
    return 1;
  }
  std::cout << *prompt << std::flush;
  return 0;
}

int run_parse(const TemplateOptions& options) {
  if (options.jsonl) {
    return for_each_line("parse", [&](const std::string& line) -> Result<std::string> {
      auto parsed = parse_request(line);
      if (!parsed) return parsed.error();
      JsonValue out = JsonValue::object();
      out.set("result", completion_to_json(*parsed));
      return to_python_json(out);
    });
  }
  std::string text = read_stdin();
  size_t bad = 0;
  if (!is_valid_utf8(text, &bad)) {
    std::cerr << "beluga: template parse: stdin is not valid UTF-8 (byte " << bad << ")\n";
    return 1;
  }
  ThinkingMode mode = options.thinking_mode == "chat" ? ThinkingMode::kChat : ThinkingMode::kThinking;
  auto parsed = parse_completion(text, mode);
  if (!parsed) {
    std::cerr << "beluga: template parse: " << parsed.message() << '\n';
    return 1;
  }
  std::cout << to_python_json(completion_to_json(*parsed)) << '\n' << std::flush;
  return 0;
}

}  // namespace

void add_template_commands(CLI::App& app) {
  // Owned by the callbacks, which live as long as `app`.
  auto options = std::make_shared<TemplateOptions>();

  CLI::App* group = app.add_subcommand("template", "Render DeepSeek V4 prompts and parse completions (no model)");
  group->require_subcommand(1);

  CLI::App* render = group->add_subcommand(
      "render", "Render {\"messages\": [...], \"options\": {...}} from stdin to the exact V4 prompt");
  render->add_flag("--jsonl", options->jsonl,
                   "One request per line in, one {\"prompt\": \"...\"} (or {\"error\": ...}) per line out");
  render->add_option("--revision", options->revision,
                     "Encoder revision when a request does not name one: v4 (April release, default) or "
                     "v4-0731 (its reasoning-effort ladder)")
      ->check(CLI::IsMember({"v4", "v4-0731"}));
  render->callback([options] { throw CLI::RuntimeError(run_render(*options)); });

  CLI::App* parse = group->add_subcommand(
      "parse", "Parse a completion (the model's text after the prompt) from stdin into JSON");
  parse->add_option("--thinking-mode", options->thinking_mode,
                    "How the prompt ended: thinking (<think>, default) or chat (</think>)")
      ->check(CLI::IsMember({"thinking", "chat"}));
  parse->add_flag("--jsonl", options->jsonl,
                  "Lines {\"completion\", \"options\": {\"thinking_mode\"}} in, {\"result\": {...}} (or "
                  "{\"error\": ...}) per line out");
  parse->callback([options] { throw CLI::RuntimeError(run_parse(*options)); });
}

}  // namespace beluga
