"""Resources: host resources (Python objects behind handles) and the
plugin's own resources (Resource handles)."""
import pytest

import wasmplug
from conftest import plugin_path

R = "example:types/resources#"


class Counter:
    def __init__(self, n):
        self.n = n


@pytest.fixture
def types_full(engine):
    """The types component with every import defined, resources included."""
    drops = []
    counter = engine.define_resource("example:types/host", "counter", drop=drops.append)
    engine.define_component_func("example:types/host", "[constructor]counter", Counter)

    @engine.define_component_func("example:types/host", "[method]counter.increment")
    def increment(c):
        c.n += 1
        return c.n

    engine.define_component_func("example:types/host", "round-trip", lambda x: x)
    with engine.load(plugin_path("types-c-component.wasm")) as p:   # no missing imports
        yield p, counter, drops


def test_host_resource_made_and_dropped_by_the_plugin(types_full):
    p, counter, drops = types_full
    with p.instance() as inst:
        assert inst.invoke(R + "count-with-host", 5, 3) == 8
        assert len(drops) == 1 and isinstance(drops[0], Counter) and drops[0].n == 8
        assert counter.live == 0


def test_host_objects_lent_and_given(types_full):
    p, counter, drops = types_full
    with p.instance() as inst:
        c = Counter(10)
        assert inst.invoke(R + "bump", c) == 11          # borrow<counter>: lent
        assert c.n == 11
        assert inst.invoke(R + "bump", c) == 12
        given = Counter(1)
        assert inst.invoke(R + "consume", given) == 2    # own<counter>: given, then dropped
        assert drops == [given]
        assert counter.live == 2                         # the two handles lent to bump
    # the instance is gone: every handle it held has been dropped, once each
    assert counter.live == 0
    assert len(drops) == 3 and drops.count(c) == 2


def test_plugin_resources(types_full):
    p, _, _ = types_full
    with p.instance() as inst:
        blob = inst.invoke(R + "[constructor]blob", b"abc")
        assert isinstance(blob, wasmplug.Resource) and blob.own and blob.name == "blob"
        assert inst.invoke(R + "[method]blob.size", blob) == 3
        assert inst.invoke(R + "[method]blob.append", blob, b"de") is None
        assert inst.invoke(R + "blob-size", blob) == 5
        blob.drop()
        with pytest.raises(wasmplug.Error):
            inst.invoke(R + "blob-size", blob)


def test_resource_type_errors(types_full):
    p, _, _ = types_full
    with p.instance() as inst:
        with pytest.raises(wasmplug.BadInput, match="blob"):
            inst.invoke(R + "blob-size", object())     # blob is the plugin's, not the host's


def test_without_resources_defined_the_import_is_missing(engine):
    engine.define_component_func("example:types/host", "round-trip", lambda x: x)
    with pytest.raises(wasmplug.LinkError, match="counter"):
        engine.load(plugin_path("types-c-component.wasm"))
