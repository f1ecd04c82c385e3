// The official SDKs (npm `openai` and `@anthropic-ai/sdk`, pinned in
// package-lock.json) against beluga's HTTP serving:
//
//   node sdk_test.mjs BASE_URL TOKEN
//
// BASE_URL is the server root (http://127.0.0.1:PORT). The server must run
// a replay model on replay.jsonl beside this file: its completions answer
// the requests below in order, four per API — a tool call without and
// with streaming, then the answer to the tool's result without and with
// streaming. Every response goes through the SDK's own parsing (and, when
// streaming, its event accumulation); each check says what it expected.
// Prints one line per case and "N passed, N failed"; exits 1 on failure.
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

const [baseUrl, token] = process.argv.slice(2);
if (!baseUrl || !token) {
  console.error('usage: node sdk_test.mjs BASE_URL TOKEN');
  process.exit(2);
}

const openai = new OpenAI({ apiKey: token, baseURL: `${baseUrl}/v1`, maxRetries: 0, timeout: 120_000 });
const anthropic = new Anthropic({ apiKey: token, baseURL: baseUrl, maxRetries: 0, timeout: 120_000 });

const MODEL = 'beluga-replay';
const QUESTION = 'What is the weather in Paris?';
const TOOL_RESULT = '{"sky": "sunny", "celsius": 21}';
// What replay.jsonl makes the model say.
const REASONING_CALL = 'The user asks about the weather.';
const TEXT_CALL = 'Let me check.';
const REASONING_ANSWER = 'The tool answered.';
const ANSWER = 'It is sunny in Paris, 21 °C.';
const CALL_NAME = 'get_weather';
const CALL_ARGS = { city: 'Paris', days: 2 };

const weatherSchema = {
  type: 'object',
  properties: { city: { type: 'string' }, days: { type: 'integer' } },
  required: ['city'],
};

class CheckError extends Error {}

function expectEqual(what, got, want) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new CheckError(`${what}: expected ${w}, got ${g}`);
}

function expectNumber(what, value) {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new CheckError(`${what}: expected a count, got ${JSON.stringify(value)}`);
  }
}

function parseArgs(what, text) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CheckError(`${what}: arguments are not JSON (${error.message}): ${text}`);
  }
}

// ---- OpenAI chat completions ------------------------------------------------

const chatTools = [{
  type: 'function',
  function: { name: CALL_NAME, description: 'Weather for a city', parameters: weatherSchema },
}];

function chatCallHistory(callId) {
  return [
    { role: 'user', content: QUESTION },
    {
      role: 'assistant',
      content: TEXT_CALL,
      reasoning_content: REASONING_CALL,
      tool_calls: [{ id: callId, type: 'function', function: { name: CALL_NAME, arguments: JSON.stringify(CALL_ARGS) } }],
    },
    { role: 'tool', tool_call_id: callId, content: TOOL_RESULT },
  ];
}

function checkChatCall(message, finish) {
  expectEqual('finish_reason', finish, 'tool_calls');
  expectEqual('content', message.content, TEXT_CALL);
  if (!message.tool_calls || message.tool_calls.length !== 1) {
    throw new CheckError(`expected one tool call, got ${JSON.stringify(message.tool_calls)}`);
  }
  const call = message.tool_calls[0];
  expectEqual('tool call name', call.function.name, CALL_NAME);
  expectEqual('tool call arguments', parseArgs('tool call', call.function.arguments), CALL_ARGS);
  if (!call.id) throw new CheckError('the tool call has no id');
  return call.id;
}

let chatCallId = null;

const cases = [];
const test = (name, fn) => cases.push({ name, fn });

test('openai chat: tool call', async () => {
  const completion = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: QUESTION }], tools: chatTools });
  expectEqual('object', completion.object, 'chat.completion');
  const choice = completion.choices[0];
  chatCallId = checkChatCall(choice.message, choice.finish_reason);
  expectEqual('reasoning_content', choice.message.reasoning_content, REASONING_CALL);
  expectNumber('usage.prompt_tokens', completion.usage.prompt_tokens);
  expectNumber('usage.completion_tokens', completion.usage.completion_tokens);
});

test('openai chat: tool call, streamed', async () => {
  const stream = openai.chat.completions.stream({
    model: MODEL, messages: [{ role: 'user', content: QUESTION }], tools: chatTools, stream_options: { include_usage: true },
  });
  let chunks = 0;
  stream.on('chunk', () => { chunks += 1; });
  const completion = await stream.finalChatCompletion();
  if (chunks < 2) throw new CheckError(`expected the answer in several chunks, got ${chunks}`);
  const choice = completion.choices[0];
  checkChatCall(choice.message, choice.finish_reason);
});

test('openai chat: answer to the tool result', async () => {
  const completion = await openai.chat.completions.create({ model: MODEL, messages: chatCallHistory(chatCallId ?? 'call_0'), tools: chatTools });
  const choice = completion.choices[0];
  expectEqual('finish_reason', choice.finish_reason, 'stop');
  expectEqual('content', choice.message.content, ANSWER);
  expectEqual('tool_calls', choice.message.tool_calls ?? [], []);
});

test('openai chat: answer to the tool result, streamed', async () => {
  const stream = openai.chat.completions.stream({ model: MODEL, messages: chatCallHistory(chatCallId ?? 'call_0'), tools: chatTools });
  let text = '';
  stream.on('content', (delta) => { text += delta; });
  const completion = await stream.finalChatCompletion();
  expectEqual('streamed content', text, ANSWER);
  expectEqual('content', completion.choices[0].message.content, ANSWER);
  expectEqual('finish_reason', completion.choices[0].finish_reason, 'stop');
});

// ---- Anthropic messages -----------------------------------------------------

const anthropicTools = [{ name: CALL_NAME, description: 'Weather for a city', input_schema: weatherSchema }];
const thinking = { type: 'enabled', budget_tokens: 1024 };

function checkAnthropicCall(message) {
  expectEqual('type', message.type, 'message');
  expectEqual('stop_reason', message.stop_reason, 'tool_use');
  expectEqual('block types', message.content.map((b) => b.type), ['thinking', 'text', 'tool_use']);
  expectEqual('thinking', message.content[0].thinking, REASONING_CALL);
  if (typeof message.content[0].signature !== 'string' || !message.content[0].signature) {
    throw new CheckError('the thinking block has no signature');
  }
  expectEqual('text', message.content[1].text, TEXT_CALL);
  const call = message.content[2];
  expectEqual('tool_use name', call.name, CALL_NAME);
  expectEqual('tool_use input', call.input, CALL_ARGS);
  if (!call.id) throw new CheckError('the tool_use block has no id');
  expectNumber('usage.input_tokens', message.usage.input_tokens);
  expectNumber('usage.output_tokens', message.usage.output_tokens);
  expectNumber('usage.cache_read_input_tokens', message.usage.cache_read_input_tokens);
  return message.content;
}

let anthropicTurn = null;

function anthropicHistory() {
  const turn = anthropicTurn ?? [
    { type: 'thinking', thinking: REASONING_CALL, signature: 'x' },
    { type: 'text', text: TEXT_CALL },
    { type: 'tool_use', id: 'toolu_0', name: CALL_NAME, input: CALL_ARGS },
  ];
  const callId = turn[2].id;
  return [
    { role: 'user', content: QUESTION },
    { role: 'assistant', content: turn },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: callId, content: TOOL_RESULT }] },
  ];
}

test('anthropic messages: tool call', async () => {
  const message = await anthropic.messages.create({
    model: MODEL, max_tokens: 512, thinking, tools: anthropicTools, messages: [{ role: 'user', content: QUESTION }],
  });
  anthropicTurn = checkAnthropicCall(message);
});

test('anthropic messages: tool call, streamed', async () => {
  const stream = anthropic.messages.stream({
    model: MODEL, max_tokens: 512, thinking, tools: anthropicTools, messages: [{ role: 'user', content: QUESTION }],
  });
  let json = '';
  stream.on('inputJson', (partial) => { json += partial; });
  const message = await stream.finalMessage();
  checkAnthropicCall(message);
  expectEqual('streamed input_json', parseArgs('input_json', json), CALL_ARGS);
});

test('anthropic messages: answer to the tool result', async () => {
  const message = await anthropic.messages.create({ model: MODEL, max_tokens: 512, thinking, tools: anthropicTools, messages: anthropicHistory() });
  expectEqual('stop_reason', message.stop_reason, 'end_turn');
  expectEqual('block types', message.content.map((b) => b.type), ['thinking', 'text']);
  expectEqual('thinking', message.content[0].thinking, REASONING_ANSWER);
  expectEqual('text', message.content[1].text, ANSWER);
});

test('anthropic messages: answer to the tool result, streamed', async () => {
  const stream = anthropic.messages.stream({ model: MODEL, max_tokens: 512, thinking, tools: anthropicTools, messages: anthropicHistory() });
  let text = '';
  stream.on('text', (delta) => { text += delta; });
  const message = await stream.finalMessage();
  expectEqual('streamed text', text, ANSWER);
  expectEqual('stop_reason', message.stop_reason, 'end_turn');
  expectEqual('text', message.content.at(-1).text, ANSWER);
});

// ---- OpenAI responses -------------------------------------------------------

const responseTools = [{ type: 'function', name: CALL_NAME, description: 'Weather for a city', parameters: weatherSchema, strict: false }];

function checkResponseCall(response) {
  expectEqual('object', response.object, 'response');
  expectEqual('status', response.status, 'completed');
  expectEqual('item types', response.output.map((i) => i.type), ['reasoning', 'message', 'function_call']);
  expectEqual('reasoning', response.output[0].content.map((c) => c.text).join(''), REASONING_CALL);
  expectEqual('output_text', response.output_text, TEXT_CALL);
  const call = response.output[2];
  expectEqual('function_call name', call.name, CALL_NAME);
  expectEqual('function_call arguments', parseArgs('function_call', call.arguments), CALL_ARGS);
  if (!call.call_id) throw new CheckError('the function_call has no call_id');
  expectNumber('usage.input_tokens', response.usage.input_tokens);
  expectNumber('usage.input_tokens_details.cached_tokens', response.usage.input_tokens_details.cached_tokens);
  expectNumber('usage.output_tokens', response.usage.output_tokens);
  return response.output;
}

let responseItems = null;

function responsesHistory() {
  const items = responseItems ?? [
    { type: 'function_call', call_id: 'call_0', name: CALL_NAME, arguments: JSON.stringify(CALL_ARGS) },
  ];
  const call = items.find((i) => i.type === 'function_call');
  return [
    { role: 'user', content: QUESTION },
    ...items,
    { type: 'function_call_output', call_id: call.call_id, output: TOOL_RESULT },
  ];
}

test('openai responses: tool call', async () => {
  const response = await openai.responses.create({
    model: MODEL, input: QUESTION, tools: responseTools, store: false, instructions: 'You are a weather bot.',
  });
  responseItems = checkResponseCall(response);
});

test('openai responses: tool call, streamed', async () => {
  const stream = openai.responses.stream({
    model: MODEL, input: [{ role: 'user', content: QUESTION }], tools: responseTools, store: false,
  });
  let args = '';
  const seen = new Set();
  stream.on('event', (event) => seen.add(event.type));
  stream.on('response.function_call_arguments.delta', (event) => { args += event.delta; });
  const response = await stream.finalResponse();
  checkResponseCall(response);
  expectEqual('streamed arguments', parseArgs('arguments', args), CALL_ARGS);
  for (const type of ['response.created', 'response.output_item.added', 'response.reasoning_text.delta',
    'response.output_text.delta', 'response.completed']) {
    if (!seen.has(type)) throw new CheckError(`no ${type} event`);
  }
});

test('openai responses: answer to the tool result', async () => {
  const response = await openai.responses.create({ model: MODEL, input: responsesHistory(), tools: responseTools, store: false });
  expectEqual('status', response.status, 'completed');
  expectEqual('item types', response.output.map((i) => i.type), ['reasoning', 'message']);
  expectEqual('output_text', response.output_text, ANSWER);
});

test('openai responses: answer to the tool result, streamed', async () => {
  const stream = openai.responses.stream({ model: MODEL, input: responsesHistory(), tools: responseTools, store: false });
  let text = '';
  stream.on('response.output_text.delta', (event) => { text += event.delta; });
  const response = await stream.finalResponse();
  expectEqual('streamed text', text, ANSWER);
  expectEqual('output_text', response.output_text, ANSWER);
});

// ---- run --------------------------------------------------------------------

let passed = 0;
let failed = 0;
for (const { name, fn } of cases) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (error) {
    failed += 1;
    const detail = error instanceof CheckError ? error.message : `${error.constructor?.name ?? 'Error'}: ${error.message}`;
    console.log(`not ok - ${name}\n    ${detail.replaceAll('\n', '\n    ')}`);
    if (!(error instanceof CheckError) && error.stack) console.log(`    ${error.stack.split('\n').slice(1, 4).join('\n    ')}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
