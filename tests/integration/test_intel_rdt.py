"""linux.intelRdt. This host has no resctrl (the kernel lists no such
filesystem), so a real container can only show the refusal; the group
rules of config-linux.md are checked on a fake resctrl tree (plain
directories and files: the kernel's own checks of what is written are not
exercised, and a plain directory does not make its tasks and schemata
files, so the fake makes them)."""
import json
import os

import pytest

from pyoci.runtime.errors import SyscallError
from pyoci.runtime.linux import intelrdt
from pyoci.tests.integration.harness import RUNC, Runtime


def host_has_resctrl():
    return intelrdt.resctrl_root() is not None


@pytest.mark.root
@pytest.mark.skipif(host_has_resctrl(), reason="this host has resctrl")
def test_a_config_asking_for_it_is_refused_and_leaves_nothing(pyoci, bundle, cid):
    bundle.linux["intelRdt"] = {"closID": "guaranteed_group", "schemata": ["L3:0=7f0"]}
    result = pyoci("create", "--bundle", bundle.shell("sleep 1000; : %s" % cid).write(),
                   cid, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == ("pyoci: intelRdt is specified in config, but "
                                     "Intel RDT is not enabled: no resctrl "
                                     "filesystem is mounted")
    assert pyoci("list", "-q").stdout.split() == []
    features = json.loads(pyoci("features").stdout)
    assert features["linux"]["intelRdt"] == {"enabled": False}


@pytest.mark.root
@pytest.mark.skipif(not RUNC or host_has_resctrl(), reason="no runc, or resctrl")
def test_runc_1_1_refuses_only_the_schemas_it_knows(bundle, cid, tmp_path, state_roots):
    state_roots.append(tmp_path / "runc-state")
    runc = Runtime("runc", [RUNC], tmp_path / "runc-state")
    bundle.linux["intelRdt"] = {"l3CacheSchema": "L3:0=7f0"}
    result = runc("run", "--bundle", bundle.shell("true").write(), cid, check=False)
    assert result.returncode == 1
    assert "intelRdt.l3CacheSchema is specified in config, but Intel RDT/CAT is " \
        "not enabled" in result.stderr
    # A closID alone runs, with no resctrl group: runc 1.1.5 misses the
    # spec's "MUST generate an error" (pyoci refuses, above).
    bundle.linux["intelRdt"] = {"closID": "guaranteed_group"}
    assert runc("run", "--bundle", bundle.write(), cid, check=False).returncode == 0


# -- the group rules, on a fake resctrl tree ---------------------------------

class FakeResctrl:
    def __init__(self, path):
        self.root = path
        (path / "info" / "L3").mkdir(parents=True)
        (path / "info" / "MB").mkdir()
        (path / "info" / "last_cmd_status").write_text("ok\n")
        self.group("", "L3:0=7ff;1=7ff\nMB:0=100;1=100\n")

    def group(self, name, schemata=""):
        path = self.root / name
        path.mkdir(exist_ok=True)
        (path / "schemata").write_text(schemata)
        (path / "tasks").write_text("")
        (path / "mon_groups").mkdir(exist_ok=True)
        return path


@pytest.fixture
def resctrl(tmp_path):
    return FakeResctrl(tmp_path / "resctrl")


def open_group(resctrl, rdt, container_id="c1"):
    intelrdt.check(rdt, str(resctrl.root))
    return intelrdt.ResctrlGroup.open(rdt, container_id, str(resctrl.root))


def test_without_clos_id_the_container_id_group_is_made_and_removed(resctrl):
    rdt = {"l3CacheSchema": "L3:0=f0;1=f", "memBwSchema": "MB:0=20;1=70",
           "schemata": ["L2:0=f"]}
    group = open_group(resctrl, rdt)
    path = resctrl.root / "c1"
    assert group.path == str(path)
    # l3CacheSchema first, memBwSchema next, schemata last
    assert (path / "schemata").read_text() == "L3:0=f0;1=f\nMB:0=20;1=70\nL2:0=f\n"
    group.add_process(42, "c1", False, str(resctrl.root))
    assert (path / "tasks").read_text() == "42"
    group = intelrdt.ResctrlGroup.from_record(json.loads(json.dumps(group.to_record())))
    for name in ("tasks", "schemata"):      # what the kernel would remove
        (path / name).unlink()
    group.destroy()
    assert not path.exists()


def test_monitoring_gets_a_group_of_its_own_that_delete_removes(resctrl):
    gold = resctrl.group("gold")
    group = open_group(resctrl, {"closID": "gold", "enableMonitoring": True}, "c1")
    group.add_process(42, "c1", True, str(resctrl.root))
    monitor = gold / "mon_groups" / "c1"
    assert (gold / "tasks").read_text() == "42" and (monitor / "tasks").read_text() == "42"
    group = intelrdt.ResctrlGroup.from_record(json.loads(json.dumps(group.to_record())))
    (monitor / "tasks").unlink()
    group.destroy()
    assert not monitor.exists() and gold.is_dir()


def test_an_existing_clos_id_group_is_compared_not_written(resctrl):
    existing = resctrl.group("gold", "    L3:0=0ff;1=7ff\n    MB:0=20;1=100\n")
    group = open_group(resctrl, {"closID": "gold", "l3CacheSchema": "L3:0=ff",
                                 "memBwSchema": "MB:0=20"})
    assert group.path == str(existing) and not group.remove
    assert (existing / "schemata").read_text().startswith("    L3:0=0ff")
    with pytest.raises(SyscallError, match="gold exists with other schemata: "
                       "L3:0=f asked, 0ff there"):
        open_group(resctrl, {"closID": "gold", "l3CacheSchema": "L3:0=f"})
    group.destroy()
    assert existing.is_dir()        # a closID group is never removed


def test_a_clos_id_group_without_schemata_must_exist(resctrl):
    with pytest.raises(SyscallError, match="resctrl group .*silver does not exist"):
        open_group(resctrl, {"closID": "silver"})
    assert not (resctrl.root / "silver").exists()
    resctrl.group("silver")
    assert open_group(resctrl, {"closID": "silver"}).path.endswith("/silver")


def test_a_missing_clos_id_group_with_schemata_is_made_and_kept(resctrl):
    group = open_group(resctrl, {"closID": "bronze", "schemata": ["L3:0=3"]})
    assert (resctrl.root / "bronze" / "schemata").read_text() == "L3:0=3\n"
    group.destroy()
    assert (resctrl.root / "bronze").is_dir()


def test_slash_is_the_default_clos(resctrl):
    group = open_group(resctrl, {"closID": "/", "l3CacheSchema": "L3:0=7ff"})
    assert group.path == str(resctrl.root) and not group.remove


def test_a_schema_for_a_resource_the_host_lacks_is_refused(resctrl):
    (resctrl.root / "info" / "MB").rmdir()
    with pytest.raises(SyscallError, match="RDT/MBA is not enabled"):
        intelrdt.check({"memBwSchema": "MB:0=20"}, str(resctrl.root))
    with pytest.raises(SyscallError, match="no resctrl filesystem is mounted"):
        intelrdt.check({}, None)


def test_a_refused_write_names_last_cmd_status(resctrl):
    (resctrl.root / "info" / "last_cmd_status").write_text("Unknown or unsupported resource\n")
    os.makedirs(resctrl.root / "c2" / "schemata")   # a write that fails
    with pytest.raises(SyscallError, match=r"cannot write 'L3:0=1' to .*schemata: "
                       r"Is a directory \(last_cmd_status: Unknown"):
        open_group(resctrl, {"l3CacheSchema": "L3:0=1"}, "c2")
    assert (resctrl.root / "c2").is_dir()    # not made by this create: kept
