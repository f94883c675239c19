"""The cgroup v2 device filter: runc's devicefilter.go in Python.

`program(rules)` compiles a rule list (devices.py) into the instructions of
a BPF_PROG_TYPE_CGROUP_DEVICE program; `attach(dir_fd, insns)` loads it and
attaches it to a cgroup directory with BPF_F_ALLOW_MULTI, replacing the
program pyoci attached before (BPF_F_REPLACE when exactly one is there,
else attach then detach the old ones), as runc does.

The program sees struct bpf_cgroup_dev_ctx { u32 access_type (type in the
low 16 bits, access in the high 16); u32 major; u32 minor; } in R1 and
returns 1 (allow) or 0 (deny). Each rule becomes one block: if the type,
access, major and minor all match, return the rule's verdict; else fall
through to the next block; the last block returns the default."""
import errno
import os
import struct
import sys

from pyoci.runtime.errors import PyociError, SyscallError
from pyoci.runtime.linux.cgroups import base, devices

LICENSE = "Apache"

# linux/bpf.h
DEV_BLOCK, DEV_CHAR = 1, 2
ACC_MKNOD, ACC_READ, ACC_WRITE = 1, 2, 4
R0, R1, R2, R3, R4, R5 = range(6)

# opcodes: class | op | source
_LDX_MEM_W = 0x61        # BPF_LDX | BPF_MEM | BPF_W
_ALU_AND_K = 0x54        # BPF_ALU | BPF_AND | BPF_K  (32-bit)
_ALU_RSH_K = 0x74        # BPF_ALU | BPF_RSH | BPF_K
_ALU_MOV_K = 0xb4        # BPF_ALU | BPF_MOV | BPF_K
_ALU_MOV_X = 0xbc        # BPF_ALU | BPF_MOV | BPF_X
_JMP_JNE_K = 0x55        # BPF_JMP | BPF_JNE | BPF_K
_JMP_JNE_X = 0x5d        # BPF_JMP | BPF_JNE | BPF_X
_JMP32_JNE_K = 0x56      # BPF_JMP32 | BPF_JNE | BPF_K (for numbers >= 2^31)
_JMP_EXIT = 0x95


class _Insn:
    __slots__ = ("code", "dst", "src", "off", "imm", "target")

    def __init__(self, code, dst=0, src=0, off=0, imm=0, target=None):
        self.code, self.dst, self.src = code, dst, src
        self.off, self.imm, self.target = off, imm, target

    def encode(self):
        if sys.byteorder == "little":
            regs = (self.src << 4) | self.dst
        else:
            regs = (self.dst << 4) | self.src
        imm = self.imm - (1 << 32) if self.imm >= 1 << 31 else self.imm
        return struct.pack("=BBhi", self.code, regs, self.off, imm)


def program(rules):
    """The filter's instructions (bytes of struct bpf_insn) for rules."""
    emulator = devices.build(rules)
    default_allow = emulator.is_blacklist()
    insns = [
        _Insn(_LDX_MEM_W, R2, R1, 0),          # R2 <- access_type
        _Insn(_ALU_AND_K, R2, imm=0xFFFF),     #       & 0xffff: device type
        _Insn(_LDX_MEM_W, R3, R1, 0),          # R3 <- access_type
        _Insn(_ALU_RSH_K, R3, imm=16),         #       >> 16: access
        _Insn(_LDX_MEM_W, R4, R1, 4),          # R4 <- major
        _Insn(_LDX_MEM_W, R5, R1, 8),          # R5 <- minor
    ]
    starts = {}     # block number -> index of its first instruction
    block = 0
    for index, rule in enumerate(emulator.clean_rules()):
        kind, major, minor, access, allow = rule
        if kind == "a":
            if index != 0 or allow != default_allow:
                raise PyociError("internal error: bad wildcard rule %s at %d"
                                 % (devices.cgroup_string(rule), index))
            continue
        if allow == default_allow:
            raise PyociError("internal error: no-op device rule %s"
                             % devices.cgroup_string(rule))
        if major > 0xFFFFFFFF or minor > 0xFFFFFFFF:
            raise PyociError("invalid device numbers in %s"
                             % devices.cgroup_string(rule))
        bpf_type = DEV_CHAR if kind == "c" else DEV_BLOCK
        bpf_access = 0
        for c in access:
            bpf_access |= {"r": ACC_READ, "w": ACC_WRITE, "m": ACC_MKNOD}[c]
        starts[block] = len(insns)
        nxt = block + 1
        insns.append(_Insn(_JMP_JNE_K, R2, imm=bpf_type, target=nxt))
        if bpf_access != ACC_READ | ACC_WRITE | ACC_MKNOD:
            # if (R3 & access) != R3: the request wants more than the rule has
            insns.append(_Insn(_ALU_MOV_X, R1, R3))
            insns.append(_Insn(_ALU_AND_K, R1, imm=bpf_access))
            insns.append(_Insn(_JMP_JNE_X, R1, R3, target=nxt))
        for reg, number in ((R4, major), (R5, minor)):
            if number >= 0:
                code = _JMP_JNE_K if number < 1 << 31 else _JMP32_JNE_K
                insns.append(_Insn(code, reg, imm=number, target=nxt))
        insns.append(_Insn(_ALU_MOV_K, R0, imm=1 if allow else 0))
        insns.append(_Insn(_JMP_EXIT))
        block = nxt
    starts[block] = len(insns)
    insns.append(_Insn(_ALU_MOV_K, R0, imm=1 if default_allow else 0))
    insns.append(_Insn(_JMP_EXIT))
    for pc, insn in enumerate(insns):
        if insn.target is not None:
            insn.off = starts[insn.target] - (pc + 1)
    return b"".join(insn.encode() for insn in insns)


def can_skip_error(rules):
    """runc's rule (after crun): a load failure may be ignored in a user
    namespace, or when every rule is an allow of rwm (the filter would only
    restrict what is already open)."""
    if base.in_user_namespace():
        return True
    return all(allow and access == "rwm" for _, _, _, access, allow in rules)


def attach(dir_fd, insns):
    """Load insns and attach them to the cgroup dir_fd, replacing the device
    programs attached there before."""
    from pyoci.runtime import _native as n

    old = []
    try:
        for prog_id in n.bpf_cgroup_device_query(dir_fd):
            try:
                old.append(n.bpf_prog_get_fd_by_id(prog_id))
            except OSError as e:
                # a program an LSM hides from us only adds restrictions
                if e.errno in (errno.EPERM, errno.EACCES):
                    continue
                raise
        try:
            prog = n.bpf_cgroup_device_load(insns, LICENSE)
        except OSError as e:
            # again, with the verifier's log in the message
            try:
                prog = n.bpf_cgroup_device_load(insns, LICENSE, 1 << 16)
            except OSError as e2:
                raise SyscallError("cgroup: load device filter: %s" % e2,
                                   e2.errno) from None
            del e
        try:
            replaced = False
            if len(old) == 1:
                try:
                    n.bpf_cgroup_device_attach(dir_fd, prog, old[0])
                    replaced = True
                except OSError as e:
                    if e.errno != errno.EINVAL:   # no BPF_F_REPLACE
                        raise
            if not replaced:
                n.bpf_cgroup_device_attach(dir_fd, prog)
                for fd in old:
                    n.bpf_cgroup_device_detach(dir_fd, fd)
        except OSError as e:
            raise SyscallError("cgroup: attach device filter: %s" % e,
                               e.errno) from None
        finally:
            os.close(prog)
    finally:
        for fd in old:
            os.close(fd)


def attached(dir_fd):
    """Ids of the device programs attached to the cgroup (for tests and
    diagnostics)."""
    from pyoci.runtime import _native as n
    return n.bpf_cgroup_device_query(dir_fd)
