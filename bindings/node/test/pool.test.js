'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { wp, fixture } = require('./helpers');

const engine = new wp.Engine();
const plugin = engine.load(fixture('numeric.wat'));

test('maxUses 1: a fresh instance for every take', () => {
  const pool = plugin.pool({ maxUses: 1, maxIdle: 2 });
  for (let i = 0; i < 3; i++) {
    const inst = pool.take();
    assert.equal(inst.call('count'), 1);
    inst.close();
  }
  pool.close();
});

test('maxUses 0: instances are reused; idle counts them', () => {
  const pool = plugin.pool({ maxUses: 0, maxIdle: 2 });
  assert.equal(pool.idle, 0);
  const a = pool.take();
  assert.equal(a.call('count'), 1);
  a.close();
  assert.equal(pool.idle, 1);
  assert.equal(pool.use((inst) => inst.call('count')), 2, 'the same instance again');
  const x = pool.take(), y = pool.take();
  assert.equal(y.call('count'), 1, 'a second one is made when none is idle');
  x.close(); y.close();
  assert.equal(pool.idle, 2);
  pool.close();
});

test('a failed call never comes back from the pool', () => {
  const pool = plugin.pool({ maxUses: 0, maxIdle: 2 });
  assert.throws(() => pool.use((inst) => { inst.call('count'); inst.call('trap'); }), { kind: 'trap' });
  assert.equal(pool.idle, 0);
  assert.equal(pool.use((inst) => inst.call('count')), 1);
  pool.close();
});

test('pool.use with async calls gives the instance back when the promise settles', async () => {
  const pool = plugin.pool({ maxUses: 0, maxIdle: 1 });
  assert.equal(await pool.use((inst) => inst.callAsync('add', 2, 3)), 5);
  assert.equal(pool.idle, 1);
  pool.close();
});

test('closing: a pool with instances out is busy; double close is safe', () => {
  const pool = plugin.pool();
  const inst = pool.take();
  assert.throws(() => pool.close(), { kind: 'busy' });
  inst.close();
  inst.close();
  pool.close();
  pool.close();
  assert.throws(() => pool.take(), { kind: 'bad_input', message: /closed/ });
  assert.throws(() => plugin.pool({ maxUses: -1 }), { kind: 'bad_input' });
});
