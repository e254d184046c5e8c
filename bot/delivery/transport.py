"""How the bot talks HTTP to the Bot API: python-telegram-bot's request interface over aiohttp.

PTB sends through httpx by default. Under load, the bot's one event-loop thread is its bottleneck,
and profiles put most of that thread's time in httpx and httpcore (per request, httpcore asks
every pooled connection whether it has expired, through anyio's attribute lookups). aiohttp,
which the project already uses for the dashboard and the emulator, does the same work with less
Python per request. PTB documents `BaseRequest` as the place to plug in another HTTP library;
errors are mapped to PTB's own (`TimedOut`, `NetworkError`), so retries and logging are unchanged.
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

# Default timeouts, in seconds, as PTB's HTTPXRequest has them (read, write, connect: 5; pool: 1).
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one aiohttp session with at most `connection_pool_size` connections.

    aiohttp has no write timeout: a request's total time is bounded instead, by the write timeout
    plus the read timeout (media uploads get MEDIA_WRITE_TIMEOUT for the write part)."""

    def __init__(self, connection_pool_size: int = 16, pool_timeout: float | None = 1.0,
                 read_timeout: float | None = READ_TIMEOUT) -> None:
        self._pool_size = connection_pool_size
        self._pool_timeout = pool_timeout
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None
        self._routes: dict[str, Route] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Created here, inside the running event loop, as aiohttp requires. Not trust_env: that
            # reads the proxy settings and ~/.netrc again on every request, in two worker threads
            # (see `route_for`).
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._pool_size))

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | None = BaseRequest.DEFAULT_NONE,
        write_timeout: float | None = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | None = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | None = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data and request_data.contains_files else None
        read = self._read_timeout if read_timeout is BaseRequest.DEFAULT_NONE else read_timeout
        write = (MEDIA_WRITE_TIMEOUT if files else WRITE_TIMEOUT) if write_timeout is BaseRequest.DEFAULT_NONE \
            else write_timeout
        timeout = aiohttp.ClientTimeout(
            total=None if read is None or write is None else read + write,
            connect=self._pool_timeout if pool_timeout is BaseRequest.DEFAULT_NONE else pool_timeout,
            sock_connect=CONNECT_TIMEOUT if connect_timeout is BaseRequest.DEFAULT_NONE else connect_timeout,
            sock_read=read,
        )
        route = self.route_for(url)
        try:
            async with self._session.request(method, url, data=_body(request_data, files), timeout=timeout,
                                             headers=route.headers, proxy=route.proxy,
                                             proxy_headers=route.proxy_headers) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut(f"Bot API call timed out ({error.__class__.__name__})") from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error

    def route_for(self, url: str) -> Route:
        """How to reach `url`: through the proxy that HTTP(S)_PROXY and NO_PROXY name, as httpx does by
        default (municipal networks often need one). Looked up once per host: the bot talks to one."""
        parsed = URL(url)
        key = f"{parsed.scheme}://{parsed.host}"
        if key not in self._routes:
            self._routes[key] = _route(parsed, self.USER_AGENT)
        return self._routes[key]


@dataclass(frozen=True)
class Route:
    proxy: URL | None
    proxy_headers: dict[str, str] | None  # sent to the proxy when tunnelling HTTPS (CONNECT)
    headers: dict[str, str]  # sent with each request


def _route(url: URL, user_agent: str) -> Route:
    headers = {"User-Agent": user_agent}
    proxy = urllib.request.getproxies().get(url.scheme)
    if proxy is None or (url.host and urllib.request.proxy_bypass(url.host)):
        return Route(None, None, headers)
    proxy_url = URL(proxy)
    auth = aiohttp.BasicAuth.from_url(proxy_url)
    if auth is None:
        return Route(proxy_url, None, headers)
    credentials = {"Proxy-Authorization": auth.encode()}
    if url.scheme == "https":
        return Route(proxy_url.with_user(None), credentials, headers)
    return Route(proxy_url.with_user(None), None, headers | credentials)  # plain HTTP: in the request itself


def _body(request_data: RequestData | None, files: dict | None) -> aiohttp.FormData | dict | None:
    """The parameters form-encoded, as PTB's httpx transport sends them; multipart with files."""
    if request_data is None:
        return None
    if not files:
        return request_data.json_parameters
    form = aiohttp.FormData(request_data.json_parameters)
    for name, (filename, content, mime_type) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
