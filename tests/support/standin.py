"""Running the Twilio stand-in (and a Sanic app) in a background thread, for tests.

standin = start_standin(account_sid=..., auth_token=...)   # port 0: a free port
standin.url, standin.messages(), standin.control(fail_next=2), standin.stop()
"""

from __future__ import annotations

import asyncio
import socket
import threading

from aiohttp import web

from bot.twilio_standin.client import StandinClient
from bot.twilio_standin.server import build_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StandinHandle(StandinClient):
    def __init__(self, port: int, account_sid: str, auth_token: str, host: str = "127.0.0.1"):
        self.port = port or free_port()
        super().__init__(f"http://{host}:{self.port}")
        self._host = host
        self._app = build_app(account_sid, auth_token)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="twilio-standin", daemon=True)

    @property
    def state(self):
        return self._app["state"]

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._runner = web.AppRunner(self._app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, self._host, self.port)
            self._loop.run_until_complete(site.start())
        except BaseException as exc:  # raised again by start(), in the caller's thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
        for task in pending:  # status callbacks still on their way
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def start(self) -> StandinHandle:
        self._thread.start()
        self._ready.wait(10)
        if self._error:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def start_standin(
    port: int = 0, account_sid: str = "ACtest", auth_token: str = "test-token", host: str = "127.0.0.1"
) -> StandinHandle:
    """Starts the stand-in in a daemon thread; port 0 picks a free port."""
    return StandinHandle(port, account_sid, auth_token, host).start()


def rasa_env(
    standin_url: str, public_base_url: str, account_sid: str = "ACtest", auth_token: str = "test-token"
) -> dict[str, str]:
    """The environment a `rasa run` needs so its WhatsApp and SMS channels use the stand-in (and
    says so, TWILIO_USE_STANDIN=1)."""
    return {
        "TWILIO_USE_STANDIN": "1",
        "TWILIO_ACCOUNT_SID": account_sid,
        "TWILIO_AUTH_TOKEN": auth_token,
        "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
        "TWILIO_SMS_FROM": "+15005550006",
        "TWILIO_PUBLIC_BASE_URL": public_base_url.rstrip("/"),
        "TWILIO_API_BASE": standin_url.rstrip("/"),
        "TWILIO_SEND_ATTEMPTS": "3",
        "TWILIO_BACKOFF_BASE": "0.2",
        "TWILIO_OUTBOX_INTERVAL": "2",
    }


class SanicThread:
    """A Sanic app served from a background thread on its own loop (tests only; `rasa run` and
    Sanic's own runner are used everywhere else)."""

    def __init__(self, app, port: int = 0, host: str = "127.0.0.1"):
        self.app = app
        self.host = host
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}"
        self.loop = asyncio.new_event_loop()
        self._server = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="sanic-test", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self._server = self.loop.run_until_complete(
                self.app.create_server(
                    host=self.host, port=self.port, access_log=False, return_asyncio_server=True
                )
            )
            self.loop.run_until_complete(self._server.startup())
            self.loop.run_until_complete(self._server.before_start())
            self.loop.run_until_complete(self._server.after_start())
        except BaseException as exc:  # raised again by start(), in the caller's thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

    def start(self) -> SanicThread:
        self._thread.start()
        self._ready.wait(20)
        if self._error:
            raise self._error
        return self

    def call(self, coro, timeout: float = 60):
        """Runs a coroutine on the server's loop and returns its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        async def _shutdown():
            await self._server.before_stop()
            self._server.close()
            await self._server.wait_closed()
            await self._server.after_stop()

        if self.loop.is_running():
            try:
                self.call(_shutdown(), timeout=20)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(20)
