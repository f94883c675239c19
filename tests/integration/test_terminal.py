"""process.terminal: the console socket protocol as Docker and containerd
drive it, and the foreground terminal pyoci relays for a person at a
shell; against pyoci and runc alike where both do it."""
import os

import pytest

from pyoci.tests.integration.harness import (create_with_console, read_pty,
                                             under_pty)

pytestmark = pytest.mark.root


def terminal_bundle(bundle, script, rows=0, columns=0):
    bundle.config["process"]["terminal"] = True
    if rows:
        bundle.config["process"]["consoleSize"] = {"height": rows, "width": columns}
    return bundle.shell(script).write()


def test_console_socket_gets_the_pty_master(runtime, bundle, cid, tmp_path):
    path = terminal_bundle(
        bundle, "tty; stty size; stat -c %t:%T /dev/console; "
        "stat -L -c %t:%T /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2",
        rows=33, columns=101)
    created, payload, fds = create_with_console(
        runtime, tmp_path / "console.sock", "create", "--bundle", path, cid)
    assert created.returncode == 0, created.stderr
    assert len(fds) == 1
    assert payload == b"/dev/ptmx"  # the master's path, as runc sends it
    try:
        runtime("start", cid)
        lines = read_pty(fds[0]).split()
    finally:
        os.close(fds[0])
        runtime("delete", "--force", cid)
    assert lines[0].startswith("/dev/pts/")
    assert lines[1:3] == ["33", "101"]
    # /dev/console and fds 0-2 are all the one pty slave
    assert len(set(lines[3:])) == 1 and len(lines[3:]) == 4


@pytest.mark.parametrize("terminal, socket, message", [
    (True, False, "cannot allocate tty if runc will detach without setting "
                  "console socket"),
    (False, True, "cannot use console socket if runc will not detach or "
                  "allocate tty"),
])
def test_terminal_and_console_socket_go_together(runtime, bundle, cid, tmp_path,
                                                 terminal, socket, message):
    bundle.config["process"]["terminal"] = terminal
    args = ["create", "--bundle", bundle.shell("true").write(), cid]
    if socket:
        args[1:1] = ["--console-socket", tmp_path / "none.sock"]
    result = runtime(*args, check=False)
    assert result.returncode != 0
    assert message in result.stderr


def test_run_in_the_foreground_relays_a_terminal(pyoci, bundle, cid):
    # pyoci only: runc 1.1.5 starts the program before it sizes the pty, so
    # `stty size` there may see 0x0.
    path = terminal_bundle(bundle, "tty; stty size; read line; echo got $line; "
                                   "exit 3")
    code, output = under_pty(pyoci.command("run", "--bundle", path, cid),
                             24, 91, typed=b"hello\n")
    lines = output.split("\n")
    assert code == 3, output
    assert lines[0].startswith("/dev/pts/")
    assert lines[1] == "24 91"
    assert "got hello" in lines


def test_exec_tty_in_the_foreground(runtime, bundle, cid):
    runtime("run", "--detach", "--bundle", bundle.shell(
        "sleep 1000; : %s" % cid).write(), cid)
    try:
        code, output = under_pty(runtime.command(
            "exec", "-t", cid, "sh", "-c", "tty; read x; echo got $x; exit 5"),
            30, 80, typed=b"typed\n")
    finally:
        runtime("delete", "--force", cid)
    assert code == 5, output
    assert output.split("\n")[0].startswith("/dev/pts/")
    assert "got typed" in output


def test_exec_with_a_console_socket(runtime, bundle, cid, tmp_path):
    runtime("run", "--detach", "--bundle", bundle.shell(
        "sleep 1000; : %s" % cid).write(), cid)
    try:
        created, payload, fds = create_with_console(
            runtime, tmp_path / "console.sock", "exec", "--detach", "--tty",
            "--pid-file", tmp_path / "pid", cid, "sh", "-c",
            "tty; echo $((6 * 7))")
        assert created.returncode == 0, created.stderr
        assert len(fds) == 1
        output = read_pty(fds[0]).split()
        os.close(fds[0])
        assert (tmp_path / "pid").read_text().isdigit()
    finally:
        runtime("delete", "--force", cid)
    assert output[0].startswith("/dev/pts/") and output[1] == "42"
