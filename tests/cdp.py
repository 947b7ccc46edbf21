"""A minimal Chrome DevTools Protocol client for driving headless Chromium in tests.

Chromium is started with ``--remote-debugging-port=0``: it picks a free port and writes it
to ``DevToolsActivePort`` in its user data directory, so parallel test runs never collide.
Only 127.0.0.1 is used. The process is stopped by its PID in ``close()``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Self

from websockets.sync.client import connect

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


class CDPError(RuntimeError):
    """A DevTools command failed, or Chromium did not answer in time."""


def chromium_binary() -> str:
    """Path of Debian's Chromium; fails with the command that installs it."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise CDPError("chromium introuvable : lancez scripts/install_chromium.sh")


class Chromium:
    """A headless Chromium process with one page, driven over the DevTools protocol."""

    def __init__(self, user_data_dir: Path, window_size: str = "1280,900") -> None:
        self.user_data_dir = Path(user_data_dir)
        self.user_data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.user_data_dir / "chromium.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [
                    chromium_binary(),
                    *CHROMIUM_FLAGS,
                    f"--window-size={window_size}",
                    f"--user-data-dir={self.user_data_dir}",
                    "--remote-debugging-port=0",
                    "about:blank",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            self.port = self._wait_for_port()
            self.session = Session(self._page_websocket_url())
        except BaseException:
            self.close()
            raise

    def _wait_for_port(self, timeout: float = 30.0) -> int:
        marker = self.user_data_dir / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CDPError(
                    f"chromium s'est arrêté (code {self.process.returncode}) ; voir {self.log_path}"
                )
            if marker.exists():
                lines = marker.read_text().split()
                if lines and lines[0].isdigit():
                    return int(lines[0])
            time.sleep(0.05)
        raise CDPError(f"chromium n'a pas ouvert son port de débogage ; voir {self.log_path}")

    def _page_websocket_url(self, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/json/list", timeout=5
            ) as response:
                targets = json.load(response)
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.05)
        raise CDPError("chromium n'expose aucune page")

    def close(self) -> None:
        """Close the connection and stop Chromium by its PID."""
        session = getattr(self, "session", None)
        if session is not None:
            session.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Session:
    """One websocket to one target; events are kept in ``self.events`` in arrival order."""

    def __init__(self, websocket_url: str) -> None:
        self.ws = connect(websocket_url, max_size=None, open_timeout=10)
        self.events: list[dict] = []
        self._next_id = 0

    def close(self) -> None:
        self.ws.close()

    def send(self, method: str, timeout: float = 15.0, **params: Any) -> dict:
        """Send a command and return its result; events received meanwhile are recorded."""
        self._next_id += 1
        command_id = self._next_id
        self.ws.send(json.dumps({"id": command_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = self._receive(deadline, method)
            if message.get("id") == command_id:
                if "error" in message:
                    raise CDPError(f"{method} : {message['error']}")
                return message.get("result", {})

    def wait_for(self, event: str, timeout: float = 15.0, since: int = 0) -> dict:
        """Wait for the first ``event`` at or after index ``since`` in ``self.events``."""
        deadline = time.monotonic() + timeout
        index = since
        while True:
            for message in self.events[index:]:
                if message["method"] == event:
                    return message["params"]
            index = len(self.events)
            self._receive(deadline, event)

    def _receive(self, deadline: float, waiting_for: str) -> dict:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CDPError(f"délai dépassé en attendant {waiting_for}")
        try:
            message = json.loads(self.ws.recv(timeout=remaining))
        except TimeoutError as exc:
            raise CDPError(f"délai dépassé en attendant {waiting_for}") from exc
        if "method" in message:
            self.events.append(message)
        return message

    def evaluate(self, expression: str, timeout: float = 15.0) -> Any:
        """Evaluate JavaScript in the page and return its value (promises are awaited)."""
        result = self.send(
            "Runtime.evaluate",
            timeout=timeout,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"erreur JavaScript : {text}")
        return result.get("result", {}).get("value")

    def navigate(self, url: str, timeout: float = 15.0) -> None:
        """Load ``url`` and wait for its load event."""
        since = len(self.events)
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired", timeout=timeout, since=since)


def requested_urls(events: list[dict]) -> list[str]:
    """Every URL the page asked for (``Network`` must be enabled)."""
    return [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]


def foreign_requests(events: list[dict], page_url: str) -> list[str]:
    """Requests for anything but the page's own file (anchors aside) or a data: URL."""
    return [u for u in requested_urls(events)
            if u.split("#")[0] != page_url and not u.startswith("data:")]


def page_errors(events: list[dict], levels: tuple[str, ...] = ("error",)) -> list[dict]:
    """Uncaught exceptions, and console calls or log entries at one of ``levels``
    (``Runtime`` and ``Log`` must be enabled)."""
    return [e for e in events
            if e["method"] == "Runtime.exceptionThrown"
            or (e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in levels)
            or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] in levels)]
