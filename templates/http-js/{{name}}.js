// {{name}}: an HTTP handler in JavaScript, a component of the standard world
// wasi:http/proxy (it runs in `wasmplug serve`, `wasmtime serve -S cli=y`
// and Spin), built by componentize-js against wit/ (the wasi WIT pinned by
// the installed wasmplug, copied in by `wasmplug new`).
//
// POST and PUT answer with the request body; any other method with
//
//     Hello from {{name}}! You asked for GET /the/path?and=query
//
// It exports wasi:http/incoming-handler itself, so componentize-js leaves
// StarlingMonkey's `fetch` event out. The Makefile sets the version of the
// `wasi:...@0.2.N` imports below to the one of wit/.
import { Fields, IncomingBody, OutgoingBody, OutgoingResponse, ResponseOutparam } from "wasi:http/types@0.2.4";

const encoder = new TextEncoder();
// blocking-write-and-flush takes at most 4096 bytes per call.
const WRITE_CHUNK = 4096;
const READ_CHUNK = 65536n;

function methodName(method) {
  return method.tag === "other" ? method.val : method.tag.toUpperCase();
}

// The whole request body. The stream is a child of the body: it is dropped
// before the body is finished.
function readBody(request) {
  const body = request.consume();
  const stream = body.stream();
  const chunks = [];
  let total = 0;
  for (;;) {
    let chunk;
    try {
      chunk = stream.blockingRead(READ_CHUNK);
    } catch (e) {
      if (e.payload && e.payload.tag === "closed") break;
      throw e;
    }
    chunks.push(chunk);
    total += chunk.length;
  }
  stream[Symbol.dispose]();
  IncomingBody.finish(body)[Symbol.dispose]();
  const all = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

function handle(request, responseOut) {
  const method = methodName(request.method());
  let body;
  if (method === "POST" || method === "PUT") {
    body = readBody(request);
  } else {
    const path = request.pathWithQuery() ?? "/";
    body = encoder.encode(`Hello from {{name}}! You asked for ${method} ${path}\n`);
  }
  request[Symbol.dispose]();

  const headers = Fields.fromList([
    ["content-type", encoder.encode("text/plain; charset=utf-8")],
    ["content-length", encoder.encode(String(body.length))],
  ]);
  const response = new OutgoingResponse(headers);
  response.setStatusCode(200);
  const out = response.body();
  ResponseOutparam.set(responseOut, { tag: "ok", val: response });
  const stream = out.write();
  for (let i = 0; i < body.length; i += WRITE_CHUNK) {
    stream.blockingWriteAndFlush(body.subarray(i, i + WRITE_CHUNK));
  }
  stream[Symbol.dispose]();
  OutgoingBody.finish(out, undefined);
}

export const incomingHandler = { handle };
