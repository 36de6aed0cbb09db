"""pip install bindings/python: the package, and the optional compiled fast
path: cffi's setuptools hook builds wasmplug._wasmplug_fast from
_fast_build.py against $WASMPLUG_PREFIX (else pkg-config wasmplug). If it
cannot be built (no C compiler, no Python or wasmplug headers), the install
goes on with the ctypes binding alone and says so.

The build's intermediate files go to a temporary directory, not into the
source tree."""
import atexit
import os
import shutil
import tempfile

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    def run(self):
        for ext in self.extensions:
            ext.optional = True     # a failure is a warning, not a failed install
        super().run()


# A fresh directory each time (a build left over would be taken as up to
# date), removed when the build is over.
_tmp = tempfile.mkdtemp(prefix="wasmplug-python-build-")
atexit.register(shutil.rmtree, _tmp, True)

setup(
    cffi_modules=["_fast_build.py:ffibuilder"],
    cmdclass={"build_ext": OptionalBuildExt},
    options={"build": {"build_base": os.path.join(_tmp, "build")},
             "egg_info": {"egg_base": _tmp}},
)
