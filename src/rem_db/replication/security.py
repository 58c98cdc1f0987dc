"""Who may connect (SPEC §9): loopback by default; any other address needs a token and TLS, on both sides.

The token travels in the call metadata (``authorization: Bearer <token>``) and is compared in constant time;
TLS uses gRPC's SSL credentials (``--tls-cert``/``--tls-key`` on the primary, ``--tls-ca`` on replicas).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import socket
from pathlib import Path
from typing import Any

import grpc

from ..errors import ConfigError

TOKEN_HEADER = "authorization"
#: messages of any size (a record is one atomic batch: a large ingest writes one of many megabytes)
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]
SERVER_OPTIONS = [
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.so_reuseport", 0),
]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback interface."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
    except (OSError, ValueError):
        return False


def split_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too) as (host, port); :class:`ConfigError` naming the address if not."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"primary address {address!r} is not HOST:PORT (e.g. 127.0.0.1:50051)")
    return host.strip("[]"), int(port)


def join_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _read(path: str | os.PathLike[str], what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def server_credentials(host: str, token: str | None, tls_cert: str | os.PathLike[str] | None,
                       tls_key: str | os.PathLike[str] | None) -> grpc.ServerCredentials | None:
    """The TLS credentials to listen with (None: plaintext, loopback only); refuses a non-loopback address
    without a token and TLS."""
    if (tls_cert is None) != (tls_key is None):
        raise ConfigError("TLS needs both --tls-cert and --tls-key")
    if not is_loopback(host):
        missing = [name for name, value in (("a token (--token or P8_REPLICATION_TOKEN)", token),
                                            ("TLS (--tls-cert and --tls-key)", tls_cert)) if not value]
        if missing:
            raise ConfigError(f"refusing to serve replication on {host}, which is not a loopback address, "
                              f"without {' and '.join(missing)}")
    if tls_cert is None or tls_key is None:
        return None
    return grpc.ssl_server_credentials([(_read(tls_key, "TLS key"), _read(tls_cert, "TLS certificate"))])


def channel(address: str, token: str | None, tls_ca: str | os.PathLike[str] | None) -> grpc.Channel:
    """A channel to the primary at ``address``; refuses a non-loopback primary without a token and TLS."""
    host, _ = split_address(address)
    if not is_loopback(host):
        missing = [name for name, value in (("a token (--token or P8_REPLICATION_TOKEN)", token),
                                            ("TLS (--tls-ca)", tls_ca)) if not value]
        if missing:
            raise ConfigError(f"refusing to replicate from {address}, which is not a loopback address, without "
                              f"{' and '.join(missing)}")
    if tls_ca is not None:
        creds = grpc.ssl_channel_credentials(root_certificates=_read(tls_ca, "TLS CA certificate"))
        return grpc.secure_channel(address, creds, options=CHANNEL_OPTIONS)
    return grpc.insecure_channel(address, options=CHANNEL_OPTIONS)


def call_metadata(token: str | None) -> list[tuple[str, str]]:
    return [(TOKEN_HEADER, f"Bearer {token}")] if token else []


def token_ok(expected: str | None, metadata: Any) -> bool:
    """Whether the call carries the expected token (always, when the server has none)."""
    if not expected:
        return True
    given = next((value for key, value in metadata or () if key == TOKEN_HEADER), "")
    if isinstance(given, bytes):
        given = given.decode("utf-8", "replace")
    return hmac.compare_digest(str(given).removeprefix("Bearer ").encode(), expected.encode())
