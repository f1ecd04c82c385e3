// A small MCP server written for the tests, speaking only the stateless
// 2026-07-28 revision as its specification describes (no server published
// on npm speaks it yet): every request must carry the protocol version in
// _meta, initialize is refused, server/discover answers, tools/list comes
// in two pages, and list changes go out on a subscriptions/listen stream.
'use strict';
const readline = require('readline');
const V = '2026-07-28';
let changed = false;
let subscription = null;
const send = (m) => process.stdout.write(JSON.stringify(m) + '\n');
const tools = () => {
  const schema = (props, req) => ({type: 'object', properties: props, required: req});
  const page1 = [{name: 'echo', description: 'Echoes text', inputSchema: schema({text: {type: 'string'}}, ['text'])}];
  const page2 = [{name: 'add', description: 'Adds', inputSchema: schema({a: {type: 'number'}, b: {type: 'number'}}, ['a', 'b'])},
                 {name: 'change', description: 'Changes the tool list', inputSchema: schema({}, [])}];
  if (changed) page2.push({name: 'extra', description: 'Appeared later', inputSchema: schema({}, [])});
  return {page1, page2};
};
readline.createInterface({input: process.stdin}).on('line', (line) => {
  let m;
  try { m = JSON.parse(line); } catch (e) { return; }
  if (m.id === undefined) return;  // notifications
  const meta = (m.params && m.params._meta) || {};
  const version = meta['io.modelcontextprotocol/protocolVersion'];
  if (m.method === 'initialize' || version !== V || !meta['io.modelcontextprotocol/clientCapabilities']) {
    send({jsonrpc: '2.0', id: m.id, error: {code: -32022, message: 'Unsupported protocol version',
                                            data: {supported: [V], requested: version || null}}});
    return;
  }
  const ok = (result) => send({jsonrpc: '2.0', id: m.id, result: Object.assign({resultType: 'complete'}, result)});
  if (m.method === 'server/discover') {
    ok({supportedVersions: [V], capabilities: {tools: {listChanged: true}},
        _meta: {'io.modelcontextprotocol/serverInfo': {name: 'stateless-test', version: '1'}}});
  } else if (m.method === 'tools/list') {
    const {page1, page2} = tools();
    if (m.params.cursor === undefined) ok({tools: page1, nextCursor: 'p2', ttlMs: 0});
    else if (m.params.cursor === 'p2') ok({tools: page2, ttlMs: 0});
    else send({jsonrpc: '2.0', id: m.id, error: {code: -32602, message: 'bad cursor'}});
  } else if (m.method === 'subscriptions/listen') {
    subscription = m.id;
    send({jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged',
          params: {notifications: {toolsListChanged: true}, _meta: {'io.modelcontextprotocol/subscriptionId': m.id}}});
  } else if (m.method === 'tools/call') {
    const a = m.params.arguments || {};
    if (m.params.name === 'echo') ok({content: [{type: 'text', text: 'echo: ' + a.text}]});
    else if (m.params.name === 'add') ok({content: [], structuredContent: {sum: a.a + a.b}});
    else if (m.params.name === 'change') {
      changed = true;
      ok({content: [{type: 'text', text: 'changed'}]});
      if (subscription !== null)
        send({jsonrpc: '2.0', method: 'notifications/tools/list_changed',
              params: {_meta: {'io.modelcontextprotocol/subscriptionId': subscription}}});
    } else ok({content: [{type: 'text', text: 'no such tool'}], isError: true});
  } else {
    send({jsonrpc: '2.0', id: m.id, error: {code: -32601, message: 'Method not found'}});
  }
});
