#!/usr/bin/env node
'use strict';
// host.js - a complete program embedding wasmplug from Node.js, as
// examples/host/host.c does in C.
//
//   node example/host.js PLUGIN EXPORT [INPUT]
//
// Loads PLUGIN, offers it the host function plugin.call_me(name) -> string
// (which the callback examples import), prints what the plugin logs, calls
// the bytes export EXPORT with INPUT and prints the result.
const wp = require('..');

const [file, exportName, input = ''] = process.argv.slice(2);
if (!exportName) {
  console.error('usage: host.js PLUGIN EXPORT [INPUT]');
  process.exit(2);
}

// One engine per process; plugin logs go to stderr.
const engine = new wp.Engine({
  log: (level, plugin, msg) => console.error(`  [${level}] ${plugin}: ${msg}`),
});

// Host functions are defined before the plugins that import them load.
engine.defineString('plugin', 'call_me', (name) => {
  if (Buffer.byteLength(name) > 200) throw new Error('call_me: name longer than 200 bytes');
  return `Hello ${name}`;
});

// Deny by default, plus a time and memory limit.
const manifest = new wp.Manifest().timeoutMs(1000).memory(64 << 20);

try {
  const plugin = engine.load(file, manifest);
  const inst = plugin.instantiate();
  console.log(inst.callString(exportName, input));
  inst.close();
  plugin.close();
} catch (err) {
  console.error(`error (${err.kind}): ${err.message}`);
  if (err.backtrace) console.error(err.backtrace);
  process.exitCode = 1;
} finally {
  engine.close();
}
