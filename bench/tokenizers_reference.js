// The reference side of bench/tokenizer_bench: Hugging Face `tokenizers`
// (the npm binding of the Rust library) encoding the same documents with the
// same tokenizer.json, on one thread.
//
//   node bench/tokenizers_reference.js CORPUS.jsonl TOKENIZER.json IDS.bin PASSES
//
// CORPUS.jsonl: one {"text": "..."} per document. Each pass encodes every
// document in order (no special tokens added, as beluga's encode); the best
// pass is reported as one JSON line on stdout. IDS.bin receives the ids of
// the last pass: per document a uint32 count, then the ids (little-endian).
// The module is found in $BELUGA_BENCH_NODE_DIR/node_modules (default
// build/bench-node, where `npm install --prefix build/bench-node tokenizers`
// puts it).
'use strict';
const fs = require('fs');
const path = require('path');

const [corpusPath, tokenizerPath, idsPath, passesArg] = process.argv.slice(2);
if (!corpusPath || !tokenizerPath || !idsPath) {
  console.error('usage: node tokenizers_reference.js CORPUS.jsonl TOKENIZER.json IDS.bin [PASSES]');
  process.exit(2);
}
const nodeDir = process.env.BELUGA_BENCH_NODE_DIR || path.join(__dirname, '..', 'build', 'bench-node');
const { Tokenizer } = require(path.join(path.resolve(nodeDir), 'node_modules', 'tokenizers'));
const version = require(path.join(path.resolve(nodeDir), 'node_modules', 'tokenizers', 'package.json')).version;

const texts = fs.readFileSync(corpusPath, 'utf8').split('\n').filter((l) => l.length).map((l) => JSON.parse(l).text);
const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
const tokenizer = Tokenizer.fromFile(tokenizerPath);
const passes = Math.max(1, parseInt(passesArg || '3', 10));

(async () => {
  let best = Infinity;
  let tokens = 0;
  let last = [];
  for (let pass = 0; pass < passes; ++pass) {
    const ids = [];
    let count = 0;
    const start = process.hrtime.bigint();
    for (const text of texts) {
      const encoding = await tokenizer.encode(text, null, { addSpecialTokens: false });
      const e = encoding.getIds();
      count += e.length;
      ids.push(e);
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    best = Math.min(best, seconds);
    tokens = count;
    last = ids;
  }
  const out = Buffer.alloc(4 * (last.length + tokens));
  let at = 0;
  for (const e of last) {
    out.writeUInt32LE(e.length, at);
    at += 4;
    for (const id of e) {
      out.writeUInt32LE(id, at);
      at += 4;
    }
  }
  fs.writeFileSync(idsPath, out);
  console.log(JSON.stringify({
    implementation: `tokenizers@${version} (npm, Rust core)`,
    documents: texts.length,
    bytes,
    tokens,
    seconds: best,
    mb_per_s: bytes / 1e6 / best,
    tokens_per_s: tokens / best,
  }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
