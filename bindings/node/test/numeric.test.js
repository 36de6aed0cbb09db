'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { wp, fixture } = require('./helpers');

const engine = new wp.Engine();
const plugin = wp.Plugin.fromFile(engine, fixture('numeric.wat'));

test('i32, i64 (BigInt), f32, f64 calls by name', () => {
  const inst = plugin.instantiate();
  assert.equal(inst.call('add', 2, 40), 42);
  assert.equal(inst.call('add', 0x7fffffff, 1), -0x80000000);
  assert.equal(inst.call('add64', 2n ** 40n, 1n), 2n ** 40n + 1n);
  assert.equal(inst.call('add64', 5, 6), 11n, 'numbers are accepted for i64');
  assert.equal(inst.call('mulf32', 1.5, 3), 4.5);
  assert.equal(inst.call('mulf32', 0.1, 1), Math.fround(0.1));
  assert.equal(inst.call('divf64', 1, 4), 0.25);
  assert.deepEqual(inst.call('pair', -7), [-7, -7n], 'several results come as an array');
  assert.equal(inst.call('nothing'), undefined);
  inst.close();
});

test('function handles are found once and reused', () => {
  const inst = plugin.instantiate();
  const add = plugin.func('add');
  assert.equal(plugin.func('add'), add, 'cached per plugin');
  assert.deepEqual(add.params, ['i32', 'i32']);
  assert.deepEqual(add.results, ['i32']);
  assert.equal(add.isNumeric, true);
  let sum = 0;
  for (let i = 0; i < 1000; i++) sum += inst.call(add, i, 1);
  assert.equal(sum, 500500);
  inst.close();
});

test('plugin metadata', () => {
  assert.equal(plugin.name, 'numeric.wat');
  assert.match(plugin.sha256, /^[0-9a-f]{64}$/);
  assert.equal(plugin.isComponent, false);
  const add = plugin.exports.find((e) => e.name === 'add');
  assert.equal(add.kind, 'func');
  assert.deepEqual(add.params, ['i32', 'i32']);
  assert.ok(plugin.exports.find((e) => e.name === 'memory' && e.kind === 'memory'));
});

test('bad arguments are BadInputError, not crashes', () => {
  const inst = plugin.instantiate();
  assert.throws(() => inst.call('add', 1), { name: 'BadInputError', kind: 'bad_input', message: /takes 2/ });
  assert.throws(() => inst.call('add', 1, 2, 3), wp.BadInputError);
  assert.throws(() => inst.call('add', '1', 2), { kind: 'bad_input', message: /argument 1/ });
  assert.throws(() => inst.call('add64', 2n ** 64n, 1n), { kind: 'bad_input', message: /range/ });
  assert.throws(() => inst.call('nope'), { name: 'NotFoundError', kind: 'not_found', message: /add/ });
  // add is (i32, i32) -> i32, but numeric.wat has no cabi_realloc: the library says abi
  assert.throws(() => inst.callBytes('add', Buffer.from('x')), { name: 'AbiError', kind: 'abi', message: /cabi_realloc/ });
  assert.throws(() => inst.invoke('add', 1, 2), { kind: 'bad_input', message: /not a component/ });
  const other = wp.Plugin.fromFile(engine, fixture('numeric.wat'));
  assert.throws(() => inst.call(other.func('add'), 1, 2), { kind: 'bad_input', message: /another plugin/ });
  other.close();
  assert.equal(inst.call('add', 1, 2), 3, 'the instance is still usable');
  inst.close();
});

test('traps are TrapError with a backtrace; reset recovers', () => {
  const inst = plugin.instantiate();
  const e = assert.throws(() => inst.call('trap'), (err) => {
    assert.ok(err instanceof wp.TrapError);
    assert.ok(err instanceof wp.WasmplugError);
    assert.ok(err instanceof Error);
    assert.equal(err.kind, 'trap');
    assert.match(err.message, /unreachable/);
    return true;
  });
  void e;
  assert.throws(() => inst.call('div', 1, 0), { kind: 'trap', message: /divide by zero|division/ });
  assert.throws(() => inst.call('recurse', 0), { kind: 'trap' });
  inst.reset();
  assert.equal(inst.call('count'), 1);
  inst.close();
});

test('async numeric calls resolve and reject', async () => {
  const inst = plugin.instantiate();
  assert.equal(await inst.callAsync('add', 20, 22), 42);
  assert.equal(await inst.callAsync('add64', 1n, 2n), 3n);
  await assert.rejects(inst.callAsync('trap'), { name: 'TrapError', kind: 'trap' });
  await assert.rejects(inst.callAsync('add', 1), { kind: 'bad_input' });
  inst.reset();
  assert.equal(await inst.callAsync('count'), 1);
  inst.close();
});

test('an instance is busy during an async call', async () => {
  const inst = plugin.instantiate();
  const p = inst.callAsync('add', 1, 2);
  assert.throws(() => inst.call('add', 1, 2), { name: 'BusyError', kind: 'busy' });
  assert.throws(() => inst.close(), { kind: 'busy' });
  assert.equal(await p, 3);
  assert.equal(inst.call('add', 1, 2), 3);
  inst.close();
});
