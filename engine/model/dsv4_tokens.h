// The special strings of DeepSeek V4's chat format, shared by the prompt
// renderer (chat_template.h) and the completion parser (dsml_parser.h).
//
// Every one is matched in raw text by the tokenizer (V4_ADDED_TOKENS.md in
// the shared golden data), so the renderer inserts them verbatim and the
// parser finds them as plain substrings. `｜` is U+FF5C FULLWIDTH VERTICAL
// LINE and `▁` U+2581, three UTF-8 bytes each.
//
// Thread contract: constants only.
#pragma once

#include <string_view>

namespace beluga::dsv4 {

inline constexpr std::string_view kBos = "<｜begin▁of▁sentence｜>";
inline constexpr std::string_view kEos = "<｜end▁of▁sentence｜>";
inline constexpr std::string_view kUser = "<｜User｜>";
inline constexpr std::string_view kAssistant = "<｜Assistant｜>";
inline constexpr std::string_view kLatestReminder = "<｜latest_reminder｜>";
inline constexpr std::string_view kThinkStart = "<think>";
inline constexpr std::string_view kThinkEnd = "</think>";
inline constexpr std::string_view kDsml = "｜DSML｜";

// The DSML tool-call markup, as encoding_dsv4.py writes and reads it.
inline constexpr std::string_view kToolCallsOpen = "<｜DSML｜tool_calls>";
inline constexpr std::string_view kToolCallsClose = "</｜DSML｜tool_calls>";
// What ends the content of a completion and starts its tool block: the
// opening tag without its '>' (the parser checks ">\n" separately).
inline constexpr std::string_view kToolCallsStart = "\n\n<｜DSML｜tool_calls";
inline constexpr std::string_view kInvokeOpen = "<｜DSML｜invoke";
inline constexpr std::string_view kInvokeClose = "</｜DSML｜invoke";
inline constexpr std::string_view kParameterOpen = "<｜DSML｜parameter";
// The parser stops a parameter at this (note: no '<'; the '<' before it
// belongs to the parameter text and is checked there).
inline constexpr std::string_view kParameterCloseStop = "/｜DSML｜parameter";

inline constexpr std::string_view kToolResultOpen = "<tool_result>";
inline constexpr std::string_view kToolResultClose = "</tool_result>";

}  // namespace beluga::dsv4

namespace beluga {

// How a turn is generated: "thinking" opens the assistant turn with <think>
// and the model reasons first; "chat" closes the thinking block at once.
enum class ThinkingMode { kChat, kThinking };

}  // namespace beluga
