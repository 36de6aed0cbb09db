'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const { wp, fixture, plugin } = require('./helpers');

const engine = new wp.Engine();

test('bytes calls: Buffer, Uint8Array and string in, a new Buffer out', () => {
  const p = wp.Plugin.fromFile(engine, fixture('echo.wat'));
  const inst = p.instantiate();
  const input = Buffer.from([0, 1, 2, 250, 255]);
  const out = inst.callBytes('echo', input);
  assert.ok(Buffer.isBuffer(out));
  assert.deepEqual(out, input);
  assert.deepEqual(inst.callBytes('echo', new Uint8Array([9, 8])), Buffer.from([9, 8]));
  assert.deepEqual(inst.callBytes('echo', 'héllo'), Buffer.from('héllo'));
  assert.deepEqual(inst.callBytes('echo', Buffer.alloc(0)), Buffer.alloc(0));
  const big = Buffer.alloc(1 << 20, 7);
  assert.ok(inst.callBytes('echo', big).equals(big));
  const first = inst.callBytes('echo', 'one');
  inst.callBytes('echo', 'two');
  assert.equal(first.toString(), 'one', 'outputs are copies, not views of the plugin memory');
  assert.equal(inst.callString('echo', 'snowman ☃'), 'snowman ☃');
  inst.close();
});

test('plugin errors and ABI violations map to their kinds', () => {
  const p = wp.Plugin.fromFile(engine, fixture('echo.wat'));
  const inst = p.instantiate();
  assert.throws(() => inst.callBytes('fail', 'x'), { name: 'PluginError', kind: 'plugin', message: /bad things/ });
  inst.reset();
  assert.throws(() => inst.callBytes('bad_output', 'x'), { name: 'AbiError', kind: 'abi' });
  inst.reset();
  assert.throws(() => inst.callBytes('bad_retptr', 'x'), { kind: 'abi' });
  inst.reset();
  assert.throws(() => inst.callBytes('echo', 42), { kind: 'bad_input' });
  assert.throws(() => inst.callString('echo', Buffer.from('x')), { kind: 'bad_input' });
  inst.close();
});

test('config from the manifest reaches the plugin', () => {
  const p = wp.Plugin.fromFile(engine, plugin('hello-c.wasm'), new wp.Manifest().config('greeting', 'Howdy'));
  const inst = p.instantiate();
  assert.equal(inst.callString('greet', 'world'), 'Howdy, world!');
  inst.close();
});

test('load from bytes: Buffer, Uint8Array, ArrayBuffer; names and manifests', () => {
  const bytes = fs.readFileSync(plugin('hello-c.wasm'));
  const a = wp.Plugin.fromBytes(engine, bytes, { name: 'mine.wasm' });
  assert.equal(a.name, 'mine.wasm');
  assert.equal(a.instantiate().callString('greet', 'bytes'), 'Hello, bytes!');
  const u8 = new Uint8Array(bytes);
  const b = engine.loadBytes(u8.buffer, { manifest: JSON.stringify({ config: { greeting: 'Hi' } }) });
  assert.equal(b.instantiate().callString('greet', 'ab'), 'Hi, ab!');
  const wat = wp.Plugin.fromBytes(engine, Buffer.from('(module (func (export "one") (result i32) i32.const 1))'));
  assert.equal(wat.instantiate().call('one'), 1);
  assert.equal(a.sha256, b.sha256, 'same bytes, same digest');
});

test('bad plugins and manifests fail with the right kind', () => {
  assert.throws(() => wp.Plugin.fromBytes(engine, Buffer.from('not wasm at all')), { name: 'LoadError', kind: 'load' });
  assert.throws(() => wp.Plugin.fromBytes(engine, 'a string'), { kind: 'bad_input' });
  assert.throws(() => wp.Plugin.fromFile(engine, '/nonexistent/x.wasm'), (e) => e instanceof wp.WasmplugError && /x\.wasm/.test(e.message));
  assert.throws(() => wp.Plugin.fromFile(engine, fixture('echo.wat'), { limits: { bogus: 1 } }), { kind: 'bad_input', message: /bogus/ });
  assert.throws(() => wp.Plugin.fromFile(engine, fixture('echo.wat'), '{not json'), { kind: 'bad_input' });
  assert.throws(() => wp.Plugin.fromFile(engine, fixture('echo.wat'), { sources: [{ path: 'x', sha256: '0'.repeat(64) }] }), { kind: 'load' });
  assert.throws(() => wp.Plugin.fromFile(engine, fixture('host.wat')), { name: 'LinkError', kind: 'link', message: /test/ });
  assert.throws(() => new wp.Engine({ pooling: -1 }), { kind: 'bad_input' });
  assert.throws(() => new wp.Engine('fast'), { kind: 'bad_input' });
  assert.throws(() => new wp.Manifest([1]), { kind: 'bad_input' });
});

test('async bytes and string calls', async () => {
  const p = wp.Plugin.fromFile(engine, plugin('hello-c.wasm'));
  const inst = p.instantiate();
  assert.equal(await inst.callStringAsync('greet', 'async'), 'Hello, async!');
  assert.deepEqual(await inst.callBytesAsync('greet', Buffer.from('b')), Buffer.from('Hello, b!'));
  await assert.rejects(inst.callStringAsync('greet', 5), { kind: 'bad_input' });
  await assert.rejects(inst.callBytesAsync('nope', 'x'), { kind: 'not_found' });
  inst.close();
});
