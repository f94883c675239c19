"""The pyoci command line: runc's commands and flags, one function per
command, and the one place where errors become messages, log lines and
exit codes (see ../shared/CALLERS.md for the contract).

The commands callers run for every container (create, run, start, state,
kill, delete, list) are parsed by a small table-driven parser: importing
argparse and building the whole parser costs about 5 ms, more than a
quarter of runc's entire `state`. It accepts only command lines it fully
understands; anything else (help, --version, abbreviations, an unknown
flag, a bad value, a missing argument, another command) goes to argparse,
which stays the reference for behaviour and messages."""
import os
import sys

from pyoci.runtime import SPEC_VERSION, __version__
from pyoci.runtime.errors import PyociError, UsageError
from pyoci.runtime.timestamps import rfc3339_now
from pyoci.spec import jsonio

# Long options that callers also spell with one dash (Go's flag syntax).
_LONG_OPTIONS = {
    "root", "log", "log-format", "debug", "systemd-cgroup", "rootless", "criu",
    "bundle", "pid-file", "console-socket", "no-pivot", "no-new-keyring",
    "preserve-fds", "no-subreaper", "detach", "keep", "force", "all",
    "format", "quiet", "help", "version", "process", "tty", "env", "cwd",
    "user", "additional-gids", "cap", "no-new-privs", "apparmor",
    "process-label", "resources", "interval", "stats", "memory",
    "memory-reservation", "memory-swap", "kernel-memory", "kernel-memory-tcp",
    "cpu-share", "cpu-shares", "cpu-quota", "cpu-period", "cpu-burst",
    "cpu-idle", "cpu-rt-period", "cpu-rt-runtime", "cpuset-cpus",
    "cpuset-mems", "blkio-weight", "pids-limit", "l3-cache-schema",
    "mem-bw-schema",
}


class Log:
    """Where messages go: the --log file (text or logrus-style JSON lines)
    or stderr."""

    def __init__(self, path=None, fmt="text", debug=False):
        self.path = path
        self.format = fmt
        self.debug = debug

    def write(self, level, message):
        if self.path:
            if self.format == "json":
                line = jsonio.dumps({"level": level, "msg": message,
                                   "time": rfc3339_now()})
            else:
                line = "%s level=%s msg=%s" % (rfc3339_now(), level,
                                               jsonio.dumps(message))
            try:
                with open(self.path, "a") as f:
                    f.write(line + "\n")
            except OSError:
                pass
        if level == "error" or not self.path:
            sys.stderr.write("pyoci: %s%s\n" % (
                "" if level == "error" else level + ": ", message))

    def warnings(self, messages):
        for message in messages:
            self.write("warning", message)


def _normalize(argv):
    """`-root x` and `-pid-file=x` as `--root x` and `--pid-file=x`."""
    result = []
    for arg in argv:
        if arg == "--":
            result.extend(argv[len(result):])
            break
        if len(arg) > 2 and arg[0] == "-" and arg[1] != "-" \
                and arg[1:].split("=", 1)[0] in _LONG_OPTIONS:
            arg = "-" + arg
        result.append(arg)
    return result


def _bool_flag(text):
    lowered = text.lower()
    if lowered in ("true", "1", "yes", "auto"):
        return lowered
    if lowered in ("false", "0", "no"):
        return "false"
    import argparse
    raise argparse.ArgumentTypeError("expected true, false or auto")


def build_parser():
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message):
            raise UsageError(message)

    parser = _Parser(prog="pyoci", description="An OCI container runtime.")
    parser.add_argument("--root", default="/run/pyoci",
                        help="state directory (default /run/pyoci)")
    parser.add_argument("--log", help="log file")
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    parser.add_argument("--debug", action="store_true")
    parser.add_argument("--systemd-cgroup", action="store_true")
    parser.add_argument("--rootless", type=_bool_flag, default="auto")
    parser.add_argument("--criu", help=argparse.SUPPRESS)
    parser.add_argument("--version", "-v", action="store_true")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    def command(name, handler, help_text):
        sub = commands.add_parser(name, help=help_text)
        sub.set_defaults(handler=handler)
        return sub

    def container_id(sub):
        sub.add_argument("id", metavar="container-id")

    for name, handler, text in (("create", cmd_create, "create a container"),
                                ("run", cmd_run, "create and run a container")):
        sub = command(name, handler, text)
        sub.add_argument("--bundle", "-b", default=".")
        sub.add_argument("--pid-file")
        sub.add_argument("--console-socket")
        sub.add_argument("--no-pivot", action="store_true")
        sub.add_argument("--no-new-keyring", action="store_true")
        sub.add_argument("--preserve-fds", type=int, default=0)
        if name == "run":
            sub.add_argument("--detach", "-d", action="store_true")
            sub.add_argument("--no-subreaper", action="store_true")
            sub.add_argument("--keep", action="store_true")
        container_id(sub)

    sub = command("exec", cmd_exec, "run a process in a running container")
    sub.add_argument("--process", "-p", help="a process JSON file")
    sub.add_argument("--tty", "-t", action="store_true")
    sub.add_argument("--env", "-e", action="append", default=[])
    sub.add_argument("--cwd")
    sub.add_argument("--user", "-u", help="uid[:gid]")
    sub.add_argument("--additional-gids", "-g", action="append", type=int,
                     default=[])
    sub.add_argument("--cap", "-c", action="append", default=[])
    sub.add_argument("--no-new-privs", action="store_true")
    sub.add_argument("--apparmor")
    sub.add_argument("--process-label")
    sub.add_argument("--detach", "-d", action="store_true")
    sub.add_argument("--pid-file")
    sub.add_argument("--console-socket")
    sub.add_argument("--preserve-fds", type=int, default=0)
    container_id(sub)
    sub.add_argument("argv", metavar="command", nargs=argparse.REMAINDER)

    container_id(command("start", cmd_start, "start a created container"))
    container_id(command("state", cmd_state, "print a container's state"))

    sub = command("kill", cmd_kill, "signal a container's init")
    sub.add_argument("--all", "-a", action="store_true")
    container_id(sub)
    sub.add_argument("signal", nargs="?", default="SIGTERM")

    sub = command("delete", cmd_delete, "delete a container")
    sub.add_argument("--force", "-f", action="store_true")
    container_id(sub)

    container_id(command("pause", cmd_pause, "freeze a container's processes"))
    container_id(command("resume", cmd_resume, "thaw a paused container"))

    sub = command("update", cmd_update, "update a container's resource limits")
    sub.add_argument("--resources", "-r",
                     help="a linux.resources JSON file, '-' for stdin "
                          "(the other options are then ignored)")
    for flag, help_text in _UPDATE_FLAGS:
        sub.add_argument("--" + flag, help=help_text or argparse.SUPPRESS)
    sub.add_argument("--cpu-shares", dest="cpu_share", help=argparse.SUPPRESS)
    container_id(sub)

    sub = command("ps", cmd_ps, "list the processes of a container")
    sub.add_argument("--format", "-f", default="table",
                     help="table (runs ps with the given options) or json")
    container_id(sub)
    sub.add_argument("ps_args", metavar="ps-options", nargs=argparse.REMAINDER)

    sub = command("events", cmd_events, "print a container's stats and OOM "
                                        "events as JSON lines")
    sub.add_argument("--interval", type=_duration, default=5.0,
                     help="seconds between stats, Go syntax (5s, 500ms)")
    sub.add_argument("--stats", action="store_true",
                     help="print the stats once and exit")
    container_id(sub)

    sub = command("list", cmd_list, "list containers")
    sub.add_argument("--format", "-f", choices=("table", "json"), default="table")
    sub.add_argument("--quiet", "-q", action="store_true")

    sub = command("spec", cmd_spec, "write a default config.json")
    sub.add_argument("--bundle", "-b", default=".")
    sub.add_argument("--rootless", action="store_true")

    sub = command("validate", cmd_validate, "validate a bundle's config.json")
    sub.add_argument("--bundle", "-b", default=".")

    command("features", cmd_features, "print the OCI features document")
    return parser


# runc's `update` flags: (name, help or None when hidden); all take a
# string, parsed later.
_UPDATE_FLAGS = (
    ("memory", "memory limit (bytes, or 512m, 1g; -1 unlimited)"),
    ("memory-reservation", "memory soft limit"),
    ("memory-swap", "memory + swap limit; -1 unlimited swap"),
    ("kernel-memory", None),
    ("kernel-memory-tcp", None),
    ("cpu-share", "CPU shares (relative weight)"),
    ("cpu-quota", "CFS quota in microseconds per period"),
    ("cpu-period", "CFS period in microseconds"),
    ("cpu-burst", "CFS burst in microseconds"),
    ("cpu-idle", "1: SCHED_IDLE for the cgroup, 0: default"),
    ("cpu-rt-period", "realtime period in microseconds"),
    ("cpu-rt-runtime", "realtime runtime in microseconds per period"),
    ("cpuset-cpus", "CPUs to use (0-1,3)"),
    ("cpuset-mems", "memory nodes to use"),
    ("blkio-weight", "block IO weight, 10 to 1000"),
    ("pids-limit", "maximum number of processes"),
    ("l3-cache-schema", "Intel RDT L3 cache schema"),
    ("mem-bw-schema", "Intel RDT memory bandwidth schema"),
)

_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3,
                   "s": 1.0, "m": 60.0, "h": 3600.0}


def _duration(text):
    """A Go duration ("5s", "1m30s", "250ms") in seconds."""
    import re
    parts = re.findall(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h)", text)
    if not parts or "".join(a + b for a, b in parts) != text.lstrip("+"):
        if text in ("0", "+0"):
            return 0.0
        import argparse
        raise argparse.ArgumentTypeError("invalid duration %r" % text)
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)


def _ram_in_bytes(flag, text):
    """Docker's RAMInBytes: "512", "32m", "1.5g", "64MiB" (1024-based);
    "-1" is unlimited."""
    import re
    if text == "-1":
        return -1
    match = re.fullmatch(r"(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?", text)
    if not match:
        raise UsageError("invalid value for %s: invalid size: '%s'"
                         % (flag, text))
    power = " kmgtp".index(match.group(2).lower()) if match.group(2) else 0
    return int(float(match.group(1)) * 1024 ** power)


def _integer(flag, text, signed):
    try:
        value = int(text, 10)
    except ValueError:
        raise UsageError("invalid value for %s: %r is not an integer"
                         % (flag, text)) from None
    if value < 0 and not signed:
        raise UsageError("invalid value for %s: %r is not an unsigned integer"
                         % (flag, text))
    return value


def _resources_from_flags(args, log):
    """The linux.resources object runc's update flags describe."""
    memory, cpu = {}, {}
    resources = {}
    for flag, key in (("memory", "limit"), ("memory_swap", "swap"),
                      ("memory_reservation", "reservation")):
        text = getattr(args, flag)
        if text:
            memory[key] = _ram_in_bytes(flag.replace("_", "-"), text)
    if args.kernel_memory or args.kernel_memory_tcp:
        log.write("warning", "Kernel memory settings are ignored and will be "
                             "removed")
    for flag, key, signed in (("cpu_share", "shares", False),
                              ("cpu_quota", "quota", True),
                              ("cpu_period", "period", False),
                              ("cpu_burst", "burst", False),
                              ("cpu_idle", "idle", True),
                              ("cpu_rt_period", "realtimePeriod", False),
                              ("cpu_rt_runtime", "realtimeRuntime", True)):
        text = getattr(args, flag)
        if text:
            cpu[key] = _integer(flag.replace("_", "-"), text, signed)
    if args.cpuset_cpus:
        cpu["cpus"] = args.cpuset_cpus
    if args.cpuset_mems:
        cpu["mems"] = args.cpuset_mems
    if memory:
        resources["memory"] = memory
    if cpu:
        resources["cpu"] = cpu
    if args.blkio_weight:
        resources["blockIO"] = {"weight": _integer("blkio-weight",
                                                   args.blkio_weight, False)}
    if args.pids_limit is not None:
        resources["pids"] = {"limit": _integer("pids-limit", args.pids_limit,
                                               True)}
    return resources


def _read_resources(source):
    try:
        if source == "-":
            return jsonio.loads(sys.stdin.read())
        with open(source) as f:
            return jsonio.loads(f.read())
    except OSError as e:
        raise PyociError("open %s: %s" % (source, e.strerror)) from None
    except ValueError as e:
        raise UsageError("resources %s are not JSON: %s" % (source, e)) from None


# -- commands -----------------------------------------------------------------

def _container(args):
    from pyoci.runtime.lifecycle.container import Container
    return Container.load(args.id, args.root)


def cmd_create(args, log):
    from pyoci.runtime.lifecycle.container import Container
    container = Container.create(
        args.id, args.bundle, args.root, pid_file=args.pid_file,
        no_pivot=args.no_pivot, preserve_fds=args.preserve_fds,
        systemd_cgroup=args.systemd_cgroup, console_socket=args.console_socket,
        no_new_keyring=args.no_new_keyring)
    log.warnings(container.warnings)
    return 0


def cmd_run(args, log):
    from pyoci.runtime.lifecycle.container import Container
    return Container.run(
        args.id, args.bundle, args.root, pid_file=args.pid_file,
        no_pivot=args.no_pivot, preserve_fds=args.preserve_fds,
        systemd_cgroup=args.systemd_cgroup, detach=args.detach,
        console_socket=args.console_socket, no_new_keyring=args.no_new_keyring,
        no_subreaper=args.no_subreaper)


def cmd_exec(args, log):
    container = _container(args)
    process = _exec_process(args, container.record.get("config", {}))
    code = container.exec(process, detach=args.detach, pid_file=args.pid_file,
                          console_socket=args.console_socket,
                          preserve_fds=args.preserve_fds)
    log.warnings(container.warnings)
    return code


def _exec_process(args, config):
    """The process to exec: --process FILE as given, or the container's own
    process with the command line's changes (as runc builds it)."""
    import copy
    if args.process:
        if args.argv:
            raise UsageError("--process and a command cannot both be given")
        try:
            with open(args.process) as f:
                return jsonio.loads(f.read())
        except OSError as e:
            raise PyociError("cannot read process %s: %s"
                             % (args.process, e.strerror)) from None
        except ValueError as e:
            raise PyociError("process %s is not JSON: %s"
                             % (args.process, e)) from None
    if not args.argv:
        raise UsageError("exec needs a command (or --process FILE)")
    process = copy.deepcopy(config.get("process", {}))
    process["args"] = args.argv
    process["terminal"] = args.tty
    if args.cwd:
        process["cwd"] = args.cwd
    if args.apparmor:
        process["apparmorProfile"] = args.apparmor
    if args.process_label:
        process["selinuxLabel"] = args.process_label
    if args.cap:
        caps = process.setdefault("capabilities", {})
        sets = ["bounding", "effective", "permitted"]
        # runc raises ambient ones only where the spec has inheritable ones
        if caps.get("inheritable") is not None:
            sets.append("ambient")
        for name in sets:
            caps[name] = list(caps.get(name) or []) + args.cap
    process["env"] = list(process.get("env", [])) + args.env
    if args.no_new_privs:
        process["noNewPrivileges"] = True
    user = process.setdefault("user", {"uid": 0, "gid": 0})
    if args.user:
        parts = args.user.split(":", 1)
        for key, text in zip(("uid", "gid"), parts):
            try:
                user[key] = int(text)
            except ValueError:
                raise UsageError("parsing %s as int for %s failed"
                                 % (text, key)) from None
    if args.additional_gids:
        user["additionalGids"] = list(user.get("additionalGids", [])) \
            + args.additional_gids
    return process


def cmd_start(args, log):
    _container(args).start()
    return 0


def cmd_state(args, log):
    print(jsonio.dumps(_container(args).state(), indent=2))
    return 0


def cmd_kill(args, log):
    _container(args).kill(args.signal, all_processes=args.all)
    return 0


def cmd_pause(args, log):
    _container(args).pause()
    return 0


def cmd_resume(args, log):
    _container(args).resume()
    return 0


def cmd_update(args, log):
    container = _container(args)
    if args.resources:
        resources = _read_resources(args.resources)
    else:
        resources = _resources_from_flags(args, log)
    # pyoci has no Intel RDT (resctrl) support: runc's messages
    if args.l3_cache_schema:
        raise PyociError("Intel RDT/CAT: l3 cache schema is not enabled")
    if args.mem_bw_schema:
        raise PyociError("Intel RDT/MBA: memory bandwidth schema is not enabled")
    try:
        container.update(resources)
    finally:
        log.warnings(container.warnings)
    return 0


def cmd_ps(args, log):
    import subprocess
    if args.format not in ("table", "json"):
        raise UsageError("invalid format option")
    pids = _container(args).processes()
    if args.format == "json":
        print(jsonio.dumps(pids))
        return 0
    try:
        done = subprocess.run(["ps"] + (args.ps_args or ["-ef"]),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
    except OSError as e:
        raise PyociError("exec: \"ps\": %s" % e.strerror) from None
    output = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        raise PyociError("exit status %d: %s" % (done.returncode, output))
    lines = output.split("\n")
    titles = lines[0].split()
    if "PID" not in titles:
        raise PyociError("couldn't find PID field in ps output")
    column = titles.index("PID")
    print(lines[0])
    for line in lines[1:]:
        fields = line.split()
        if not fields:
            continue
        try:
            pid = int(fields[column])
        except (ValueError, IndexError):
            raise PyociError("unable to parse pid: %r" % line) from None
        if pid in pids:
            print(line)
    return 0


def cmd_events(args, log):
    if args.interval <= 0:
        raise UsageError("duration interval must be greater than 0")
    container = _container(args)

    def emit(event):
        sys.stdout.write(jsonio.dumps(event, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    if args.stats:
        emit({"type": "stats", "id": container.id, "data": container.stats()})
        return 0
    for event in container.events(args.interval):
        emit(event)
    return 0


def cmd_delete(args, log):
    from pyoci.runtime.errors import NotFound
    try:
        container = _container(args)
        container.delete(force=args.force)
    except NotFound:
        if args.force:
            return 0
        raise
    log.warnings(container.warnings)
    return 0


def cmd_list(args, log):
    from pyoci.runtime.lifecycle.container import list_containers
    states = [c.state() for c in list_containers(args.root)]
    if args.quiet:
        for state in states:
            print(state["id"])
    elif args.format == "json":
        print(jsonio.dumps(states))
    else:
        rows = [("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")]
        rows += [(s["id"], str(s["pid"]), s["status"], s["bundle"],
                  s["created"], s["owner"]) for s in states]
        widths = [max(12, max(len(r[i]) for r in rows) + 1) for i in range(5)]
        for row in rows:
            print("".join(cell.ljust(w) for cell, w in zip(row, widths)) + row[5])
    return 0


def cmd_spec(args, log):
    from pyoci.spec.defaults import default_config
    path = os.path.join(args.bundle, "config.json")
    if os.path.exists(path):
        raise PyociError("File %s exists. Remove it first" % path)
    data = jsonio.dumps(default_config(rootless=args.rootless), indent="\t")
    with open(path, "x") as f:
        f.write(data + "\n")
    return 0


def cmd_validate(args, log):
    from pyoci.spec.full import full_report
    from pyoci.spec.load import load_config
    bundle = os.path.abspath(args.bundle)
    problems = full_report(load_config(bundle), bundle_dir=bundle)
    if problems:
        sys.stdout.write("%s/config.json is not valid:\n" % bundle)
        for problem in problems:
            sys.stdout.write("  %s\n" % problem)
        return 1
    sys.stdout.write("%s/config.json is valid\n" % bundle)
    return 0


def cmd_features(args, log):
    from pyoci.runtime.lifecycle.features import features
    print(jsonio.dumps(features(), indent=2))
    return 0


def print_version():
    from pyoci.runtime._native import COMMIT
    print("pyoci version %s\ncommit: %s\nspec: %s" % (__version__, COMMIT,
                                                     SPEC_VERSION))


class _Arguments:
    """What the fast parser found: the same attributes argparse's
    Namespace would have."""

    def __init__(self, values):
        self.__dict__.update(values)


_GLOBAL_FLAGS = {
    # flag: (attribute, how its value is read: None for a boolean flag,
    # a tuple of allowed values, or a function)
    "--root": ("root", str), "--log": ("log", str),
    "--log-format": ("log_format", ("text", "json")),
    "--debug": ("debug", None), "--systemd-cgroup": ("systemd_cgroup", None),
    "--rootless": ("rootless", _bool_flag), "--criu": ("criu", str),
}
_GLOBAL_DEFAULTS = {"root": "/run/pyoci", "log": None, "log_format": "text",
                    "debug": False, "systemd_cgroup": False,
                    "rootless": "auto", "criu": None, "version": False}
_CREATE_FLAGS = {
    "--bundle": ("bundle", str), "-b": ("bundle", str),
    "--pid-file": ("pid_file", str), "--console-socket": ("console_socket", str),
    "--no-pivot": ("no_pivot", None), "--no-new-keyring": ("no_new_keyring", None),
    "--preserve-fds": ("preserve_fds", int),
}
_CREATE_DEFAULTS = {"bundle": ".", "pid_file": None, "console_socket": None,
                    "no_pivot": False, "no_new_keyring": False, "preserve_fds": 0}
# command: (handler name, flags, defaults, positional attributes; a
# trailing "?" marks an optional one, with its default)
_FAST_COMMANDS = {
    "create": ("cmd_create", _CREATE_FLAGS, _CREATE_DEFAULTS, ("id",)),
    "run": ("cmd_run", dict(_CREATE_FLAGS, **{
        "--detach": ("detach", None), "-d": ("detach", None),
        "--no-subreaper": ("no_subreaper", None), "--keep": ("keep", None)}),
        dict(_CREATE_DEFAULTS, detach=False, no_subreaper=False, keep=False),
        ("id",)),
    "start": ("cmd_start", {}, {}, ("id",)),
    "state": ("cmd_state", {}, {}, ("id",)),
    "kill": ("cmd_kill", {"--all": ("all", None), "-a": ("all", None)},
             {"all": False}, ("id", "signal?SIGTERM")),
    "delete": ("cmd_delete", {"--force": ("force", None), "-f": ("force", None)},
               {"force": False}, ("id",)),
    "list": ("cmd_list", {"--format": ("format", ("table", "json")),
                          "-f": ("format", ("table", "json")),
                          "--quiet": ("quiet", None), "-q": ("quiet", None)},
             {"format": "table", "quiet": False}, ()),
}


def _read_flag(flags, values, argv, index):
    """Take the flag at argv[index] into values; the next index, or None
    when the flag is not one the table describes exactly."""
    name, has_value, text = argv[index].partition("=")
    if name not in flags:
        return None
    attribute, kind = flags[name]
    if kind is None:
        if has_value:
            return None
        values[attribute] = True
        return index + 1
    if not has_value:
        index += 1
        if index >= len(argv) or argv[index].startswith("-"):
            return None
        text = argv[index]
    if isinstance(kind, tuple):
        if text not in kind:
            return None
        values[attribute] = text
    else:
        try:
            values[attribute] = kind(text)
        except Exception:
            return None
    return index + 1


def _parse_fast(argv):
    """The arguments of a hot command, or None for argparse to parse."""
    values = dict(_GLOBAL_DEFAULTS)
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        index = _read_flag(_GLOBAL_FLAGS, values, argv, index)
        if index is None:
            return None
    if index >= len(argv) or argv[index] not in _FAST_COMMANDS:
        return None
    command = argv[index]
    handler, flags, defaults, positional = _FAST_COMMANDS[command]
    values.update(defaults)
    words = []
    index += 1
    while index < len(argv):
        if argv[index].startswith("-"):
            index = _read_flag(flags, values, argv, index)
            if index is None:
                return None
        else:
            words.append(argv[index])
            index += 1
    required = [p for p in positional if "?" not in p]
    if not len(required) <= len(words) <= len(positional):
        return None
    for slot, word in zip(positional, words):
        values[slot.split("?")[0]] = word
    for slot in positional[len(words):]:
        name, _, default = slot.partition("?")
        values[name] = default
    values["command"] = command
    values["handler"] = globals()[handler]
    return _Arguments(values)


def _early_log(argv):
    """The --log destination even when the rest of the command line is
    wrong: callers read their error from that file, not from stderr."""
    import argparse
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--log")
    parser.add_argument("--log-format", default="text")
    parser.add_argument("--debug", action="store_true")
    try:
        known, _ = parser.parse_known_args(argv)
    except SystemExit:
        return Log()
    return Log(known.log, known.log_format, known.debug)


# runc's exec exits 255 when the process could not be run (a wrong command
# line still exits 1): not a status the process itself could have chosen
# by accident as often as 1.
EXEC_FAILED = 255


def main(argv=None):
    argv = _normalize(sys.argv[1:] if argv is None else argv)
    args = _parse_fast(argv)
    log = _early_log(argv) if args is None else \
        Log(args.log, args.log_format, args.debug)
    try:
        if args is None:
            args = build_parser().parse_args(argv)
        log = Log(args.log, args.log_format, args.debug)
        if args.version:
            print_version()
            return 0
        if not args.command:
            raise UsageError("no command given (try --help)")
        return args.handler(args, log)
    except PyociError as e:
        if log.debug:
            import traceback
            traceback.print_exc()
        log.write("error", str(e))
        if args is not None and args.command == "exec" and not isinstance(e, UsageError):
            return EXEC_FAILED
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
