// The manifest (package.json) against the code: every contributed command
// is one the extension registers, menus name contributed commands, and the
// lib/ modules stay free of the `vscode` module so they run under node.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { kCommandTitles } from '../lib/commands';
import { kCommandIds } from '../lib/protocol';
import { kModes } from '../lib/settings';

const root = path.join(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const extension_source = fs.readFileSync(path.join(root, 'src', 'extension.ts'), 'utf8');

test('every contributed command is registered by the extension', () => {
  const ids: string[] = manifest.contributes.commands.map((c: { command: string }) => c.command);
  assert.ok(ids.length >= 12);
  for (const id of ids) assert.ok(extension_source.includes(`'${id}'`), `${id} is not registered`);
});

test('the context menu offers the five actions with the contract titles', () => {
  const menu = manifest.contributes.menus['editor/context'].map((m: { command: string }) => m.command);
  const titles = new Map(manifest.contributes.commands.map((c: { command: string; title: string }) => [c.command, c.title]));
  assert.equal(menu.length, 5);
  assert.deepEqual(menu.map((id: string) => titles.get(id)), kCommandIds.map((c) => kCommandTitles[c]));
});

test('menus name only contributed commands', () => {
  const ids = new Set(manifest.contributes.commands.map((c: { command: string }) => c.command));
  for (const entries of Object.values(manifest.contributes.menus) as { command: string }[][]) {
    for (const m of entries) assert.ok(ids.has(m.command), m.command);
  }
});

test('the settings are path, model, mode and logLevel with the modes of the contract', () => {
  const props = manifest.contributes.configuration.properties;
  assert.deepEqual(Object.keys(props).sort(), ['beluga.logLevel', 'beluga.mode', 'beluga.model', 'beluga.path']);
  assert.deepEqual(props['beluga.mode'].enum, [...kModes]);
});

test('the chat view is contributed into beluga\'s container', () => {
  assert.equal(manifest.contributes.views.beluga[0].id, 'beluga.chat');
  assert.equal(manifest.contributes.views.beluga[0].type, 'webview');
  assert.ok(fs.existsSync(path.join(root, manifest.contributes.viewsContainers.activitybar[0].icon)));
  for (const f of ['chat.js', 'chat.css']) assert.ok(fs.existsSync(path.join(root, 'media', f)), f);
});

test('the pure modules do not load vscode', () => {
  const lib = path.join(root, 'out', 'lib');
  const files = fs.readdirSync(lib).filter((f) => f.endsWith('.js'));
  assert.ok(files.length >= 6);
  for (const f of files) {
    assert.ok(!/require\("vscode"\)/.test(fs.readFileSync(path.join(lib, f), 'utf8')), f);
  }
});
