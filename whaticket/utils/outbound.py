"""The one guarded HTTP client for every request to an address a tenant chose.

Tenants name URLs: Typebot servers and their media, integration webhooks, AI model
servers, Evolution bridges, a Cloud API base URL and the media URLs it hands back. Without
a guard any of them can point the server at itself or its network (SSRF). Every such
request goes through `request()` here, which:

* accepts only http and https;
* resolves the host once per connection and refuses it when any address is loopback,
  private, link-local (cloud metadata), multicast, reserved, unspecified or otherwise
  not globally routable, then connects to exactly the address it checked, so a DNS
  answer that changes between the check and the connect (rebinding) cannot switch it;
* does that again for every redirect hop (each hop opens its own checked connection);
* caps the answer's size and the whole exchange's duration, not only each socket read;
* ignores proxy variables of the environment, which would bypass the check.

Operators allow named internal hosts (a self-hosted Typebot, Evolution or model server)
with `OUTBOUND_ALLOWED_HOSTS` ("host" or "host:port" entries). The hosts of operator-set
base URLs (`OPENAI_BASE_URL`, `CLOUD_API_BASE_URL`, `EVOLUTION_BASE_URL`) are trusted too:
the operator chose them, not a tenant.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app, has_app_context
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.timeout import _DEFAULT_TIMEOUT

#: (connect, read) seconds when the caller names none.
DEFAULT_TIMEOUT = (5.0, 30.0)
#: Largest answer read when the caller names no cap (JSON APIs answer far less).
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
#: Whole-exchange limit (seconds), redirects and body included.
DEFAULT_DEADLINE = 60.0
MAX_REDIRECTS = 5
#: Operator settings whose URL hosts are trusted like OUTBOUND_ALLOWED_HOSTS entries.
OPERATOR_URL_SETTINGS = ("OPENAI_BASE_URL", "CLOUD_API_BASE_URL", "EVOLUTION_BASE_URL")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedAddress(requests.ConnectionError):
    """The URL points at an address tenants may not reach (or uses another scheme)."""


class ResponseTooLarge(requests.RequestException):
    """The answer is larger than the cap the caller set."""


class DeadlineExceeded(requests.Timeout):
    """The whole exchange took longer than its deadline."""


class _RefusedError(Exception):
    """Raised inside urllib3; deliberately not an OSError so urllib3 does not retry it."""


# -- address policy ------------------------------------------------------------------


def is_public_address(address: str) -> bool:
    """Whether an IP address is globally routable (not loopback, private, metadata...)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 smuggled inside IPv6 is judged as the IPv4 address it carries.
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif ip.teredo is not None:
            return False
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _host_key(host: str) -> str:
    """A host as allow-list entries spell it: lower case, no IPv6 brackets, no final dot."""
    return host.strip().strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class Policy:
    """Which hosts skip the address check; `allowed` holds "host" and "host:port" keys."""

    allowed: frozenset[str] = frozenset()

    def trusts(self, host: str, port: int | None) -> bool:
        """Whether the operator allowed this host (on any port, or on this port)."""
        key = _host_key(host)
        return key in self.allowed or f"{key}:{port}" in self.allowed


def _entries(raw: Any) -> Iterable[str]:
    """Allow-list entries from a comma-separated string or any iterable of strings."""
    if not raw:
        return ()
    if isinstance(raw, str):
        return raw.split(",")
    return (str(item) for item in raw)


def _entry_key(entry: str) -> str | None:
    """One allow-list entry normalised ("Host:8080" -> "host:8080", "[::1]" -> "::1")."""
    entry = entry.strip()
    if not entry:
        return None
    if "://" in entry:  # an operator may paste a whole URL
        parts = urlsplit(entry)
        return (
            f"{_host_key(parts.hostname or '')}:{parts.port}"
            if parts.port
            else _host_key(parts.hostname or "")
        )
    if entry.startswith("["):  # [v6]:port
        host, _, rest = entry[1:].partition("]")
        return f"{_host_key(host)}{rest}" if rest.startswith(":") else _host_key(host)
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return f"{_host_key(host)}:{port.strip()}"
    return _host_key(entry)


def _url_key(url: str | None) -> str | None:
    """The "host:port" key of an operator-set URL (its scheme's port when none is given)."""
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{_host_key(parts.hostname)}:{port}"


def current_policy() -> Policy:
    """The policy of the running app (an empty allow-list outside an app context)."""
    if not has_app_context():
        return Policy()
    cfg = current_app.config
    keys = {_entry_key(e) for e in _entries(cfg.get("OUTBOUND_ALLOWED_HOSTS"))}
    keys |= {_url_key(cfg.get(name)) for name in OPERATOR_URL_SETTINGS}
    return Policy(frozenset(k for k in keys if k))


# -- the guarded transport -------------------------------------------------------------


def _connect(conn: HTTPConnection, policy: Policy) -> socket.socket:
    """Resolve, check every address, then connect to one of exactly those addresses."""
    host, port = conn._dns_host, conn.port
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    if not policy.trusts(host, port):
        for *_, sockaddr in infos:
            if not is_public_address(str(sockaddr[0])):
                raise _RefusedError(f"{host} resolves to {sockaddr[0]}: not for tenants")
    last: OSError | None = None
    for family, kind, proto, _name, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            if conn.timeout is not _DEFAULT_TIMEOUT:
                sock.settimeout(conn.timeout)
            sock.connect(sockaddr)
            return sock
        except TimeoutError as exc:
            sock.close()
            raise ConnectTimeoutError(
                conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
            ) from exc
        except OSError as exc:
            sock.close()
            last = exc
    raise NewConnectionError(conn, f"Failed to establish a new connection: {last}")


@lru_cache(maxsize=64)
def _adapter_classes(policy: Policy) -> tuple[type, type]:
    """Connection-pool classes whose connections go through `_connect` with `policy`."""

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _connect(self, policy)

    class GuardedHTTPSConnection(HTTPSConnection):
        # TLS still verifies the certificate against the host name (server_hostname), not
        # against the pinned address.
        def _new_conn(self) -> socket.socket:
            return _connect(self, policy)

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    return GuardedHTTPPool, GuardedHTTPSPool


class _GuardedAdapter(HTTPAdapter):
    """A requests adapter whose pools open only checked connections."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Build the pool manager, then swap in the guarded pool classes."""
        super().init_poolmanager(*args, **kwargs)
        http_pool, https_pool = _adapter_classes(self._policy)
        self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}

    def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
        """Proxies would connect somewhere the guard never checked: refuse them."""
        raise BlockedAddress("proxies are not used for tenant-chosen addresses")


def _session(policy: Policy) -> requests.Session:
    """A session that ignores proxy/netrc variables and routes through the guard."""
    session = requests.Session()
    session.trust_env = False
    session.max_redirects = MAX_REDIRECTS
    adapter = _GuardedAdapter(policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# -- no calls inside a transaction -----------------------------------------------------------

#: Set by the app: whether the current database session has a transaction open.
_transaction_probe: Callable[[], bool] | None = None


class CallInTransactionError(RuntimeError):
    """A provider or HTTP call was made while a database transaction was open."""


def set_transaction_probe(probe: Callable[[], bool] | None) -> None:
    """Install the check `check_no_transaction` runs (the app does, at start)."""
    global _transaction_probe
    _transaction_probe = probe


def check_no_transaction(what: str) -> None:
    """Refuse (or log) a call to the outside world made inside an open transaction.

    A transaction held open while a provider answers keeps row locks and a connection
    for seconds; the code prepares, commits, calls, then applies. OUTBOUND_IN_TRANSACTION
    says what a breach does: "raise" (tests), "warn" (default: logged), "ignore".
    """
    if _transaction_probe is None or not has_app_context():
        return
    mode = str(current_app.config.get("OUTBOUND_IN_TRANSACTION") or "warn")
    if mode == "ignore" or not _transaction_probe():
        return
    if mode == "raise":
        raise CallInTransactionError(f"{what} inside an open database transaction")
    current_app.logger.warning("%s inside an open database transaction", what)


# -- the client -------------------------------------------------------------------------


def url_problem(url: str) -> str | None:
    """Why a tenant may not save this URL, judged without any lookup; None when it may.

    Catches what is plainly internal (another scheme, `localhost`, an internal IP
    literal) when a URL is saved, so the admin hears it at once. Names are resolved only
    when a request is made, where `request()` checks every address anyway.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Must be an http(s) URL."
    host = _host_key(parts.hostname)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "Must be an http(s) URL."
    if current_policy().trusts(host, port):
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return "Internal addresses are not allowed."
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: judged when it is resolved
    return None if is_public_address(host) else "Internal addresses are not allowed."


def check_url(url: str) -> None:
    """Refuse a URL whose scheme is not http(s) or that has no host (BlockedAddress)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedAddress(f"only http(s) URLs with a host are allowed, not {url[:100]!r}")


def request(
    method: str,
    url: str,
    *,
    timeout: float | tuple[float, float] | None = None,
    max_bytes: int | None = None,
    deadline: float | None = None,
    allow_redirects: bool = False,
    policy: Policy | None = None,
    **kwargs: Any,
) -> requests.Response:
    """Send one request through the guard and return its answer with the body read.

    The body is read in full (at most `max_bytes`, else ResponseTooLarge) before this
    returns, so `.content`, `.json()` and `.text` work as usual. Refused addresses raise
    BlockedAddress, a `requests.ConnectionError`: callers that treat an unreachable
    server as a failure already handle it.
    """
    check_url(url)
    check_no_transaction(f"HTTP {method} {urlsplit(url).hostname}")
    policy = policy if policy is not None else current_policy()
    cap = max_bytes if max_bytes is not None else DEFAULT_MAX_BYTES
    limit = deadline if deadline is not None else DEFAULT_DEADLINE
    started = time.monotonic()
    with _session(policy) as session:
        try:
            resp = session.request(
                method,
                url,
                timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
                allow_redirects=allow_redirects,
                stream=True,
                **kwargs,
            )
        except _RefusedError as exc:
            raise BlockedAddress(str(exc)) from None
        try:
            declared = int(resp.headers.get("Content-Length") or 0)
        except ValueError:
            declared = 0
        if declared > cap:
            resp.close()
            raise ResponseTooLarge(f"{url[:100]} announces {declared} bytes, over {cap}")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in resp.iter_content(64 * 1024):
                size += len(chunk)
                if size > cap:
                    raise ResponseTooLarge(f"{url[:100]} sent more than {cap} bytes")
                if time.monotonic() - started > limit:
                    raise DeadlineExceeded(f"{url[:100]} took longer than {limit:.0f} s")
                chunks.append(chunk)
        finally:
            resp.close()
        # requests serves .content from _content: filling it keeps the capped read.
        resp._content = b"".join(chunks)
        resp._content_consumed = True
        return resp


def get(url: str, **kwargs: Any) -> requests.Response:
    """`request("GET", url, ...)`."""
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> requests.Response:
    """`request("POST", url, ...)`."""
    return request("POST", url, **kwargs)
