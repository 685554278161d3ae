"""What /proc says about a process: resident memory, open descriptors, CPU
time. The abuse, outage and soak checks bound these for the server."""

from __future__ import annotations

import contextlib
import os
import pathlib

CLK_TCK = os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of /proc/pid/status: VmRSS (all resident memory), or
    RssAnon (heap and stacks, without mapped files such as SQLite's mmap)."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def socket_fd_count(pid: int) -> int:
    """Descriptors open on sockets (connections and listeners), as opposed to
    files, pipes and the event descriptors a thread pool may open on first use."""
    count = 0
    for name in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            count += os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:")
    return count


def file_fd_count(pid: int) -> int:
    """Descriptors open on regular files (database, WAL, log), as opposed to
    sockets, pipes and event descriptors."""
    count = 0
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{name}").startswith("/")
        except FileNotFoundError:  # closed meanwhile
            continue
    return count


def cpu_seconds(pid: int) -> float:
    """User + system time so far (fields 14 and 15 of /proc/pid/stat)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK
