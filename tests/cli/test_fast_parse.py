"""The hot commands' own parser reads every command line it accepts
exactly as argparse does, and hands everything else to argparse."""
import pytest

from pyoci.runtime import cli

ACCEPTED = [
    "--root /r create --bundle /b --pid-file /p x",
    "--root=/r --log /l --log-format json create -b /b --console-socket /s "
    "--no-pivot --no-new-keyring --preserve-fds 2 x",
    "-root /r -log /l -log-format=json create -bundle /b -pid-file=/p x",
    "--systemd-cgroup run -d --bundle=/b --keep --no-subreaper x",
    "run --detach --bundle /b x",
    "start x", "state x", "kill x", "kill x 9", "kill x SIGKILL",
    "kill --all x KILL", "kill -a x", "delete -f x", "delete --force x",
    "delete x --force", "list", "list -q", "list --format json",
    "list -f table -q", "--rootless true state x", "--debug --criu c delete x",
]

REFUSED = [
    "--help", "-h", "-v", "--version", "create", "kill -9 x",
    "list --format yaml", "create --bund /b x", "kill x 9 y",
    "create --preserve-fds a x", "exec x ls", "--log-format xml state x",
    "create -b", "state -- x", "--rootless maybe state x", "state x y",
    "delete --force=1 x", "spec", "features", "ps x", "create -b/b x",
]


@pytest.mark.parametrize("line", ACCEPTED)
def test_accepted_lines_parse_as_argparse_parses_them(line):
    argv = cli._normalize(line.split())
    fast = cli._parse_fast(argv)
    assert fast is not None
    assert vars(fast) == vars(cli.build_parser().parse_args(argv))


@pytest.mark.parametrize("line", REFUSED)
def test_other_lines_are_left_to_argparse(line):
    assert cli._parse_fast(cli._normalize(line.split())) is None
