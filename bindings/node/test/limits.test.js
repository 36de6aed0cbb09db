'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { wp, fixture, plugin } = require('./helpers');

const engine = new wp.Engine();

test('timeout: TimeoutError, sync and async', async () => {
  const p = wp.Plugin.fromFile(engine, fixture('numeric.wat'), { limits: { timeout_ms: 50 } });
  const inst = p.instantiate();
  const t0 = Date.now();
  assert.throws(() => inst.call('spin'), (e) => e instanceof wp.TimeoutError && e.kind === 'timeout');
  assert.ok(Date.now() - t0 < 5000);
  inst.reset();
  await assert.rejects(inst.callAsync('spin'), { name: 'TimeoutError', kind: 'timeout' });
  inst.reset();
  assert.equal(inst.call('add', 1, 1), 2, 'a fast call passes');
  inst.close();
  p.close();
});

test('fuel: FuelError and fuelUsed', () => {
  const m = new wp.Manifest().fuel(100000);
  const p = wp.Plugin.fromFile(engine, fixture('numeric.wat'), m);
  const inst = p.instantiate();
  assert.equal(inst.call('add', 1, 2), 3);
  assert.ok(inst.fuelUsed > 0, 'a metered call uses fuel');
  assert.throws(() => inst.call('spin'), { name: 'FuelError', kind: 'fuel' });
  inst.close();
  p.close();
});

test('memory: growth refused past the limit, MemoryLimitError when it fails', () => {
  const p = wp.Plugin.fromFile(engine, fixture('numeric.wat'), new wp.Manifest().memory('1MiB'));
  const inst = p.instantiate();
  assert.equal(inst.call('grow', 1), 1, 'one more page fits');
  assert.equal(inst.call('grow', 100), -1, '100 pages do not');
  assert.ok(inst.memorySize <= 1 << 20);
  assert.throws(() => inst.call('bomb'), { name: 'MemoryLimitError', kind: 'memory_limit' });
  inst.close();
  p.close();
});

test('interrupt stops an async call from the main thread', async () => {
  const p = wp.Plugin.fromFile(engine, fixture('numeric.wat'));
  const inst = p.instantiate();
  const call = inst.callAsync('spin');
  setTimeout(() => inst.interrupt(), 50);
  await assert.rejects(call, { name: 'InterruptedError', kind: 'interrupted' });
  inst.close();
  p.close();
});

test('component limits: timeout on spin, trap on crash, memory growth refused on hog', async () => {
  const m = { limits: { timeout_ms: 100, memory: '8MiB' }, imports: { missing: 'trap' } };
  const p = wp.Plugin.fromFile(engine, plugin('types-c-component.wasm'), m);
  const inst = p.instantiate();
  assert.equal(inst.invoke('spin', 10n) >= 0n, true);
  assert.throws(() => inst.invoke('spin', 0xffffffffffffffffn), { kind: 'timeout' });
  inst.reset();
  assert.throws(() => inst.invoke('crash'), { name: 'TrapError' });
  inst.reset();
  // hog stops when malloc fails: it gets fewer MiB than asked, within the limit
  const held = inst.invoke('hog', 64);
  assert.ok(held > 0 && held < 8, `held ${held} MiB`);
  assert.ok(inst.memorySize <= 8 << 20);
  inst.close();
  p.close();
});
