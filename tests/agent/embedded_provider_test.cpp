// The embedded provider on a synthetic checkpoint with the real V4
// tokenizer: it streams text, honours its limits, and reuses its KV cache
// when the next prompt extends the last prompt plus the model's output.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "agent/model_provider.h"
#include "engine/model/dsv4_tokens.h"
#include "engine/model/synth.h"
#include "engine/model/tokenizer_assembly.h"
#include "tests/test_support.h"

namespace beluga::agent {

TEST_CASE("the embedded provider prefills only what extends its last prompt and output", "[agent]") {
  testing::ScratchDir dir;
  const std::string folder = dir.file("ckpt");
  auto config = nlohmann::json::parse(testing::read_text(testing::source_path("scripts/configs/v4-micro.config.json")));
  config["vocab_size"] = 129280;
  config["max_position_embeddings"] = 4096;
  SynthOptions options;
  options.seed = 5;
  REQUIRE(synthesize_checkpoint(config.dump(), "v4-micro (V4 vocabulary)", options, folder).ok());
  REQUIRE(assemble_tokenizer_file(testing::golden_path("tokenizer/tokenizer.json"),
                                  testing::golden_path("tokenizer/v4_added_tokens.json"), folder + "/tokenizer.json")
              .ok());
  auto provider = open_model_provider(folder);
  REQUIRE(provider.ok());
  CHECK((*provider)->context_tokens() == 4096);
  CHECK((*provider)->describe() == "embedded:" + folder);

  const std::string first = std::string(dsv4::kBos) + "<｜User｜>hello there<｜Assistant｜></think>";
  std::string streamed;
  CompletionRequest request;
  request.prompt = first;
  request.max_tokens = 5;
  request.on_text = [&](std::string_view t) {
    streamed += t;
    return true;
  };
  auto one = (*provider)->complete(request);
  REQUIRE(one.ok());
  CHECK(one->prefilled_tokens == one->prompt_tokens);  // a cold cache
  CHECK(one->tokens.size() <= 5);
  CHECK(streamed == one->text);
  if (one->stop == CompletionStop::kMaxTokens) CHECK(one->tokens.size() == 5);

  // The loop's next prompt: the model's output, the end of its turn (the
  // renderer closes every assistant turn with EOS), more.
  const std::string second = first + one->text + std::string(dsv4::kEos) + "<｜User｜>and now?<｜Assistant｜></think>";
  request.prompt = second;
  request.on_text = nullptr;
  auto two = (*provider)->complete(request);
  REQUIRE(two.ok());
  const int64_t held = one->prompt_tokens + static_cast<int64_t>(one->tokens.size());
  CHECK(two->prompt_tokens > held);
  CHECK(two->prefilled_tokens == two->prompt_tokens - held);  // only the suffix
  CHECK(two->prefilled_tokens < 20);

  // A fresh provider on the whole second prompt gives the same output
  // (the reused cache is exactly the cold one), after a full prefill.
  auto cold = open_model_provider(folder);
  REQUIRE(cold.ok());
  auto again = (*cold)->complete(request);
  REQUIRE(again.ok());
  CHECK(again->prefilled_tokens == again->prompt_tokens);
  CHECK(again->tokens == two->tokens);

  // A new process (a resumed session) given the model's own ids for its
  // turn builds exactly the transcript the first provider held.
  auto fresh = open_model_provider(folder);
  REQUIRE(fresh.ok());
  request.known = {KnownTokens{one->text, one->tokens}};
  auto resumed = (*fresh)->complete(request);
  REQUIRE(resumed.ok());
  CHECK(resumed->prompt_tokens == two->prompt_tokens);
  CHECK(resumed->tokens == two->tokens);
  request.known = {KnownTokens{one->text + "x", one->tokens}};  // ids that do not spell the text are ignored
  auto ignored = (*fresh)->complete(request);
  REQUIRE(ignored.ok());
  request.known.clear();

  // Something else entirely starts over; a cancel stops at once.
  request.prompt = std::string(dsv4::kBos) + "<｜User｜>unrelated<｜Assistant｜></think>";
  request.keep_going = [] { return false; };
  auto cancelled = (*provider)->complete(request);
  REQUIRE(cancelled.ok());
  CHECK(cancelled->stop == CompletionStop::kCancelled);
  CHECK(cancelled->text.empty());
}

}  // namespace beluga::agent
