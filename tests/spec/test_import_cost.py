"""The hot path (`create`, `exec`) loads and validates a config without
paying for jsonschema, pyroute2 or the heavier stdlib modules."""
import subprocess
import sys

HOT_PATH = ("import pyoci.spec.load, pyoci.spec.validate, pyoci.spec.model, pyoci.spec.state, "
            "pyoci.spec.defaults; "
            "pyoci.spec.validate.check_config(pyoci.spec.defaults.default_config()); "
            "pyoci.spec.model.Config.from_dict(pyoci.spec.defaults.default_config())")
FORBIDDEN = {"jsonschema", "referencing", "pyroute2", "typing", "dataclasses", "inspect"}


def imported_modules(code):
    """Modules `code` imports beyond what the interpreter itself starts with."""
    def run(source):
        result = subprocess.run([sys.executable, "-X", "importtime", "-c", source],
                                capture_output=True, text=True, check=True)
        return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:") and "|" in line}
    return run(code) - run("pass")


def test_hot_path_imports_stay_light():
    modules = imported_modules(HOT_PATH)
    assert "pyoci.spec.validate" in modules and "pyoci.spec.minischema" in modules
    assert not {m.split(".")[0] for m in modules} & FORBIDDEN, sorted(modules)


def test_full_report_is_where_jsonschema_comes_in():
    modules = imported_modules("import pyoci.spec.full")
    assert "jsonschema" in modules
