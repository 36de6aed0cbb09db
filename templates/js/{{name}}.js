// {{name}}: a wasmplug Component Model plugin in JavaScript (world
// local:greeter/greeter, wit/world.wit), built by componentize-js.
//
// greet("world") returns "Hello, world!"; the manifest's config key
// `greeting` replaces "Hello", read through the host's wasmplug:plugin/host.
import { configGet } from 'wasmplug:plugin/host@0.1.0';

export function greet(name) {
  const greeting = configGet('greeting') ?? 'Hello';
  return `${greeting}, ${name}!`;
}
