#!/usr/bin/env bash
# Builds the libFuzzer targets with ASan/UBSan (clang) and runs each for a
# while. Usage: scripts/fuzz.sh [seconds per target, default 300]
# Seed corpora come from the golden checkpoints and configs when present and
# from a synthetic checkpoint written by beluga itself.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
build=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DBELUGA_FUZZ=ON -DBELUGA_SANITIZE=ON \
  -DBELUGA_TESTS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" beluga safetensors_header_fuzz model_config_fuzz dsml_parser_fuzz tokenizer_fuzz \
  apply_patch_fuzz edit_fuzz tags_fuzz context_format_fuzz lsp_frame_fuzz
golden="${BELUGA_GOLDEN_DIR:-../shared/golden}"
corpus=fuzz-corpus
mkdir -p "$corpus/safetensors" "$corpus/config" "$corpus/dsml" "$corpus/tokenizer"
"$build/daemon/beluga" model synth --config scripts/configs/v4-micro.config.json --out "$corpus/synth" --shards 2 >/dev/null
for f in "$corpus"/synth/*.safetensors; do
  cp "$f" "$corpus/safetensors/$(basename "$f")"   # small, valid files
done
for f in "$golden"/tiny-*/model.safetensors; do
  [ -f "$f" ] || continue
  # Larger files: seed with the header and a little data.
  head -c 65536 "$f" > "$corpus/safetensors/$(echo "$f" | tr '/' '_')"
done
for f in scripts/configs/*.json "$golden"/configs/*.json "$golden"/tiny-*/config.json; do
  [ -f "$f" ] && cp "$f" "$corpus/config/$(echo "$f" | tr '/' '_')"
done
# DSML parser seeds: each parse.jsonl line as is (the fuzzer reads that
# format), and with jq also the bare completion (byte 0: mode, byte 1: seed).
if [ -f "$golden/chat-encoding/parse.jsonl" ]; then
  split -l 1 -a 3 "$golden/chat-encoding/parse.jsonl" "$corpus/dsml/line-"
  if command -v jq >/dev/null; then
    n=0
    while IFS= read -r line; do
      mode=0; [ "$(jq -r .options.thinking_mode <<<"$line")" = thinking ] && mode=1
      { printf "\\x0$mode\\x0$((n % 8))"; jq -j .completion <<<"$line"; } > "$corpus/dsml/raw-$n"
      n=$((n + 1))
    done < "$golden/chat-encoding/parse.jsonl"
  fi
fi
# Tokenizer seeds: every 8th golden text, as raw bytes.
if [ -f "$golden/tokenizer/cases.jsonl" ]; then
  python3 -c 'import json, sys
for n, line in enumerate(open(sys.argv[1], encoding="utf-8")):
    if n % 8 == 0:
        open(f"{sys.argv[2]}/case-{n + 1}", "wb").write(json.loads(line)["text"].encode())' \
    "$golden/tokenizer/cases.jsonl" "$corpus/tokenizer"
fi
# Tool seeds: a git diff over several files with the files it applies to
# (parts separated by \x01), and edits of LF, CRLF and non-UTF-8 text.
mkdir -p "$corpus/patch" "$corpus/edit"
printf -- '--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1 @@\n+new\ndiff --git a/r.txt b/s.txt\nrename from r.txt\nrename to s.txt\n\x01a.txt\x01one\ntwo\nthree\n\x01r.txt\x01moved\n' > "$corpus/patch/multi"
printf -- '--- a/w.txt\n+++ b/w.txt\n@@\n a\n-b\n\\ No newline at end of file\n+B\n\x01w.txt\x01a\r\nb' > "$corpus/patch/crlf"
printf 'int a;\nint b;\nint a;\n\x01int a;\x01int c;\x01\x01' > "$corpus/edit/lf"
printf 'x\r\ny\r\nz\r\n\x01y\nz\x01Y\nZ\n\x01\x00' > "$corpus/edit/crlf"
printf 'caf\xe9\nna\xefve\n\x01na\x01NA\x01\x00' > "$corpus/edit/latin1"
# Tags seeds: byte 0 picks the language (0 C, 1 C++, 2 Python, 3 JS, 4 TS,
# 5 TSX, 6 Go, 7 Rust, 8 Java), then a few of the project's own sources.
mkdir -p "$corpus/tags"
{ printf '\x01'; head -c 8192 indexer/tags.cpp; } > "$corpus/tags/cpp"
{ printf '\x00'; head -c 4096 indexer/content.cpp; } > "$corpus/tags/c"
printf '\x02class A:\n    def f(self):\n        return g(1)\n' > "$corpus/tags/py"
printf '\x04interface I { m(): void }\nclass C { constructor() {} a() { require("x"); } }\n' > "$corpus/tags/ts"
printf '\x07struct S; impl T for S { fn f(&self) { g(); } }\n' > "$corpus/tags/rs"
# Context format seeds: byte 0 picks the property (0 read, 1 FILE round
# trip, 2 diff round trip), two texts separated by NUL.
mkdir -p "$corpus/context"
printf '\x00=== FILE a.c (2 lines) ===\nint a;\n=== DIFF a.c (4 lines) ===\n--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n' > "$corpus/context/read"
printf '\x01src/a -> b (1).c\x00line one\r\nline two' > "$corpus/context/file"
printf '\x02one\ntwo\nthree\nfour\n\x00one\n2\nthree\nfour\nfive' > "$corpus/context/diff"
# LSP frame seeds: byte 0 the split stride, then a stream of frames (good,
# bad Content-Length, missing header, oversized).
mkdir -p "$corpus/lsp"
printf '\x03Content-Length: 2\r\n\r\n{}Content-Type: x\r\nContent-Length: 7\r\n\r\n{"a":1}' > "$corpus/lsp/good"
printf '\x01Content-Length: abc\r\n\r\n{}content-length:2\n\n[]Content-Length: 99999\r\n\r\nxx' > "$corpus/lsp/bad"
export ASAN_OPTIONS=detect_leaks=1
"$build/tests/fuzz/safetensors_header_fuzz" -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=4096 \
  -print_final_stats=1 "$corpus/safetensors"
"$build/tests/fuzz/model_config_fuzz" -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=4096 \
  -print_final_stats=1 "$corpus/config"
"$build/tests/fuzz/dsml_parser_fuzz" -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=4096 \
  -print_final_stats=1 "$corpus/dsml"
BELUGA_GOLDEN_DIR="$golden" "$build/tests/fuzz/tokenizer_fuzz" -max_total_time="$seconds" -max_len=4096 \
  -rss_limit_mb=4096 -print_final_stats=1 "$corpus/tokenizer"
"$build/tests/fuzz/apply_patch_fuzz" -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=4096 \
  -print_final_stats=1 "$corpus/patch"
"$build/tests/fuzz/edit_fuzz" -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=4096 \
  -print_final_stats=1 "$corpus/edit"
"$build/tests/fuzz/tags_fuzz" -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=4096 \
  -print_final_stats=1 "$corpus/tags"
"$build/tests/fuzz/context_format_fuzz" -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=4096 \
  -print_final_stats=1 "$corpus/context"
"$build/tests/fuzz/lsp_frame_fuzz" -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=4096 \
  -print_final_stats=1 "$corpus/lsp"
