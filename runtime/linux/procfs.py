"""What /proc says about a process: the live evidence behind a container's
status."""
import os


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
