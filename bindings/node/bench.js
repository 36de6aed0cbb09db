'use strict';
// The two calls of bench/bindings/c_baseline.c, through the binding's public
// API as a user writes them: add(i, 1) of numeric.wat through a function
// handle found once, result checked; echo of echo.wat with 32 bytes, length
// checked. Each repetition times `batch` calls after a warm-up and prints ns
// per call: {"row": NAME, "ns": [...]}.
const path = require('path');
const wp = require('./index.js');

let batch = 200000, reps = 11;
const argv = process.argv.slice(2);
for (let i = 0; i + 1 < argv.length; i += 2) {
  if (argv[i] === '--batch') batch = Number(argv[i + 1]);
  if (argv[i] === '--reps') reps = Number(argv[i + 1]);
}
if (!(batch >= 1 && reps >= 1)) process.exit(2);
const fixtures = process.env.WP_FIXTURES;

const engine = new wp.Engine();
const num = engine.load(path.join(fixtures, 'numeric.wat'));
const echo = engine.load(path.join(fixtures, 'echo.wat'));
const numInst = num.instantiate();
const echoInst = echo.instantiate();
const add = num.func('add');
const echoFn = echo.func('echo');

function numeric() {
  for (let i = 0; i < batch; i++) {
    if (numInst.call(add, i, 1) !== ((i + 1) | 0)) throw new Error('bad result');
  }
}
const input = Buffer.alloc(32, 'x');
function bytes() {
  for (let i = 0; i < batch; i++) {
    if (echoInst.callBytes(echoFn, input).length !== 32) throw new Error('bad length');
  }
}

function row(name, fn) {
  fn(); // warm-up (JIT)
  const ns = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    ns.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  console.log(JSON.stringify({ row: name, ns: ns.map((x) => Math.round(x * 100) / 100) }));
}

row('numeric_call', numeric);
row('bytes_echo_32B', bytes);
numInst.close();
echoInst.close();
num.close();
echo.close();
engine.close();
