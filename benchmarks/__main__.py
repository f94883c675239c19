"""pyoci against runc and crun on the same bundles, in one interleaved run.

    sudo .venv/bin/python -m benchmarks            # everything, ~15 minutes
    sudo .venv/bin/python -m benchmarks --quick    # a smoke run, ~2 minutes

Writes benchmarks/results.json, results.md and results.png (the last
needs matplotlib: `pip install -e '.[bench]'`). Run it when the machine is
quiet: the load average and the processes competing for CPU are recorded
with the figures."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import items
from benchmarks.measure import (HERE, Runtime, busy_processes, load_average,
                                machine, write_json)


def _compile(source, target):
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(target),
                    str(HERE / source)], check=True)
    return str(target)


def _pyoci_default():
    return str(Path(sys.executable).with_name("pyoci"))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="few rounds and 50 containers: checks the runner")
    parser.add_argument("--rounds", type=int, help="rounds of run / lifecycle")
    parser.add_argument("--density", type=int, help="idle containers (1000)")
    parser.add_argument("--only", action="append",
                        choices=("run", "lifecycle", "docker", "memory",
                                 "density", "scaling"),
                        help="measure only these items (repeatable); the "
                             "others are kept from the existing results.json")
    parser.add_argument("--pyoci", default=_pyoci_default())
    parser.add_argument("--out", default=str(HERE))
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("needs root (it creates real containers)")
    rounds = args.rounds or (5 if args.quick else 40)
    dense = args.density or (50 if args.quick else 1000)
    wanted = set(args.only or ("run", "lifecycle", "docker", "memory", "density",
                               "scaling"))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    results = {}
    if args.only and results_path.exists():
        import json
        results = json.loads(results_path.read_text())

    work = Path(tempfile.mkdtemp(prefix="pyoci-bench-"))
    os.chmod(work, 0o755)
    state = Path(tempfile.mkdtemp(prefix="pyoci-bench-", dir="/run"))
    try:
        from pyoci.tests.integration.harness import make_rootfs
        make_rootfs(work / "rootfs")
        floor = _compile("floor.c", work / "floor")
        crun = shutil.which("crun")
        runtimes = [Runtime("pyoci", [args.pyoci], state / "pyoci"),
                    Runtime("runc", [shutil.which("runc") or "runc"], state / "runc")]
        probe = None
        if crun:
            wrapper = _compile("crun_hybrid.c", work / "crun-hybrid")
            # the wrapper alone, to subtract from crun's figures
            probe = [wrapper, "/bin/true"]
            runtimes.append(Runtime("crun", [crun], state / "crun", wrapper=[wrapper]))
        setup = items.Setup(work, runtimes, floor, probe)
        results["machine"] = machine(runtimes)
        results["machine"]["load_before"] = load_average()
        results["machine"]["busy_before"] = busy_processes()
        results["settings"] = {"rounds": rounds, "density": dense,
                               "pyoci": args.pyoci}
        steps = [
            ("run", lambda: items.run_true(setup, rounds * 2)),
            ("lifecycle", lambda: items.lifecycle(setup, rounds)),
            ("docker", lambda: _docker(setup, max(5, rounds // 2))),
            ("memory", lambda: items.memory(setup)),
            ("scaling", lambda: items.scaling(setup, max(3, rounds // 4))),
            ("density", lambda: items.density(setup, dense)),
        ]
        for name, step in steps:
            if name not in wanted:
                continue
            began = time.monotonic()
            print("benchmarks: %s ..." % name, file=sys.stderr, flush=True)
            try:
                results[name] = step()
            except Exception as e:
                items.kill_leftovers(setup)
                results[name] = {"error": str(e)[:2000]}
            results[name]["seconds"] = round(time.monotonic() - began, 1)
        results["machine"]["load_after"] = load_average()
    finally:
        for rt in ("pyoci", "runc", "crun"):
            shutil.rmtree(state / rt, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    write_json(results_path, results)
    from benchmarks import report
    report.write(results, out)
    print("benchmarks: wrote %s/results.{json,md,png}" % out, file=sys.stderr)
    return 0


def _docker(setup, rounds):
    from benchmarks import docker
    return docker.docker_run(setup, rounds)


if __name__ == "__main__":
    sys.exit(main())
