'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { wp, fixture } = require('./helpers');

// Process isolation: the plugin runs in a worker process (the installed
// wasmplug, or $WASMPLUG_WORKER), while host functions and the log callback
// still run here, on the main thread.
test('isolated instances: calls, host functions and logs cross the process boundary', async () => {
  const logs = [];
  const engine = new wp.Engine({
    log: (level, name, msg) => logs.push(msg),
    workerPath: process.env.WASMPLUG_WORKER || undefined,
  });
  engine.defineFunc('test', 'add', ['i32', 'i32'], ['i32'], (a, b) => a * 1000 + b);
  engine.defineFunc('test', 'scale', ['i64', 'f64'], ['f64'], () => 0);
  engine.defineBytes('test', 'upper', (b) => Buffer.from(b.toString().toUpperCase()));
  engine.defineFunc('test', 'fail', ['i32'], ['i32'], () => { throw new Error('isolated no'); });
  engine.defineFunc('test', 'nop', [], [], () => {});
  const iso = { isolation: 'process' };
  const inst = engine.load(fixture('host.wat'), iso).instantiate();
  assert.ok(inst.workerPid > 0 && inst.workerPid !== process.pid, 'runs in a worker');
  assert.equal(inst.call('call_add', 4, 2), 4002);
  assert.equal(await inst.callAsync('call_add', 5, 3), 5003);
  assert.equal(inst.callBytes('shout', 'far away').toString(), 'FAR AWAY');
  assert.throws(() => inst.call('call_fail', 1), { kind: 'host', message: /isolated no/ });
  inst.close();

  const echo = engine.load(fixture('echo.wat'), iso).instantiate();
  assert.equal(echo.callString('echo', 'hi'), 'hi');
  assert.equal(await echo.callStringAsync('echo', 'ho'), 'ho');
  assert.deepEqual(logs, ['echoing', 'echoing']);
  echo.close();

  const spin = engine.load(fixture('numeric.wat'), { ...iso, limits: { timeout_ms: 50 } }).instantiate();
  assert.throws(() => spin.call('spin'), { name: 'TimeoutError' });
  spin.close();
  engine.close();
});

test('isolation option: bad values are refused', () => {
  assert.throws(() => new wp.Engine({ isolation: 'thread' }), { kind: 'bad_input', message: /isolation/ });
});
