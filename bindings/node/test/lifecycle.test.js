'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { wp, fixture } = require('./helpers');

test('close is idempotent and later use is a clean error', () => {
  const engine = new wp.Engine();
  const plugin = engine.load(fixture('numeric.wat'));
  const add = plugin.func('add');
  const inst = plugin.instantiate();
  inst.close();
  inst.close();
  assert.equal(inst.closed, true);
  assert.throws(() => inst.call(add, 1, 2), { kind: 'bad_input', message: /closed/ });
  assert.throws(() => inst.fuelUsed, { kind: 'bad_input' });
  inst.interrupt(); // harmless on a closed instance
  plugin.close();
  plugin.close();
  assert.throws(() => plugin.instantiate(), { kind: 'bad_input', message: /closed/ });
  engine.close();
  engine.close();
  assert.throws(() => engine.load(fixture('numeric.wat')), { kind: 'bad_input', message: /closed/ });
});

test('objects outlive what made them: closing the engine and plugin first is safe', () => {
  const engine = new wp.Engine({ log: () => {} });
  const plugin = engine.load(fixture('numeric.wat'));
  const add = plugin.func('add');
  const inst = plugin.instantiate();
  engine.close();
  plugin.close();
  assert.equal(inst.call(add, 2, 2), 4, 'the instance keeps its plugin and engine alive');
  assert.equal(inst.call('add', 3, 3), 6, 'calls by name too');
  assert.equal(inst.call('add64', 3n, 3n), 6n, 'also for a name not looked up before');
  inst.close();
});

test('finalizers free what was never closed', { skip: typeof global.gc !== 'function' && 'needs node --expose-gc' }, async () => {
  const engine = new wp.Engine();
  const plugin = engine.load(fixture('numeric.wat'));
  for (let i = 0; i < 100; i++) {
    const inst = plugin.instantiate();
    assert.equal(inst.call('add', i, 1), i + 1);
    const pool = plugin.pool();
    pool.take(); // left out, pool and instance both unreachable
  }
  for (let i = 0; i < 5; i++) {
    global.gc();
    await new Promise((r) => setImmediate(r));
  }
  // The engine pools 256 instance slots (the default): 200 more live at
  // once fit only if the 200 above were freed by their finalizers.
  const live = [];
  for (let i = 0; i < 200; i++) live.push(plugin.instantiate());
  for (const inst of live) inst.close();
});
