"""The state store on its own: ids, atomic writes, one winner per id."""
import json
import os
import signal
import subprocess
import sys

import pytest

from pyoci.runtime.errors import AlreadyExists, UsageError
from pyoci.runtime.lifecycle.store import Store

HOSTILE_IDS = ["../x", "/x", "a/b", ".", "..", "", "x" * 2000, "a\0b", "a b"]


@pytest.mark.parametrize("container_id", HOSTILE_IDS, ids=repr)
def test_hostile_ids_are_refused_before_any_path_is_made(tmp_path, container_id):
    store = Store(tmp_path / "root")
    with pytest.raises(UsageError, match="invalid container id"):
        store.create(container_id)
    assert not (tmp_path / "root").exists()
    assert os.listdir(tmp_path) == []


def test_one_of_many_creators_wins(tmp_path):
    store = Store(tmp_path)
    store.create("one")
    with pytest.raises(AlreadyExists, match="container with id one already exists"):
        store.create("one")


WRITER = """
import sys
from pyoci.runtime.lifecycle.store import Store
store = Store(sys.argv[1])
n = 0
print("ready", flush=True)
while True:
    n += 1
    store.write("c", {"n": n, "padding": "x" * (1 << 20)})
"""


def test_sigkill_during_state_writes_never_leaves_a_torn_file(tmp_path):
    store = Store(tmp_path)
    store.create("c")
    store.write("c", {"n": 0, "padding": ""})
    for attempt in range(30):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)],
                                  stdout=subprocess.PIPE)
        assert writer.stdout.readline() == b"ready\n"
        # Kill it at a different point of its write loop each time.
        try:
            writer.wait(timeout=0.01 + attempt * 0.007)
        except subprocess.TimeoutExpired:
            pass
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        record = store.read("c")
        assert set(record) == {"n", "padding"}
        assert record["n"] == 0 or len(record["padding"]) == 1 << 20
    with open(tmp_path / "c" / "state.json") as f:
        json.load(f)
