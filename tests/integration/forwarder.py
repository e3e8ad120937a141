"""A TCP port-forwarder on loopback: what an SSH tunnel or ``kubectl port-forward`` looks like
to the client (bytes relayed unchanged to a server listening somewhere else)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

_IDLE_TIMEOUT_S = 10.0
_MAX_CONNECTIONS = 64


class Forwarder:
    """Listens on ``listen_host`` (``127.0.0.1`` or ``::1``) at a free port and relays every
    connection to ``target``; ``connections`` counts what it relayed."""

    def __init__(self, target: tuple[str, int], listen_host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in listen_host else socket.AF_INET
        self._server = socket.socket(family, socket.SOCK_STREAM)
        self._server.bind((listen_host, 0))
        self._server.listen(16)
        self._server.settimeout(0.2)
        self.host = listen_host
        self.port: int = self._server.getsockname()[1]
        self.target = target
        self.connections = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def address(self) -> str:
        """The ``address=`` string that dials this forwarder."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set() and self.connections < _MAX_CONNECTIONS:
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(self.target, timeout=_IDLE_TIMEOUT_S)
            client.settimeout(_IDLE_TIMEOUT_S)
            for src, dst in ((client, upstream), (upstream, client)):
                t = threading.Thread(target=self._pipe, args=(src, dst), daemon=True)
                t.start()
                self._threads.append(t)

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def close(self) -> None:
        """Stop accepting, close the socket and wait for the relay threads."""
        self._stop.set()
        self._server.close()
        self._acceptor.join(5)
        for t in self._threads:
            t.join(5)


@contextlib.contextmanager
def forwarding(target: tuple[str, int], listen_host: str = "127.0.0.1") -> Iterator[Forwarder]:
    """A running :class:`Forwarder`, closed on exit."""
    forwarder = Forwarder(target, listen_host)
    try:
        yield forwarder
    finally:
        forwarder.close()
