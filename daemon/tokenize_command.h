// `beluga tokenize`: the tokenizer on the command line (offline; no daemon).
//
//   beluga tokenize --tokenizer FILE [--added FILE] [--no-specials] --jsonl
//       stdin: one {"text": "..."} per line; stdout: one {"ids": [...]} per line.
//   beluga tokenize --tokenizer FILE [--added FILE] [--no-specials] --jsonl --decode
//       stdin: one {"ids": [...]} per line; stdout: one {"text": "..."} per line.
//   beluga tokenize --assemble-v4 --tokenizer FILE --added FILE --out FILE
//       writes FILE + the added-token list as one tokenizer.json (atomically).
//
// --added FILE: a v4_added_tokens.json-style list added on top of the
// tokenizer file. --no-specials: when encoding, match no added tokens (for
// untrusted text); when decoding, drop tokens flagged special. Decoded bytes
// that are not valid UTF-8 (ids ending inside a character) come out as
// U+FFFD, as in the reference. These shapes are a contract checked by
// external tools (tests/cli/tokenize_cli_test.cpp).
//
// A bad input line stops the run: stderr names the line number, exit 1; the
// lines before it have been answered.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace beluga {

struct TokenizeCommand {
  std::string tokenizer_path;
  std::string added_path;
  std::string out_path;
  bool no_specials = false;
  bool jsonl = false;
  bool decode = false;
  bool assemble_v4 = false;
};

// Adds the `tokenize` subcommand and its options to `app`.
CLI::App* add_tokenize_command(CLI::App& app, TokenizeCommand& cmd);

// Returns the process exit code: 0 success, 1 failure.
int run_tokenize(const TokenizeCommand& cmd);

}  // namespace beluga
