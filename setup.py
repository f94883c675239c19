"""Build glue that pyproject.toml cannot express: the package list under the
one `pyoci` namespace, the cffi modules, keeping its build script out of
the installed package, and the `pyoci` command (bin/pyoci, a launcher that
starts the interpreter without site: see its comments)."""
import os

from setuptools import setup
from setuptools.command.build_py import build_py

TOP_LEVEL = ("runtime", "spec", "conformance", "tests")
NATIVE_BUILD_SCRIPT = ("pyoci.runtime._native", "build")


def find_packages():
    found = []
    for top in TOP_LEVEL:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if not d.startswith((".", "__"))]
            if "__init__.py" in filenames:
                found.append("pyoci." + dirpath.replace(os.sep, "."))
    return found


class BuildPyWithoutNativeBuildScript(build_py):
    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if (m[0], m[1]) != NATIVE_BUILD_SCRIPT]


setup(
    packages=find_packages(),
    package_data={"pyoci.spec": ["schema/*.json"]},
    cffi_modules=["runtime/_native/build.py:ffibuilder",
                  "runtime/_native/build.py:seccomp_ffibuilder"],
    cmdclass={"build_py": BuildPyWithoutNativeBuildScript},
    scripts=["bin/pyoci"],
)
