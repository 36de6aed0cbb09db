'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('child_process');
const path = require('path');
const { plugin } = require('./helpers');

const host = path.join(__dirname, '..', 'example', 'host.js');
const run = (...args) => spawnSync(process.execPath, [host, ...args], { encoding: 'utf8' });

test('example/host.js: the callback plugin calls plugin.call_me', () => {
  const r = run(plugin('callback-c.wasm'), 'callback', 'Wasp');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Hello Wasp\n');
});

test('example/host.js: hello logs through the log callback', () => {
  const r = run(plugin('hello-c.wasm'), 'greet', 'world');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Hello, world!\n');
  assert.match(r.stderr, /\[info\] hello-c\.wasm: greeting world/);
});

test('example/host.js: a missing export is reported with its kind', () => {
  const r = run(plugin('hello-c.wasm'), 'nope');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error \(not_found\): .*nope/m);
});
