'use strict';
// Paths the tests read from the environment test.sh sets (bindings/CMakeLists.txt).
const path = require('path');
const fs = require('fs');

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through bindings/node/test.sh`);
  return v;
}

const fixtures = need('WP_FIXTURES');
const plugins = need('WP_PLUGINS');

function fixture(name) { return path.join(fixtures, name); }
function plugin(name) {
  const p = path.join(plugins, name);
  if (!fs.existsSync(p)) throw new Error(`${p} is missing: build the example plugins first`);
  return p;
}

module.exports = { fixture, plugin, wp: require('..') };
