"""A TCP server on 127.0.0.1 that accepts connections and never says a word: a database that hangs.

It counts what it accepted (`arrived` is set at the first), and hangs up on every connection when the test
calls `release()` or, at the latest, HANG_UP_S after accepting it: a client that waits for an answer gets
"closed", never "timeout", and a test whose code has lost its time limit fails instead of hanging."""

from __future__ import annotations

import socket
import threading

HANG_UP_S = 30.0


class MuteServer:
    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.server.settimeout(0.05)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self.arrived = threading.Event()
        self._held: list[socket.socket] = []
        self._timers: list[threading.Timer] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="mute-server", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self._held.append(conn)
            self.accepted += 1
            self.arrived.set()
            timer = threading.Timer(HANG_UP_S, conn.close)
            timer.daemon = True
            timer.start()
            self._timers.append(timer)

    def release(self) -> None:
        """Hang up on every connection held now."""
        for conn in list(self._held):
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for timer in self._timers:
            timer.cancel()
        self.release()
        self.server.close()
