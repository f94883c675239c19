"""The v2 device filter compiles to runc's program, instruction for
instruction, and means what the rules say."""
import struct

import pytest

from pyoci.runtime.linux.cgroups import base, devices, ebpf

NAMES = {0x61: "LdXMemW", 0x54: "AndImm32", 0x74: "RShImm32", 0xb4: "MovImm32",
         0xbc: "MovReg32", 0x55: "JNEImm", 0x5d: "JNEReg", 0x56: "JNEImm32",
         0x95: "Exit"}


def disassemble(program):
    out = []
    for pc in range(len(program) // 8):
        code, regs, off, imm = struct.unpack("<BBhi", program[pc * 8:pc * 8 + 8])
        out.append((NAMES[code], regs & 0xF, regs >> 4, imm,
                    pc + 1 + off if code in (0x55, 0x5d, 0x56) else None))
    return out


def runc_listing(text):
    """runc's devicefilter_test.go listings -> the same tuples (block labels
    resolved to instruction numbers)."""
    starts, rows = {}, []
    for line in text.strip().splitlines():
        line = line.strip()
        if not line or line.startswith("//"):
            continue
        if line.startswith("block-"):
            starts[line.rstrip(":")] = len(rows)
            continue
        fields = line.split()[1:]
        name, args, target = fields[0], {}, None
        i = 1
        while i < len(fields):
            if fields[i].startswith("<"):
                target = fields[i].strip("<>")
            else:
                args[fields[i].rstrip(":")] = fields[i + 1]
                i += 1
            i += 1
        reg = lambda key: int(args.get(key, "r0")[1:])  # noqa: E731
        rows.append([name, reg("dst"), reg("src"), int(args.get("imm", 0)),
                     target])
    for row in rows:
        if row[4] is not None:
            row[4] = starts[row[4]]
    return [tuple(row) for row in rows]


PROLOGUE = """
0: LdXMemW dst: r2 src: r1 off: 0 imm: 0
1: AndImm32 dst: r2 imm: 65535
2: LdXMemW dst: r3 src: r1 off: 0 imm: 0
3: RShImm32 dst: r3 imm: 16
4: LdXMemW dst: r4 src: r1 off: 4 imm: 0
5: LdXMemW dst: r5 src: r1 off: 8 imm: 0
"""

# runc's TestDeviceFilter_BuiltInAllowList
BUILTIN = PROLOGUE + """
block-0:
6: JNEImm dst: r2 off: -1 imm: 1 <block-1>
7: MovReg32 dst: r1 src: r3
8: AndImm32 dst: r1 imm: 1
9: JNEReg dst: r1 off: -1 src: r3 <block-1>
10: MovImm32 dst: r0 imm: 1
11: Exit
block-1:
12: JNEImm dst: r2 off: -1 imm: 2 <block-2>
13: MovReg32 dst: r1 src: r3
14: AndImm32 dst: r1 imm: 1
15: JNEReg dst: r1 off: -1 src: r3 <block-2>
16: MovImm32 dst: r0 imm: 1
17: Exit
""" + "".join("""
block-%d:
a: JNEImm dst: r2 off: -1 imm: 2 <block-%d>
b: JNEImm dst: r4 off: -1 imm: %d <block-%d>
c: JNEImm dst: r5 off: -1 imm: %d <block-%d>
d: MovImm32 dst: r0 imm: 1
e: Exit
""" % (b, b + 1, major, b + 1, minor, b + 1) for b, (major, minor) in enumerate(
    [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 2), (10, 200)], 2)) + """
block-10:
58: JNEImm dst: r2 off: -1 imm: 2 <block-11>
59: JNEImm dst: r4 off: -1 imm: 136 <block-11>
60: MovImm32 dst: r0 imm: 1
61: Exit
block-11:
62: MovImm32 dst: r0 imm: 0
63: Exit
"""

# runc's TestDeviceFilter_PrivilegedExceptSingleDevice
EXCEPT_ONE = PROLOGUE + """
block-0:
6: JNEImm dst: r2 off: -1 imm: 1 <block-1>
7: JNEImm dst: r4 off: -1 imm: 8 <block-1>
8: JNEImm dst: r5 off: -1 imm: 0 <block-1>
9: MovImm32 dst: r0 imm: 0
10: Exit
block-1:
11: MovImm32 dst: r0 imm: 1
12: Exit
"""


def test_no_rules_denies_everything():
    assert disassemble(ebpf.program([])) == runc_listing(PROLOGUE + """
block-0:
6: MovImm32 dst: r0 imm: 0
7: Exit""")


def test_allow_all():
    assert disassemble(ebpf.program([("a", -1, -1, "rwm", True)])) == \
        runc_listing(PROLOGUE + "block-0:\n6: MovImm32 dst: r0 imm: 1\n7: Exit")


def test_runcs_builtin_allow_list():
    rules = [rule for _, rule in devices.DEFAULT_ALLOWED]
    assert disassemble(ebpf.program(rules)) == runc_listing(BUILTIN)


def test_privileged_except_one_device():
    rules = [("a", -1, -1, "rwm", True), ("b", 8, 0, "rwm", False)]
    assert disassemble(ebpf.program(rules)) == runc_listing(EXCEPT_ONE)


def run(program, kind, major, minor, access):
    """A tiny interpreter for the instructions the compiler emits."""
    ctx = ({"b": 1, "c": 2}[kind] | (access << 16), major, minor)
    regs = [0] * 11
    pc = 0
    insns = disassemble(program)
    while True:
        name, dst, src, imm, target = insns[pc]
        pc += 1
        if name == "LdXMemW":
            off = struct.unpack("<h", program[(pc - 1) * 8 + 2:(pc - 1) * 8 + 4])[0]
            regs[dst] = ctx[off // 4]
        elif name == "AndImm32":
            regs[dst] &= imm
        elif name == "RShImm32":
            regs[dst] >>= imm
        elif name == "MovImm32":
            regs[dst] = imm
        elif name == "MovReg32":
            regs[dst] = regs[src]
        elif name in ("JNEImm", "JNEImm32"):
            if regs[dst] != imm & 0xFFFFFFFF:
                pc = target
        elif name == "JNEReg":
            if regs[dst] != regs[src]:
                pc = target
        elif name == "Exit":
            return regs[0]


R, W, M = ebpf.ACC_READ, ebpf.ACC_WRITE, ebpf.ACC_MKNOD


def test_dockers_rules_mean_what_they_say():
    rules = devices.rules_from_spec([
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 4, "minor": 64, "access": "r"},
        {"allow": True, "type": "b", "major": 8, "minor": -1, "access": "rw"},
    ]) + devices.default_rules()
    program = ebpf.program(rules)
    assert run(program, "c", 1, 3, R | W) == 1          # /dev/null
    assert run(program, "c", 1, 1, R) == 0              # /dev/mem
    assert run(program, "c", 4, 64, R) == 1
    assert run(program, "c", 4, 64, W) == 0             # r only
    assert run(program, "b", 8, 7, R | W) == 1          # minor wildcard
    assert run(program, "b", 9, 0, R) == 0
    assert run(program, "b", 9, 0, M) == 1              # mknod of anything
    assert run(program, "c", 136, 5, R | W) == 1        # /dev/pts/5


def test_big_device_numbers_use_32_bit_compares():
    program = ebpf.program([("c", 5, 0x80000001, "rwm", True)])
    assert "JNEImm32" in [i[0] for i in disassemble(program)]
    assert run(program, "c", 5, 0x80000001, R) == 1
    assert run(program, "c", 5, 1, R) == 0


def test_skippable_errors_like_runc():
    assert ebpf.can_skip_error([("c", 1, 3, "rwm", True)])
    if not base.in_user_namespace():
        assert not ebpf.can_skip_error([("a", -1, -1, "rwm", False)])
        assert not ebpf.can_skip_error([("c", 1, 3, "r", True)])


def test_the_kernel_verifier_accepts_the_programs():
    import os
    if os.geteuid() != 0:
        pytest.skip("BPF_PROG_LOAD needs root")
    from pyoci.runtime import _native
    for rules in ([], [("a", -1, -1, "rwm", True)],
                  [rule for _, rule in devices.DEFAULT_ALLOWED],
                  [("a", -1, -1, "rwm", True), ("b", 8, 0, "rwm", False)]):
        fd = _native.bpf_cgroup_device_load(ebpf.program(rules), log_size=65536)
        os.close(fd)
