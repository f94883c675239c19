"""The pyoci command line: runc's commands and flags, one function per
command, and the one place where errors become messages, log lines and
exit codes (see ../shared/CALLERS.md for the contract)."""
import argparse
import json
import os
import sys

from pyoci.runtime import SPEC_VERSION, __version__
from pyoci.runtime.errors import PyociError, UsageError
from pyoci.runtime.timestamps import rfc3339_now

# Long options that callers also spell with one dash (Go's flag syntax).
_LONG_OPTIONS = {
    "root", "log", "log-format", "debug", "systemd-cgroup", "rootless", "criu",
    "bundle", "pid-file", "console-socket", "no-pivot", "no-new-keyring",
    "preserve-fds", "no-subreaper", "detach", "keep", "force", "all",
    "format", "quiet", "help", "version", "process", "tty", "env", "cwd",
    "user", "additional-gids", "cap", "no-new-privs", "apparmor",
    "process-label",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


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
                line = json.dumps({"level": level, "msg": message,
                                   "time": rfc3339_now()})
            else:
                line = "%s level=%s msg=%s" % (rfc3339_now(), level,
                                               json.dumps(message))
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
    raise argparse.ArgumentTypeError("expected true, false or auto")


def build_parser():
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
                return json.load(f)
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
    print(json.dumps(_container(args).state(), indent=2))
    return 0


def cmd_kill(args, log):
    _container(args).kill(args.signal, all_processes=args.all)
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
        print(json.dumps(states))
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
    data = json.dumps(default_config(rootless=args.rootless), indent="\t")
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
    print(json.dumps(features(), indent=2))
    return 0


def print_version():
    from pyoci.runtime._native import COMMIT
    print("pyoci version %s\ncommit: %s\nspec: %s" % (__version__, COMMIT,
                                                     SPEC_VERSION))


def main(argv=None):
    argv = _normalize(sys.argv[1:] if argv is None else argv)
    log = Log()
    try:
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
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
