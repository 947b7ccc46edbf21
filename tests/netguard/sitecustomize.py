"""A socket guard for every Python process of a run (tests/test_network.py puts this folder
on PYTHONPATH): a connection, a datagram or a name lookup to anything but this machine is
written to $SYNTHESE_NET_GUARD_LOG and refused. Unix sockets are allowed."""

import ipaddress
import os
import socket
import sys

_LOG = os.environ.get("SYNTHESE_NET_GUARD_LOG")
_LOCAL_NAMES = {None, "", "localhost", "localhost.localdomain"}


def _local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str) -> None:
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {' '.join(sys.argv[:3])[:200]}: {what}\n")
    raise OSError(f"connexion hors de cette machine refusée par le garde : {what}")


def _guard(event: str, args: tuple) -> None:
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock, address = args[0], args[-1]
        inet = sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple)
        if inet and not _local(address[0]):
            _refuse(f"{event} {address!r}")
    elif event in ("socket.getaddrinfo", "socket.gethostbyname") and not _local(args[0]):
        _refuse(f"{event} {args[0]!r}")


if _LOG:
    sys.addaudithook(_guard)
    with open(_LOG + ".processes", "a", encoding="utf-8") as seen:  # which processes it guards
        seen.write(f"{os.getpid()} {' '.join(sys.argv)[:300]}\n")
