'use strict';
// wasmplug for Node.js: runs untrusted WebAssembly plugins through the
// installed libwasmplug (an N-API addon built by build.sh). See README.md.

const path = require('path');

function loadAddon() {
  const file = process.env.WASMPLUG_NODE_ADDON;
  if (!file) {
    throw new Error('wasmplug: WASMPLUG_NODE_ADDON is not set: build the addon with ' +
      'bindings/node/build.sh (WASMPLUG_PREFIX=<installed wasmplug>) and set ' +
      'WASMPLUG_NODE_ADDON to the path it prints');
  }
  return require(path.resolve(file));
}

const N = loadAddon();

// ---------------------------------------------------------------- errors

/** Every failure wasmplug reports; `kind` is the kind's short name. */
class WasmplugError extends Error {
  constructor(message, kind, backtrace) {
    super(message);
    this.name = this.constructor.name;
    this.kind = kind;
    if (backtrace) this.backtrace = backtrace;
  }
}
const ERROR_KINDS = [
  // [C kind number, kind name, class name]
  [1, 'load', 'LoadError'],
  [2, 'link', 'LinkError'],
  [3, 'trap', 'TrapError'],
  [4, 'timeout', 'TimeoutError'],
  [5, 'interrupted', 'InterruptedError'],
  [6, 'fuel', 'FuelError'],
  [7, 'memory_limit', 'MemoryLimitError'],
  [8, 'bad_input', 'BadInputError'],
  [9, 'abi', 'AbiError'],
  [10, 'host', 'HostError'],
  [11, 'plugin', 'PluginError'],
  [12, 'io', 'IoError'],
  [13, 'not_found', 'NotFoundError'],
  [14, 'busy', 'BusyError'],
  [15, 'no_memory', 'NoMemoryError'],
];
const errors = { WasmplugError };
const byNumber = new Map();
for (const [num, kind, cls] of ERROR_KINDS) {
  const C = { [cls]: class extends WasmplugError {} }[cls];
  errors[cls] = C;
  byNumber.set(num, [C, kind]);
}

// Small bytes outputs come back through this Buffer (see callBytes).
const scratch = Buffer.allocUnsafeSlow(4096);
N.setup((num, kindName, message, backtrace) => {
  const [C, kind] = byNumber.get(num) || [WasmplugError, kindName || 'unknown'];
  return new C(message, kind, backtrace);
}, scratch);

function bytesOut(r) {
  if (typeof r !== 'number') return r;
  const out = Buffer.allocUnsafe(r);
  scratch.copy(out, 0, 0, r);
  return out;
}

// ---------------------------------------------------------------- helpers

const HOST = { numeric: 0, bytes: 1, string: 2, component: 3 };
const ASYNC = { numeric: 0, bytes: 1, string: 2, invoke: 3 };

function badInput(message) {
  return new errors.BadInputError(message, 'bad_input');
}

function handle(obj, what) {
  if (!obj || obj._h === null || obj._h === undefined) throw badInput(`${what} is closed`);
  return obj._h;
}

// ---------------------------------------------------------------- manifest

/**
 * A manifest: what a plugin may do and how far it may go (deny by default).
 * Built from an object in the JSON form of include/wasmplug/manifest.h, or
 * with the setters; `toJSON()` gives that form back.
 */
class Manifest {
  constructor(spec = {}) {
    if (typeof spec === 'string') spec = JSON.parse(spec);
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
      throw badInput('a manifest is an object (or its JSON text)');
    }
    this.spec = JSON.parse(JSON.stringify(spec));
    this.baseDir = null;
  }
  static fromJSON(text, baseDir = null) {
    const m = new Manifest(JSON.parse(text));
    m.baseDir = baseDir;
    return m;
  }
  static fromFile(file) {
    const fs = require('fs');
    return Manifest.fromJSON(fs.readFileSync(file, 'utf8'), path.dirname(path.resolve(file)));
  }
  _limits() { return (this.spec.limits = this.spec.limits || {}); }
  name(n) { this.spec.name = n; return this; }
  timeoutMs(ms) { this._limits().timeout_ms = ms; return this; }
  memory(bytes) { this._limits().memory = bytes; return this; }
  fuel(units) { this._limits().fuel = units; return this; }
  config(key, value) { (this.spec.config = this.spec.config || {})[key] = value; return this; }
  toJSON() { return this.spec; }
  toString() { return JSON.stringify(this.spec); }
}

function manifestArgs(manifest) {
  if (manifest === undefined || manifest === null) return [null, null];
  if (typeof manifest === 'string') return [manifest, null];
  const m = manifest instanceof Manifest ? manifest : new Manifest(manifest);
  return [JSON.stringify(m.spec), m.baseDir];
}

// ---------------------------------------------------------------- engine

/**
 * The engine: compiled-code cache, limits, host functions, log callback.
 * Options: {cacheDir (string, or null for none), pooling, maxMemory,
 * maxModuleSize, maxFunctions, instantiateTimeoutMs, tickUs,
 * isolation ('none' | 'process'), workerPath, log(level, plugin, message)}.
 */
class Engine {
  constructor(options = {}) {
    this._h = N.engineNew(options);
  }
  /** A numeric host function: fn(...args) returns a number, BigInt (i64) or an array. */
  defineFunc(module, name, params, results, fn) {
    N.define(handle(this, 'engine'), HOST.numeric, module, name, fn, params, results);
    return this;
  }
  /** A bytes host function: fn(Buffer) returns a Buffer, Uint8Array or string. */
  defineBytes(module, name, fn) {
    N.define(handle(this, 'engine'), HOST.bytes, module, name, fn);
    return this;
  }
  /** A string host function: fn(string) returns a string. */
  defineString(module, name, fn) {
    N.define(handle(this, 'engine'), HOST.string, module, name, fn);
    return this;
  }
  /** A component import: `iface` ("example:types/host", null for the world's level), typed values. */
  defineComponentFunc(iface, name, fn) {
    N.define(handle(this, 'engine'), HOST.component, iface, name, fn);
    return this;
  }
  /** Loads a plugin file (.wasm or .wat). */
  load(file, manifest) { return Plugin.fromFile(this, file, manifest); }
  /** Loads a plugin from bytes. */
  loadBytes(bytes, options) { return Plugin.fromBytes(this, bytes, options); }
  close() {
    if (this._h) N.close(this._h);
    this._h = null;
  }
}

// ---------------------------------------------------------------- plugins

/** A handle on an exported function, for repeated calls. */
class Func {
  constructor(plugin, name, info) {
    this.plugin = plugin;
    this.name = name;
    this._h = info.handle;
    this.isBytes = info.isBytes;
    this.isNumeric = info.isNumeric;
    if (info.params) { this.params = info.params; this.results = info.results; }
    if (info.type) this.type = info.type;
  }
}

class Plugin {
  constructor(h) {
    this._h = h;
    this._funcs = new Map();
    const info = N.pluginInfo(h);
    this.name = info.name;
    this.sha256 = info.sha256;
    this.size = info.size;
    this.isComponent = info.isComponent;
    this.wasCached = info.wasCached;
    this.imports = info.imports;
    this.exports = info.exports;
  }
  static fromFile(engine, file, manifest) {
    const [json, base] = manifestArgs(manifest);
    return new Plugin(N.loadFile(handle(engine, 'engine'), String(file), json, base));
  }
  /** bytes: Buffer, Uint8Array or ArrayBuffer; options: {name, manifest}. */
  static fromBytes(engine, bytes, options = {}) {
    const [json] = manifestArgs(options.manifest);
    return new Plugin(N.loadBytes(handle(engine, 'engine'), options.name || 'plugin.wasm', bytes, json));
  }
  /** A handle on export `name` ("INTERFACE#FUNC" for a component interface's function). */
  func(name) {
    let f = this._funcs.get(name);
    if (!f) {
      f = new Func(this, name, N.find(handle(this, 'plugin'), name));
      this._funcs.set(name, f);
    }
    return f;
  }
  _funcVia(inst, name) { // for instances that outlive a closed plugin
    let f = this._funcs.get(name);
    if (!f) {
      f = new Func(this, name, N.find(inst._h, name));
      this._funcs.set(name, f);
    }
    return f;
  }
  instantiate() { return new Instance(N.instanceNew(handle(this, 'plugin')), this); }
  /** A pool of instances: {maxUses (0: no limit, 1: fresh per call), maxIdle}. */
  pool(options = {}) { return new Pool(this, options); }
  close() {
    if (this._h) N.close(this._h);
    this._h = null;
  }
}

// ---------------------------------------------------------------- instances

/**
 * A sandbox. Calls are synchronous; the *Async variants run on libuv's
 * thread pool and return Promises (one call at a time per instance).
 */
class Instance {
  constructor(h, plugin, pool = null) {
    this._h = h;
    this.plugin = plugin;
    this._pool = pool;
  }
  _f(f) {
    if (typeof f !== 'string') return f;
    return this.plugin._h ? this.plugin.func(f) : this.plugin._funcVia(this, f);
  }
  /** Numeric call: call('add', 1, 2) or call(func, 1, 2); i64 as BigInt. */
  call(f, ...args) {
    return N.call(this._h, this._f(f)._h, ...args);
  }
  /** Bytes call: input Buffer/Uint8Array/string, returns a new Buffer. */
  callBytes(f, input) {
    return bytesOut(N.callBytes(this._h, this._f(f)._h, input, false));
  }
  /** String call: input string, returns a string. */
  callString(f, input) {
    if (typeof input !== 'string') throw badInput('callString takes a string');
    return N.callBytes(this._h, this._f(f)._h, input, true);
  }
  /** Component call with typed values; returns the result as a JS value. */
  invoke(f, ...args) {
    return N.invoke(this._h, this._f(f)._h, args);
  }
  callAsync(f, ...args) { return this._async(ASYNC.numeric, f, args); }
  callBytesAsync(f, input) { return this._async(ASYNC.bytes, f, input); }
  callStringAsync(f, input) {
    if (typeof input !== 'string') return Promise.reject(badInput('callStringAsync takes a string'));
    return this._async(ASYNC.string, f, input);
  }
  invokeAsync(f, ...args) { return this._async(ASYNC.invoke, f, args); }
  _async(kind, f, args) {
    try {
      return N.callAsync(kind, this._h, this._f(f)._h, args);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  /** Stops the running call (from a timer, another callback...): InterruptedError. */
  interrupt() { if (this._h) N.instanceOp(this._h, 1); }
  /** Instantiates afresh (after a failed call). */
  reset() { N.instanceOp(this._h, 0); }
  get fuelUsed() { return N.instanceOp(this._h, 2); }
  get memorySize() { return N.instanceOp(this._h, 3); }
  /** The pid of the worker process of an isolated instance, else 0. */
  get workerPid() { return N.instanceOp(this._h, 4); }
  get closed() { return this._h === null; }
  /** Frees the instance, or gives it back to its pool. Safe to call twice. */
  close() {
    if (this._h) N.close(this._h);
    this._h = null;
  }
}

class Pool {
  constructor(plugin, { maxUses = 0, maxIdle = 4 } = {}) {
    this.plugin = plugin;
    this._h = N.poolNew(handle(plugin, 'plugin'), maxUses, maxIdle);
  }
  /** An instance; close() it to give it back. */
  take() { return new Instance(N.poolTake(handle(this, 'pool')), this.plugin, this); }
  /** Takes an instance, runs fn(instance), gives it back (also on error); returns fn's result. */
  use(fn) {
    const inst = this.take();
    let ret;
    try {
      ret = fn(inst);
    } catch (e) {
      inst.close();
      throw e;
    }
    if (ret && typeof ret.then === 'function') {
      return Promise.resolve(ret).finally(() => inst.close());
    }
    inst.close();
    return ret;
  }
  get idle() { return N.poolIdle(handle(this, 'pool')); }
  close() {
    if (this._h) N.close(this._h);
    this._h = null;
  }
}

module.exports = {
  Engine, Manifest, Plugin, Instance, Pool, Func, ...errors,
};
