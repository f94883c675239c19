"""`update`'s flags and `events --interval` as runc reads them, and how an
update is folded into the stored resources (no root needed)."""
import pytest

from pyoci.runtime import cli
from pyoci.runtime.errors import UsageError
from pyoci.runtime.lifecycle.container import _merge_resources, _with_cpu_pair


class Quiet:
    def __init__(self):
        self.lines = []

    def write(self, level, message):
        self.lines.append((level, message))


def flags(*argv):
    args = cli.build_parser().parse_args(cli._normalize(
        ["update"] + list(argv) + ["ID"]))
    log = Quiet()
    return cli._resources_from_flags(args, log), log.lines


def test_sizes_are_docker_ram_in_bytes():
    assert cli._ram_in_bytes("memory", "512") == 512
    assert cli._ram_in_bytes("memory", "32m") == 32 << 20
    assert cli._ram_in_bytes("memory", "1.5g") == 3 << 29
    assert cli._ram_in_bytes("memory", "64MiB") == 64 << 20
    assert cli._ram_in_bytes("memory", "4 kB") == 4096
    assert cli._ram_in_bytes("memory", "-1") == -1
    for text in ("lots", "-2", "1x", ""):
        with pytest.raises(UsageError, match="invalid value for memory"):
            cli._ram_in_bytes("memory", text)


def test_durations_are_go_durations():
    assert cli._duration("5s") == 5
    assert cli._duration("250ms") == 0.25
    assert cli._duration("1m30s") == 90
    assert cli._duration("1.5h") == 5400
    assert cli._duration("0") == 0
    for text in ("5", "s", "5 s", "1d"):
        with pytest.raises(Exception, match="invalid duration"):
            cli._duration(text)


def test_flags_build_a_resources_object():
    resources, warnings = flags(
        "--memory", "32m", "--memory-swap=-1", "-memory-reservation", "8m",
        "--cpu-share", "512", "--cpu-quota", "-1", "--cpu-period", "100000",
        "--cpuset-cpus", "0-1", "--cpuset-mems", "0", "--blkio-weight", "300",
        "--pids-limit", "20", "--cpu-rt-runtime", "950", "--cpu-idle", "1")
    assert resources == {
        "memory": {"limit": 32 << 20, "swap": -1, "reservation": 8 << 20},
        "cpu": {"shares": 512, "quota": -1, "period": 100000, "idle": 1,
                "realtimeRuntime": 950, "cpus": "0-1", "mems": "0"},
        "blockIO": {"weight": 300}, "pids": {"limit": 20}}
    assert warnings == []


def test_flag_spellings_and_refusals():
    assert flags("--cpu-shares", "2")[0] == {"cpu": {"shares": 2}}
    assert flags()[0] == {}
    resources, warnings = flags("--kernel-memory", "1m")
    assert resources == {}
    assert warnings == [("warning", "Kernel memory settings are ignored and "
                                    "will be removed")]
    with pytest.raises(UsageError, match="cpu-period"):
        flags("--cpu-period", "-5")
    with pytest.raises(UsageError, match="pids-limit"):
        flags("--pids-limit", "many")


def test_merge_keeps_what_zero_values_leave_alone():
    stored = {"memory": {"limit": 64}, "cpu": {"shares": 2, "quota": 5},
              "devices": [{"allow": False, "access": "rwm"}]}
    _merge_resources(stored, {"memory": {"limit": 32, "swap": 0},
                              "cpu": {"shares": 0, "idle": 0, "cpus": "1"},
                              "pids": {"limit": 9}, "blockIO": None})
    assert stored == {"memory": {"limit": 32},
                      "cpu": {"shares": 2, "quota": 5, "idle": 0, "cpus": "1"},
                      "pids": {"limit": 9},
                      "devices": [{"allow": False, "access": "rwm"}]}


def test_quota_or_period_alone_keeps_the_other():
    stored = {"quota": 20000, "period": 50000}
    assert _with_cpu_pair({"cpu": {"quota": 10000}}, stored) == {
        "cpu": {"quota": 10000, "period": 50000}}
    assert _with_cpu_pair({"cpu": {"period": 80000, "quota": 0}}, stored) == {
        "cpu": {"period": 80000, "quota": 20000}}
    both = {"cpu": {"quota": 1, "period": 2}}
    assert _with_cpu_pair(both, stored) is both
    assert _with_cpu_pair({"memory": {}}, stored) == {"memory": {}}
