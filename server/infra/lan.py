"""This machine's addresses on the local network, worked out without the internet.

`motcua serve` on every address (0.0.0.0) needs one address that citizens' phones on the
office's Wi-Fi can open, for the links it prints and sends (ticket QR codes, device set-up
links, a booking's private link). Two ways, neither of which sends a packet:
- "connecting" a UDP socket to a private address only asks the kernel which local address
  its routing table would use (a UDP connect sends nothing);
- the addresses of the network interfaces (Linux: one ioctl per interface), and of the
  host name, for a machine on a LAN with no route at all.
Infrastructure: imports nothing of the project.
"""
from __future__ import annotations

import ipaddress
import socket
import struct

# Far ends of the private ranges: only the route to them matters, nothing is sent there.
_PROBES = ("10.255.255.255", "172.31.255.255", "192.168.255.255")
_SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address


def usable(address: str) -> bool:
    """An IPv4 address another machine could reach: not loopback, link-local, unspecified
    or multicast."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.version == 4 and not (ip.is_loopback or ip.is_link_local or ip.is_unspecified
                                    or ip.is_multicast)


def _routed() -> list[str]:
    found = []
    for probe in _PROBES:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.connect((probe, 9))
                found.append(s.getsockname()[0])
            except OSError:  # no route to that range
                continue
    return found


def _interfaces() -> list[str]:
    try:
        import fcntl  # noqa: PLC0415 - Linux and other Unixes only
        names = [name for _, name in socket.if_nameindex()]
    except (ImportError, OSError, AttributeError):  # not Linux, or no interface list
        return []
    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for name in names:
            try:
                packed = fcntl.ioctl(s.fileno(), _SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
            except OSError:  # down, or without an IPv4 address
                continue
            found.append(socket.inet_ntoa(packed[20:24]))
    return found


def _by_name() -> list[str]:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET, socket.SOCK_DGRAM)
    except OSError:
        return []
    return [info[4][0] for info in infos]


def private_first(address: str) -> tuple[int, str]:
    ip = ipaddress.ip_address(address)
    return (0 if ip.is_private else 1, address)


def lan_addresses() -> list[str]:
    """This machine's reachable IPv4 addresses, the routed one first, then the other private
    ones, then the rest; empty when it has only loopback."""
    routed = [a for a in _routed() if usable(a)]
    others = sorted({a for a in _interfaces() + _by_name() if usable(a)} - set(routed), key=private_first)
    return list(dict.fromkeys(routed + others))
