"""Who holds a chat's lease: a name per sender (host, process id, a random part), and
whether a named holder is a process of this machine that no longer runs."""

from __future__ import annotations

import os
import secrets
import socket


def new_holder() -> str:
    """``host:pid:random``, unique per sender even in one process."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(4)}"


def is_gone(holder: str) -> bool:
    """A holder that was a process on this machine which no longer runs."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:30] or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
