"""A throwaway redis-server on a free 127.0.0.1 port, for the tests, the benchmark and trying
distributed mode out on one machine. Needs Debian's `redis-server` (`make redis-deps`)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

import redis


class RedisUnavailable(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalRedis:
    """`with LocalRedis() as url:` runs redis-server on loopback, without persistence, in a
    temporary folder; stops it and removes the folder on exit."""

    def __init__(self, start_timeout: float = 10.0):
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.folder = ""
        self.url = ""

    def __enter__(self) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisUnavailable("redis-server not found: run `make redis-deps` (installs Debian's redis-server)")
        self.folder = tempfile.mkdtemp(prefix="crawler-redis-")
        port = _free_port()
        self.process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.folder, "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return self.url
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RedisUnavailable(f"redis-server did not start on port {port}")
                time.sleep(0.05)

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)
