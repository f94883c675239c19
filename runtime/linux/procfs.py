"""What /proc says about a process: the live evidence behind a container's
status."""
import os

# The command name the container's init carries from the moment it enters
# the container until it executes the user's program (then the kernel sets
# the program's name): the evidence `start` waits on.
INIT_NAME = "pyoci:[init]"


def start_time(pid):
    """The process's start time in clock ticks since boot (field 22 of
    /proc/PID/stat), or None when there is no such process. A pid plus its
    start time names one process for good: pids are reused, start times of
    one pid are not."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) is in parentheses and may hold anything,
    # spaces and ')' included: the fields after it start past the last ')'.
    fields = stat[stat.rindex(b")") + 2:].split()
    if fields[0] == b"Z" or fields[0] == b"X":
        return None
    return int(fields[19])


def is_alive(pid, recorded_start_time):
    """True while the process that was recorded is still running (not a
    zombie, not another process that got the same pid)."""
    if not pid:
        return False
    return start_time(pid) == recorded_start_time


def last_capability():
    with open("/proc/sys/kernel/cap_last_cap") as f:
        return int(f.read())


def still_in_runtime(pid, recorded_start_time):
    """True while the recorded process lives and has not yet executed the
    user's program (it still carries INIT_NAME)."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            name = f.read().rstrip("\n")
    except (FileNotFoundError, ProcessLookupError):
        return False
    return name == INIT_NAME and is_alive(pid, recorded_start_time)
