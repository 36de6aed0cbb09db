'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Worker } = require('node:worker_threads');
const path = require('path');

// The addon keeps its state per Node environment: a worker thread loads it
// again and gets its own callbacks, running on the worker's own thread.
test('the binding works inside worker threads, two at once', async () => {
  const code = `
    const { parentPort, threadId } = require('node:worker_threads');
    const wp = require(${JSON.stringify(path.join(__dirname, '..'))});
    const engine = new wp.Engine({ log: () => {} });
    const seen = [];
    engine.defineFunc('test', 'add', ['i32', 'i32'], ['i32'], (a, b) => { seen.push(require('node:worker_threads').threadId); return a + b; });
    engine.defineFunc('test', 'scale', ['i64', 'f64'], ['f64'], () => 0);
    engine.defineBytes('test', 'upper', (b) => b);
    engine.defineFunc('test', 'fail', ['i32'], ['i32'], () => 0);
    engine.defineFunc('test', 'nop', [], [], () => {});
    const inst = engine.load(process.env.WP_FIXTURES + '/host.wat').instantiate();
    (async () => {
      const sync = inst.call('call_add', threadId, 1);
      const asy = await inst.callAsync('call_add', threadId, 2);
      inst.close();
      parentPort.postMessage({ sync, asy, seen, threadId });
    })();
  `;
  const run = () => new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.once('message', resolve);
    w.once('error', reject);
  });
  const results = await Promise.all([run(), run()]);
  for (const r of results) {
    assert.equal(r.sync, r.threadId + 1);
    assert.equal(r.asy, r.threadId + 2);
    assert.deepEqual(r.seen, [r.threadId, r.threadId], 'host functions ran on the thread of the worker');
  }
  assert.notEqual(results[0].threadId, results[1].threadId);
});
