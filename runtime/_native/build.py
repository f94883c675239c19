"""cffi build scripts (out-of-line API mode) for the C helper and for the
libseccomp binding. Used by setup.py at build time; not installed."""
import os
import re
import subprocess

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
# setuptools wants source paths relative to setup.py, which sits two up.
RELATIVE = os.path.relpath(HERE, os.path.dirname(os.path.dirname(HERE)))


def _read(name):
    with open(os.path.join(HERE, name)) as f:
        return f.read()


def _package_version():
    text = _read(os.path.join("..", "__init__.py"))
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


def _commit():
    try:
        out = subprocess.run(
            ["git", "-C", HERE, "rev-parse", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out or "unknown"


ffibuilder = FFI()
ffibuilder.cdef(_read("helper.h"))
ffibuilder.set_source(
    "pyoci.runtime._native._helper",
    '#include "helper.h"',
    sources=[os.path.join(RELATIVE, "helper.c")],
    include_dirs=[RELATIVE],
    define_macros=[
        ("PYOCI_VERSION", '"%s"' % _package_version()),
        ("PYOCI_COMMIT", '"%s"' % _commit()),
    ],
    extra_compile_args=["-Wall", "-Wextra", "-Werror", "-O2"],
)

# Imported only for a config with linux.seccomp (and by `features`), so
# that other commands never load libseccomp.
seccomp_ffibuilder = FFI()
seccomp_ffibuilder.cdef(_read("libseccomp.h"))
seccomp_ffibuilder.set_source(
    "pyoci.runtime._native._libseccomp",
    "#include <stdlib.h>\n#include <seccomp.h>",
    libraries=["seccomp"],
    extra_compile_args=["-Wall", "-Wextra", "-Werror", "-O2"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
    seccomp_ffibuilder.compile(verbose=True)
