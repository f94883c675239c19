"""Device cgroup rules: from config.json, runc's default allow-list, and
runc's emulator of the v1 devices controller.

A rule is a tuple (type, major, minor, access, allow): type "a", "b" or
"c"; major/minor -1 for "*"; access a subset of "rwm".

The emulator gives v1 and v2 the same meaning for a rule list: v1 writes
the minimal transition from the cgroup's current devices.list to the target
(devices.deny "a" first when switching to an allow-list, then the dropped
then the gained permissions, in runc's order); v2 compiles the emulator's
clean rule list into the eBPF filter (see ebpf.py)."""
from pyoci.runtime.errors import InvalidSpec, PyociError

WILDCARD = -1

# runc's AllowedDevices, appended after the rules of config.json (runc's
# specconv does it for every container). (path or None, rule)
DEFAULT_ALLOWED = (
    (None, ("c", WILDCARD, WILDCARD, "m", True)),
    (None, ("b", WILDCARD, WILDCARD, "m", True)),
    ("/dev/null", ("c", 1, 3, "rwm", True)),
    ("/dev/random", ("c", 1, 8, "rwm", True)),
    ("/dev/full", ("c", 1, 7, "rwm", True)),
    ("/dev/tty", ("c", 5, 0, "rwm", True)),
    ("/dev/zero", ("c", 1, 5, "rwm", True)),
    ("/dev/urandom", ("c", 1, 9, "rwm", True)),
    (None, ("c", 136, WILDCARD, "rwm", True)),   # /dev/pts/*
    (None, ("c", 5, 2, "rwm", True)),            # /dev/ptmx
    (None, ("c", 10, 200, "rwm", True)),         # /dev/net/tun (runc keeps it)
)


def rules_from_spec(entries):
    """linux.resources.devices -> rules (type defaults to "a", a missing
    major/minor is "*")."""
    if not isinstance(entries, list):
        raise InvalidSpec("linux.resources.devices: expected an array")
    rules = []
    for i, d in enumerate(entries):
        where = "linux.resources.devices[%d]" % i
        if not isinstance(d, dict):
            raise InvalidSpec(where + ": expected an object")
        kind = d.get("type") or "a"
        if kind not in ("a", "b", "c"):
            raise InvalidSpec("%s.type: invalid cgroup device type %r"
                              % (where, kind))
        access = d.get("access") or ""
        if not access or set(access) - set("rwm"):
            raise InvalidSpec("%s.access: invalid device access %r"
                              % (where, access))
        numbers = []
        for key in ("major", "minor"):
            value = d.get(key)
            if value is None:
                value = WILDCARD
            elif isinstance(value, bool) or not isinstance(value, int) or \
                    not -1 <= value <= 0xFFFFFFFF:
                raise InvalidSpec("%s.%s: invalid device number %r"
                                  % (where, key, value))
            numbers.append(value)
        rules.append((kind, numbers[0], numbers[1], _perms(access),
                      bool(d.get("allow"))))
    return rules


def default_rules(linux_devices=None):
    """runc's default allow rules, minus those whose device config.json
    lists itself in linux.devices (the spec's entry takes priority)."""
    listed = {d.get("path") for d in (linux_devices or ())}
    return [rule for path, rule in DEFAULT_ALLOWED
            if path is None or path not in listed]


def cgroup_string(rule):
    kind, major, minor, access, _ = rule
    return "%s %s:%s %s" % (kind, "*" if major == WILDCARD else major,
                            "*" if minor == WILDCARD else minor, access)


def _perms(access):
    return "".join(c for c in "rwm" if c in access)


class Emulator:
    """The v1 devices controller's state: a default (allow or deny) and
    exceptions {(type, major, minor): access}."""

    def __init__(self, default_allow=False, rules=None):
        self.default_allow = default_allow
        self.rules = dict(rules or {})

    def __eq__(self, other):
        return (self.default_allow == other.default_allow
                and self.rules == other.rules)

    def is_blacklist(self):
        return self.default_allow

    def _add(self, meta, access):
        self.rules[meta] = _perms(self.rules.get(meta, "") + access)

    def _remove(self, meta, access):
        kind, major, minor = meta
        for partial in ((kind, WILDCARD, minor), (kind, major, WILDCARD),
                        (kind, WILDCARD, WILDCARD)):
            if partial == meta:
                continue
            held = self.rules.get(partial, "")
            if set(held) & set(access):
                raise PyociError(
                    "device rule %s not supported by devices cgroupv1 (cannot "
                    "punch hole in existing wildcard rule %s)"
                    % (cgroup_string(meta + (access, True)),
                       cgroup_string(partial + (held, True))))
        left = _perms(set(self.rules.get(meta, "")) - set(access))
        if left:
            self.rules[meta] = left
        else:
            self.rules.pop(meta, None)

    def apply(self, rule):
        kind, major, minor, access, allow = rule
        if kind == "a":
            self.default_allow = allow
            self.rules = {}
            return
        meta = (kind, major, minor)
        if allow == self.default_allow:
            # an exception to the other side is withdrawn
            self._remove(meta, access)
        else:
            self._add(meta, access)

    def ordered(self):
        return sorted(self.rules.items(),
                      key=lambda item: (item[0][1], item[0][2], item[0][0]))

    def transition(self, target, listed_order=True):
        """The rules to write to go from self to target. The permissions
        gained come in the order their rules came (config.json's, then the
        defaults): v1 lists exceptions in the order written, and the runtime
        MUST apply entries in the listed order (config-linux.md; runtime-tools
        linux_cgroups_devices reads devices.list back). Without
        listed_order, sorted as runc's emulator does."""
        out = []
        old = self.rules
        if self.default_allow or self.default_allow != target.default_allow:
            out.append(("a", WILDCARD, WILDCARD, "rwm", target.default_allow))
            old = {}
        for meta, access in sorted(old.items(), key=lambda item: (
                item[0][1], item[0][2], item[0][0])):
            dropped = _perms(set(access) - set(target.rules.get(meta, "")))
            if dropped:
                out.append(meta + (dropped, target.default_allow))
        for meta, access in (target.rules.items() if listed_order
                             else target.ordered()):
            gained = _perms(set(access) - set(old.get(meta, "")))
            if gained:
                out.append(meta + (gained, not target.default_allow))
        return out

    def clean_rules(self):
        """The rule list that builds this state from a deny-all cgroup."""
        return Emulator(False).transition(self, listed_order=False)


def build(rules):
    emulator = Emulator(False)
    for rule in rules:
        emulator.apply(rule)
    return emulator


def parse_list(text):
    """An Emulator from the text of devices.list (which shows only allow
    entries, "a *:* rwm" meaning allow-all)."""
    emulator = Emulator(False)
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.replace(":", " ").split()
        if len(fields) != 4:
            raise PyociError("malformed devices.list rule %r" % line)
        kind, major, minor, access = fields
        if kind == "a":
            emulator = Emulator(True)
            continue
        if kind not in ("b", "c"):
            raise PyociError("unknown device type %r in devices.list" % kind)
        emulator.apply((kind, WILDCARD if major == "*" else int(major),
                        WILDCARD if minor == "*" else int(minor),
                        _perms(access), True))
    return emulator
