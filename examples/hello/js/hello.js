// hello: a wasmplug Component Model plugin in JavaScript (world
// example:hello/hello).
//
// greet("world") returns "Hello, world!" and logs "greet called for world"
// through the host's wasmplug:plugin/host.log. Built by componentize-js, see
// pdk/js/README.md.
import { log } from 'wasmplug:plugin/host@0.1.0';

function greetImpl(name) {
  log('info', `greet called for ${name}`);
  return `Hello, ${name}!`;
}

// The world-level export `greet`.
export const greet = greetImpl;

// The interface export `example:hello/greeter`.
export const greeter = { greet: greetImpl };
