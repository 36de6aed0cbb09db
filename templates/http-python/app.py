"""{{name}}: an HTTP handler in Python, a component of the standard world
wasi:http/proxy (it runs in `wasmplug serve`, `wasmtime serve -S cli=y` and
Spin), built by componentize-py against wit/ (the wasi WIT pinned by the
installed wasmplug, copied in by `wasmplug new`).

POST and PUT answer with the request body; any other method with

    Hello from {{name}}! You asked for GET /the/path?and=query
"""
from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports import streams
from wit_world.imports.types import (
    Fields,
    IncomingBody,
    IncomingRequest,
    Method_Connect,
    Method_Delete,
    Method_Get,
    Method_Head,
    Method_Options,
    Method_Patch,
    Method_Post,
    Method_Put,
    Method_Trace,
    OutgoingBody,
    OutgoingResponse,
    ResponseOutparam,
)

METHODS = {
    Method_Get: "GET",
    Method_Head: "HEAD",
    Method_Post: "POST",
    Method_Put: "PUT",
    Method_Delete: "DELETE",
    Method_Connect: "CONNECT",
    Method_Options: "OPTIONS",
    Method_Trace: "TRACE",
    Method_Patch: "PATCH",
}
# blocking-write-and-flush takes at most 4096 bytes per call.
WRITE_CHUNK = 4096
READ_CHUNK = 65536


def method_name(method) -> str:
    name = METHODS.get(type(method))
    return name if name is not None else method.value  # Method_Other


def read_body(request: IncomingRequest) -> bytes:
    """The whole request body (the stream must be dropped before finish)."""
    body = request.consume()
    chunks = []
    with body.stream() as stream:
        while True:
            try:
                chunks.append(stream.blocking_read(READ_CHUNK))
            except Err as e:
                if isinstance(e.value, streams.StreamError_Closed):
                    break
                raise
    with IncomingBody.finish(body):
        pass
    return b"".join(chunks)


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: IncomingRequest, response_out: ResponseOutparam) -> None:
        with request:
            method = method_name(request.method())
            if method in ("POST", "PUT"):
                body = read_body(request)
            else:
                path = request.path_with_query() or "/"
                body = f"Hello from {{name}}! You asked for {method} {path}\n".encode()

        headers = Fields.from_list([
            ("content-type", b"text/plain; charset=utf-8"),
            ("content-length", str(len(body)).encode()),
        ])
        response = OutgoingResponse(headers)
        response.set_status_code(200)
        out = response.body()
        ResponseOutparam.set(response_out, Ok(response))
        with out.write() as stream:
            for i in range(0, len(body), WRITE_CHUNK):
                stream.blocking_write_and_flush(body[i:i + WRITE_CHUNK])
        OutgoingBody.finish(out, None)
