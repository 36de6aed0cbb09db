'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { wp, plugin } = require('./helpers');

const engine = new wp.Engine();
// types-c-component imports example:types/host: round-trip is defined here
// in JS; the counter resource is not (calls to it would trap).
let roundTrips = 0;
engine.defineComponentFunc('example:types/host', 'round-trip', (x) => {
  roundTrips++;
  return { ...x, s: x.s.toUpperCase(), 'v-u64': x['v-u64'] + 1n };
});
const types = engine.load(plugin('types-c-component.wasm'), { imports: { missing: 'trap' } });
const E = (f) => `example:types/echo#${f}`;

test('hello component: invoke, by interface, and as a string function', async () => {
  const p = engine.load(plugin('hello-c-component.wasm'));
  assert.equal(p.isComponent, true);
  const inst = p.instantiate();
  assert.equal(inst.invoke('greet', 'world'), 'Hello, world!');
  assert.equal(inst.invoke('example:hello/greeter#greet', 'iface'), 'Hello, iface!');
  assert.equal(inst.callString('greet', 'bytes'), 'Hello, bytes!');
  assert.equal(await inst.invokeAsync('greet', 'async'), 'Hello, async!');
  assert.equal(p.func('greet').type, 'func(name: string) -> string');
  inst.close();
});

test('scalars: bool, integers (u64/s64 as BigInt), floats, char, string', () => {
  const inst = types.instantiate();
  assert.equal(inst.invoke(E('echo-bool'), true), true);
  assert.equal(inst.invoke(E('echo-s8'), -128), -128);
  assert.equal(inst.invoke(E('echo-u8'), 255), 255);
  assert.equal(inst.invoke(E('echo-s16'), -32768), -32768);
  assert.equal(inst.invoke(E('echo-u16'), 65535), 65535);
  assert.equal(inst.invoke(E('echo-s32'), -5), -5);
  assert.equal(inst.invoke(E('echo-u32'), 4294967295), 4294967295);
  assert.equal(inst.invoke(E('echo-s64'), -(2n ** 63n)), -(2n ** 63n));
  assert.equal(inst.invoke(E('echo-u64'), 2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.equal(inst.invoke(E('echo-f32'), 1.25), 1.25);
  assert.equal(inst.invoke(E('echo-f64'), Math.PI), Math.PI);
  assert.equal(inst.invoke(E('echo-char'), '🦀'), '🦀');
  assert.equal(inst.invoke(E('echo-string'), 'grüße ☃'), 'grüße ☃');
  inst.close();
});

test('compound values: lists, list<u8>, records, tuples, variants, enums, options, results, flags', () => {
  const inst = types.instantiate();
  const bytes = inst.invoke(E('echo-bytes'), Buffer.from([1, 2, 3]));
  assert.ok(bytes instanceof Uint8Array);
  assert.deepEqual([...bytes], [1, 2, 3]);
  const big = Buffer.alloc(100 * 1024, 0).map((_, i) => (i * 7 + 3) & 255); // one copy each way
  assert.deepEqual(Buffer.from(inst.invoke(E('echo-bytes'), big)), big);
  assert.equal(inst.invoke(E('echo-bytes'), Buffer.alloc(0)).length, 0);
  assert.deepEqual(inst.invoke(E('echo-list'), [1, 2, 3]), [1, 2, 3]);
  assert.deepEqual(inst.invoke(E('echo-strings'), ['a', '', 'c']), ['a', '', 'c']);
  assert.deepEqual(inst.invoke(E('echo-point'), { x: 1, y: -2 }), { x: 1, y: -2 });
  const label = { text: 't', at: { x: 0, y: 9 }, tags: ['u', 'v'], scale: null };
  assert.deepEqual(inst.invoke(E('echo-label'), label), label);
  assert.deepEqual(inst.invoke(E('echo-label'), { ...label, scale: 2.5 }).scale, 2.5);
  assert.deepEqual(inst.invoke(E('echo-tuple'), [7, 'seven', 7.5]), [7, 'seven', 7.5]);
  assert.deepEqual(inst.invoke(E('echo-shape'), { tag: 'circle', value: 2 }), { tag: 'circle', value: 2 });
  assert.deepEqual(inst.invoke(E('echo-shape'), { tag: 'rect', value: { x: 3, y: 4 } }), { tag: 'rect', value: { x: 3, y: 4 } });
  assert.deepEqual(inst.invoke(E('echo-shape'), { tag: 'empty' }), { tag: 'empty' });
  assert.deepEqual(inst.invoke(E('echo-shapes'), [{ tag: 'empty' }, { tag: 'circle', value: 1 }]),
    [{ tag: 'empty' }, { tag: 'circle', value: 1 }]);
  assert.equal(inst.invoke(E('echo-color'), 'green'), 'green');
  assert.equal(inst.invoke(E('echo-option'), 'x'), 'x');
  assert.equal(inst.invoke(E('echo-option'), null), null);
  assert.equal(inst.invoke(E('echo-option'), undefined), null);
  assert.deepEqual(inst.invoke(E('echo-result'), { ok: 5 }), { ok: 5 });
  assert.deepEqual(inst.invoke(E('echo-result'), { err: 'no' }), { err: 'no' });
  assert.deepEqual(inst.invoke(E('echo-option-result'), { err: 'blue' }), { err: 'blue' });
  assert.equal(inst.invoke(E('echo-option-result'), null), null);
  assert.deepEqual(inst.invoke(E('echo-flags'), ['read', 'exec']), { read: true, write: false, exec: true });
  assert.deepEqual(inst.invoke(E('echo-flags'), { write: true }), { read: false, write: true, exec: false });
  assert.deepEqual(inst.invoke(E('echo-many'), 1, 'b', [{ x: 1, y: 2 }]), [1, 'b', [{ x: 1, y: 2 }]]);
  inst.close();
});

function everything() {
  return {
    b: true, 'v-s8': -1, 'v-u8': 2, 'v-s16': -3, 'v-u16': 4, 'v-s32': -5, 'v-u32': 6,
    'v-s64': -7n, 'v-u64': 8n, 'v-f32': 0.5, 'v-f64': 1e100, c: 'é', s: 'str', l: ['l'],
    bytes: new Uint8Array([0, 255]), p: { x: 1, y: 2 }, t: [3, 'three'],
    sh: { tag: 'rect', value: { x: 5, y: 6 } }, col: 'blue', o: { x: 7, y: 8 }, r: { err: 'red' },
    f: { read: false, write: true, exec: false },
    nested: [null, { ok: { tag: 'empty' } }, { err: 'e' }],
  };
}

test('everything in one record, to the plugin and through a JS host import', async () => {
  const inst = types.instantiate();
  assert.deepEqual(inst.invoke(E('echo-everything'), everything()), everything());
  const before = roundTrips;
  const back = inst.invoke('call-host', everything());
  assert.equal(roundTrips, before + 1);
  assert.equal(back.s, 'STR');
  assert.equal(back['v-u64'], 9n);
  assert.deepEqual(back.nested, everything().nested);
  const asyncBack = await inst.invokeAsync('call-host', everything());
  assert.equal(asyncBack.s, 'STR', 'the import ran on the main thread during an async call');
  assert.equal(roundTrips, before + 2);
  inst.close();
});

test('a component host import that throws or returns the wrong type fails cleanly', () => {
  const e2 = new wp.Engine();
  let mode = 'throw';
  e2.defineComponentFunc('example:types/host', 'round-trip', (x) => {
    if (mode === 'throw') throw new TypeError('no round trips today');
    return { ...x, s: 42 };
  });
  const inst = e2.load(plugin('types-c-component.wasm'), { imports: { missing: 'trap' } }).instantiate();
  assert.throws(() => inst.invoke('call-host', everything()), { name: 'HostError', message: /no round trips today/ });
  inst.reset();
  mode = 'wrong';
  assert.throws(() => inst.invoke('call-host', everything()), { kind: 'host', message: /\.s: expected a string/ });
  inst.close();
});

test('bad component arguments are BadInputError naming where', () => {
  const inst = types.instantiate();
  assert.throws(() => inst.invoke(E('echo-u8'), 256), { kind: 'bad_input', message: /argument 1 \(x\).*u8/ });
  assert.throws(() => inst.invoke(E('echo-u8'), 1.5), { kind: 'bad_input' });
  assert.throws(() => inst.invoke(E('echo-u8')), { kind: 'bad_input', message: /takes 1/ });
  assert.throws(() => inst.invoke(E('echo-point'), { x: 1 }), { kind: 'bad_input', message: /\.y: missing field/ });
  assert.throws(() => inst.invoke(E('echo-shape'), { tag: 'hexagon' }), { kind: 'bad_input', message: /hexagon/ });
  assert.throws(() => inst.invoke(E('echo-color'), 'mauve'), { kind: 'bad_input', message: /mauve/ });
  assert.throws(() => inst.invoke(E('echo-result'), { ok: 1, err: 'x' }), { kind: 'bad_input' });
  assert.throws(() => inst.invoke(E('echo-char'), 'ab'), { kind: 'bad_input' });
  assert.throws(() => inst.invoke(E('echo-list'), 'nope'), { kind: 'bad_input', message: /array/ });
  assert.throws(() => inst.invoke(E('echo-flags'), ['sudo']), { kind: 'bad_input', message: /sudo/ });
  assert.throws(() => inst.invoke(E('echo-s64'), 2n ** 63n), { kind: 'bad_input' });
  assert.equal(inst.invoke(E('echo-string'), 'a\ud800'), 'a\ufffd', 'a lone surrogate becomes U+FFFD, as in Buffer.from');
  assert.throws(() => inst.call('nop'), { kind: 'bad_input', message: /invoke/ });
  assert.equal(inst.invoke(E('echo-u8'), 7), 7, 'still usable');
  inst.close();
});
