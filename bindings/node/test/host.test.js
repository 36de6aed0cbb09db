'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { wp, fixture, plugin } = require('./helpers');

// One engine with every host function host.wat imports ("test" module).
function hostEngine(calls, opts = {}) {
  const engine = new wp.Engine(opts);
  engine.defineFunc('test', 'add', ['i32', 'i32'], ['i32'], (a, b) => { calls.push(['add', a, b]); return a + b; });
  engine.defineFunc('test', 'scale', ['i64', 'f64'], ['f64'], (n, f) => {
    assert.equal(typeof n, 'bigint');
    return Number(n) * f;
  });
  engine.defineBytes('test', 'upper', (buf) => {
    assert.ok(Buffer.isBuffer(buf));
    return Buffer.from(buf.toString('latin1').toUpperCase(), 'latin1');
  });
  engine.defineFunc('test', 'fail', ['i32'], ['i32'], (n) => {
    if (n > 0) throw new Error(`refusing ${n}`);
    return 'not a number';
  });
  engine.defineFunc('test', 'nop', [], [], () => { calls.push(['nop']); });
  return engine;
}

test('numeric and bytes host functions, called synchronously', () => {
  const calls = [];
  const engine = hostEngine(calls);
  const inst = engine.load(fixture('host.wat')).instantiate();
  assert.equal(inst.call('call_add', 40, 2), 42);
  assert.deepEqual(calls, [['add', 40, 2]]);
  assert.equal(inst.call('call_scale', 3n, 1.5), 4.5);
  assert.equal(inst.callBytes('shout', 'quiet please').toString(), 'QUIET PLEASE');
  inst.call('call_nop', 3);
  assert.equal(calls.filter((c) => c[0] === 'nop').length, 3);
  inst.close();
});

test('a host function that throws fails the plugin call with HostError', () => {
  const engine = hostEngine([]);
  const inst = engine.load(fixture('host.wat')).instantiate();
  assert.throws(() => inst.call('call_fail', 7), { name: 'HostError', kind: 'host', message: /refusing 7/ });
  inst.reset();
  assert.throws(() => inst.call('call_fail', 0), { kind: 'host', message: /bad result/ });
  inst.reset();
  assert.throws(() => inst.callBytes('shout_bad', 'x'), (e) => e instanceof wp.WasmplugError && e.kind !== 'host');
  inst.reset();
  assert.equal(inst.call('call_add', 1, 1), 2, 'the instance works after reset');
  inst.close();
});

test('host functions during async calls run on the main thread, and the call waits for them', async () => {
  const calls = [];
  const engine = hostEngine(calls);
  const p = engine.load(fixture('host.wat'));
  const insts = [p.instantiate(), p.instantiate(), p.instantiate()];
  // Three async calls at once on libuv's pool, each calling back into JS.
  const results = await Promise.all(insts.map((inst, i) => inst.callAsync('call_add', i, 100)));
  assert.deepEqual(results, [100, 101, 102]);
  assert.equal(calls.length, 3);
  assert.equal(await insts[0].callBytesAsync('shout', 'abc').then(String), 'ABC');
  await assert.rejects(insts[1].callAsync('call_fail', 3), { name: 'HostError', message: /refusing 3/ });
  for (const inst of insts) inst.close();
});

test('a host function calling back into its own instance gets BusyError (no deadlock)', () => {
  const engine = new wp.Engine();
  let inst;
  engine.defineFunc('test', 'add', ['i32', 'i32'], ['i32'], (a, b) => inst.call('call_add', a, b));
  engine.defineFunc('test', 'scale', ['i64', 'f64'], ['f64'], () => 0);
  engine.defineBytes('test', 'upper', (b) => b);
  engine.defineFunc('test', 'fail', ['i32'], ['i32'], () => 0);
  engine.defineFunc('test', 'nop', [], [], () => {});
  inst = engine.load(fixture('host.wat')).instantiate();
  assert.throws(() => inst.call('call_add', 1, 2), { kind: 'host', message: /busy/ });
  inst.close();
});

test('string host function: the callback example (plugin.call_me)', async () => {
  const engine = new wp.Engine();
  engine.defineString('plugin', 'call_me', (name) => `Hello ${name}`);
  const inst = engine.load(plugin('callback-c.wasm')).instantiate();
  assert.equal(inst.callString('callback', 'Wasp'), 'Hello Wasp');
  assert.equal(inst.callString('callback', ''), 'Hello Nic');
  assert.equal(await inst.callStringAsync('callback', 'async'), 'Hello async');
  inst.close();
});

test('defining host functions: bad input', () => {
  const engine = new wp.Engine();
  assert.throws(() => engine.defineFunc('m', 'f', ['i33'], [], () => 0), { kind: 'bad_input' });
  assert.throws(() => engine.defineFunc('m', 'f', 'i32', [], () => 0), { kind: 'bad_input' });
  assert.throws(() => engine.defineBytes('m', 'f', 'not a function'), { kind: 'bad_input' });
  assert.throws(() => engine.defineString(1, 'f', () => ''), { kind: 'bad_input' });
  engine.close();
  assert.throws(() => engine.defineBytes('m', 'f', () => ''), { kind: 'bad_input', message: /closed/ });
});

test('log callback: sync calls, async calls (from another thread) and components', async () => {
  const logs = [];
  const engine = new wp.Engine({ log: (level, name, msg) => logs.push([level, name, msg]) });
  const inst = engine.load(fixture('echo.wat')).instantiate();
  inst.callBytes('echo', 'x');
  assert.deepEqual(logs, [['info', 'echo.wat', 'echoing']]);
  await inst.callBytesAsync('echo', 'y');
  assert.deepEqual(logs[1], ['info', 'echo.wat', 'echoing'], 'delivered before the promise resolves');
  const comp = engine.load(plugin('hello-c-component.wasm')).instantiate();
  comp.invoke('greet', 'log');
  assert.equal(logs.length, 3);
  assert.equal(logs[2][1], 'hello-c-component.wasm');
  assert.match(logs[2][2], /log/);
  inst.close();
  comp.close();
});
