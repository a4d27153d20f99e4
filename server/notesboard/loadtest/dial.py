"""A TCP connection from a chosen loopback source address, with the port picked at connect time.

`create_connection(local_addr=(source, 0))` binds before it connects, and a bind with port 0 has to find a
port no socket of that address uses, whatever its destination: the kernel searches the ports in use, so each
bind costs more as sockets accumulate. At 100,000 sockets that search was 70% of the generator's CPU and
connects slowed from ~1,000/s to ~150/s (docs/performance.md, issue #25). Linux's IP_BIND_ADDRESS_NO_PORT
leaves the port to connect(), which only needs the 4-tuple to be unique.
"""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

__all__ = ["IP_BIND_ADDRESS_NO_PORT", "dial", "server_address"]

IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # linux/in.h; Python 3.11 lacks the name


def server_address(base_url: str) -> tuple[str, int]:
    """(host, port) of an http(s):// or ws(s):// base URL."""
    parts = urlsplit(base_url if "://" in base_url else f"http://{base_url}")
    default = 443 if parts.scheme in ("https", "wss") else 80
    return parts.hostname or "127.0.0.1", parts.port or default


async def dial(source: str, address: tuple[str, int]) -> socket.socket:
    """A connected, non-blocking socket from `source` (port chosen by connect) to `address`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        try:
            sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        except OSError:
            pass  # not Linux: the plain bind below still works, only slower at many sockets
        sock.bind((source, 0))
        await asyncio.get_running_loop().sock_connect(sock, address)
    except BaseException:
        sock.close()
        raise
    return sock
