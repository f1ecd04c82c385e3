#include "daemon/tokenize_command.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model/tokenizer.h"
#include "engine/model/tokenizer_assembly.h"

namespace beluga {
namespace {

using nlohmann::json;

int fail(const std::string& message) {
  std::cerr << "beluga: tokenize: " << message << "\n";
  return 1;
}

int fail_line(size_t line, const std::string& message) {
  return fail("stdin line " + std::to_string(line) + ": " + message);
}

int assemble(const TokenizeCommand& cmd) {
  if (cmd.added_path.empty() || cmd.out_path.empty()) return fail("--assemble-v4 needs --tokenizer, --added and --out");
  auto added = assemble_tokenizer_file(cmd.tokenizer_path, cmd.added_path, cmd.out_path);
  if (!added) return fail(added.message());
  auto check = Tokenizer::load(cmd.out_path);
  if (!check) return fail(check.message());
  std::printf("wrote %s: %zu added tokens appended to %s; %zu added tokens in all, vocabulary size %d\n",
              cmd.out_path.c_str(), *added, cmd.tokenizer_path.c_str(), check->added_tokens().size(),
              check->vocab_size());
  return 0;
}

}  // namespace

CLI::App* add_tokenize_command(CLI::App& app, TokenizeCommand& cmd) {
  CLI::App* sub = app.add_subcommand("tokenize", "Encode or decode JSON lines with a tokenizer.json, or assemble the V4 one");
  sub->add_option("--tokenizer", cmd.tokenizer_path, "tokenizer.json (Hugging Face format)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--added", cmd.added_path, "Extra added tokens: a JSON list of {\"id\", \"content\"} (v4_added_tokens.json)")
      ->check(CLI::ExistingFile);
  auto* jsonl = sub->add_flag("--jsonl", cmd.jsonl, "Read one JSON object per stdin line, write one per stdout line");
  auto* decode = sub->add_flag("--decode", cmd.decode, "Lines are {\"ids\": [...]} -> {\"text\": \"...\"}");
  auto* no_specials = sub->add_flag("--no-specials", cmd.no_specials,
                                    "Encode: match no added tokens (untrusted text); decode: drop special tokens");
  auto* assemble_v4 = sub->add_flag("--assemble-v4", cmd.assemble_v4,
                                    "Write --tokenizer plus the --added list as one tokenizer.json to --out");
  sub->add_option("--out", cmd.out_path, "Output file of --assemble-v4");
  assemble_v4->excludes(jsonl)->excludes(decode)->excludes(no_specials);
  return sub;
}

int run_tokenize(const TokenizeCommand& cmd) {
  if (cmd.assemble_v4) return assemble(cmd);
  if (!cmd.jsonl) return fail("say --jsonl (JSON lines on stdin) or --assemble-v4");

  std::vector<AddedToken> extra;
  if (!cmd.added_path.empty()) {
    auto list = load_added_token_list(cmd.added_path);
    if (!list) return fail(list.message());
    extra = std::move(*list);
  }
  auto tokenizer = Tokenizer::load(cmd.tokenizer_path, extra);
  if (!tokenizer) return fail(tokenizer.message());

  std::ios::sync_with_stdio(false);
  std::string line;
  std::vector<int32_t> ids;
  size_t number = 0;
  while (std::getline(std::cin, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    json in = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (in.is_discarded()) return fail_line(number, "not valid JSON");
    if (!in.is_object()) return fail_line(number, "expected a JSON object");
    if (!cmd.decode) {
      if (!in.contains("text") || !in["text"].is_string())
        return fail_line(number, "expected {\"text\": \"...\"} (key 'text' missing or not a string)");
      ids.clear();
      tokenizer->encode_into(in["text"].get_ref<const std::string&>(), !cmd.no_specials, ids);
      std::cout << json{{"ids", ids}}.dump() << "\n";
    } else {
      if (!in.contains("ids") || !in["ids"].is_array())
        return fail_line(number, "expected {\"ids\": [...]} (key 'ids' missing or not an array)");
      ids.clear();
      for (const json& id : in["ids"]) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
          return fail_line(number, "ids must be non-negative integers, found " + id.dump());
        ids.push_back(static_cast<int32_t>(id.get<int64_t>()));
      }
      const std::string text = tokenizer->decode(ids, cmd.no_specials);
      std::cout << json{{"text", text}}.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    }
  }
  std::cout.flush();
  if (!std::cout) return fail("cannot write to stdout");
  return 0;
}

}  // namespace beluga
