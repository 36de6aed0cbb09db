"""wasmplug's errors as Python exceptions, one class per WP_ERR_* kind."""
from ._ffi import lib


class Error(Exception):
    """A wasmplug error. `kind` is the WP_ERR_* number, `kind_name` its short
    name ("trap", "timeout"...), `message` the library's message and
    `backtrace` the wasm backtrace (or None)."""
    kind = 0
    kind_name = "error"

    def __init__(self, message, backtrace=None, kind=None):
        super().__init__(message)
        self.message = message
        self.backtrace = backtrace
        if kind is not None and kind != type(self).kind:
            self.kind = kind


class LoadError(Error):
    """WP_ERR_LOAD: the bytes are not a valid plugin."""
    kind, kind_name = 1, "load"


class LinkError(Error):
    """WP_ERR_LINK: an import is missing or has the wrong type."""
    kind, kind_name = 2, "link"


class Trap(Error):
    """WP_ERR_TRAP: the plugin trapped."""
    kind, kind_name = 3, "trap"


class WasmplugTimeout(Error, TimeoutError):
    """WP_ERR_TIMEOUT: the call ran past its time limit (also a TimeoutError)."""
    kind, kind_name = 4, "timeout"


class Interrupted(Error):
    """WP_ERR_INTERRUPTED: Instance.interrupt() stopped the call."""
    kind, kind_name = 5, "interrupted"


class OutOfFuel(Error):
    """WP_ERR_FUEL: the call used up its fuel."""
    kind, kind_name = 6, "fuel"


class MemoryLimit(Error):
    """WP_ERR_MEMORY_LIMIT: the plugin failed after reaching its memory limit."""
    kind, kind_name = 7, "memory_limit"


class BadInput(Error, ValueError):
    """WP_ERR_BAD_INPUT: the caller passed something wrong (also a ValueError).
    The binding raises it too for Python values that do not fit a WIT type."""
    kind, kind_name = 8, "bad_input"


class AbiError(Error):
    """WP_ERR_ABI: the plugin broke the calling convention."""
    kind, kind_name = 9, "abi"


class HostError(Error):
    """WP_ERR_HOST: a host function failed (a Python callable raised)."""
    kind, kind_name = 10, "host"


class PluginError(Error):
    """WP_ERR_PLUGIN: the plugin reported a failure through wasmplug.error."""
    kind, kind_name = 11, "plugin"


class WasmplugIOError(Error, OSError):
    """WP_ERR_IO: reading or writing a file failed."""
    kind, kind_name = 12, "io"

    def __init__(self, message, backtrace=None, kind=None):
        Error.__init__(self, message, backtrace, kind)

    def __str__(self):
        return self.message


class NotFound(Error, LookupError):
    """WP_ERR_NOT_FOUND: no such export, file or function (also a LookupError)."""
    kind, kind_name = 13, "not_found"


class Busy(Error):
    """WP_ERR_BUSY: no free instance slot in the engine's pool; retry later."""
    kind, kind_name = 14, "busy"


class NoMemory(Error, MemoryError):
    """WP_ERR_NO_MEMORY: the host ran out of memory."""
    kind, kind_name = 15, "no_memory"


KINDS = {c.kind: c for c in (LoadError, LinkError, Trap, WasmplugTimeout, Interrupted, OutOfFuel,
                             MemoryLimit, BadInput, AbiError, HostError, PluginError,
                             WasmplugIOError, NotFound, Busy, NoMemory)}


def from_ptr(err):
    """Turns a wp_error * into an exception and frees the C error."""
    try:
        kind = lib.wp_error_get_kind(err)
        msg = (lib.wp_error_get_message(err) or b"").decode("utf-8", "replace")
        bt = lib.wp_error_get_backtrace(err)
        bt = bt.decode("utf-8", "replace") if bt else None
    finally:
        lib.wp_error_free(err)
    cls = KINDS.get(kind, Error)
    return cls(msg, bt, kind)


def check(err):
    if err:
        raise from_ptr(err)


# The short names are the library's own ("trap", "timeout", ...).
for _k, _cls in KINDS.items():
    _n = lib.wp_error_kind_name(_k)
    if _n:
        _cls.kind_name = _n.decode()
