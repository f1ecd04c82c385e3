// A session's transcript as stored: the chat_template.h messages, each with
// the turn it belongs to and, for the model's own turns, the ids it sampled.
//
// Stored form of a message (one JSON object per row of the session store):
//   {"role": "user"|"assistant"|"tool"|"system", "content": str|null,
//    "reasoning_content": str|null, "raw_completion": str (assistant turns
//    the model wrote: exactly what it generated, so a re-render is
//    byte-identical to the prompt its KV cache holds),
//    "tool_calls": [{"id", "name", "arguments"}], "tool_call_id", "name"}
// Absent members take their defaults; unknown members are ignored (a later
// beluga may add some), and a wrong type is an error naming the member.
//
// Thread contract: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/model/chat_template.h"

namespace beluga::agent {

struct TranscriptEntry {
  int64_t seq = 0;   // order within the session (store row id order)
  int64_t turn = 0;  // the user turn it belongs to (1, 2, ...); 0 for a compaction summary
  Message message;
  std::vector<int32_t> tokens;  // assistant turns of the embedded model: the sampled ids
};

std::string message_to_json_text(const Message& message);
Result<Message> message_from_json_text(const std::string& text);

}  // namespace beluga::agent
