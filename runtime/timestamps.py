"""RFC 3339 timestamps with nanoseconds and a zone, as runc writes them
(containerd drops log lines whose time has no zone)."""
import time


def rfc3339_now():
    ns = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + \
        ".%09dZ" % (ns % 10**9)
