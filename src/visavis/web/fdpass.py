"""Passing a connected socket, with a message about it, to another process of this
machine: its file descriptor over a Unix socket (SCM_RIGHTS), without blocking the
event loop (web/handoff.py moves WebSockets between worker processes with it).

One Unix connection per socket passed:

    sender                                   receiver
    length (4 bytes) + message, the fd  -->
                                        <--  READY (it will take it) or REFUSED
    GO                                  -->  serves the socket from here on

Who serves the socket is decided by the sender alone: it sends GO only if it had
READY within its own deadline, and forgets the socket only once GO went out. The
receiver serves it only after GO; without one (the sender gave up, died, or was
too late) it closes its copy of the fd, which puts nothing on the wire while the
sender still holds one. The receiver waits for GO far longer (`GO_WAIT_S`) than a
sender's deadline, and a sender sends GO with no wait between its clock check and
the write of one byte, so the two cannot both serve a socket, or neither.

The channel's addresses are in Linux's abstract namespace, which has no file
permissions: the receiver takes sockets only from processes of its own user
(SO_PEERCRED), and the message is JSON, never unpickled.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import struct
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

READY, REFUSED, GO = b"R", b"N", b"G"
MAX_MESSAGE_BYTES = 8 * 1024 * 1024  # a WebSocket's scope and the frames it had read
GO_WAIT_S = 15.0  # the receiver's wait for GO; far beyond a sender's deadline
_HEADER = struct.Struct("!I")
_UCRED = struct.Struct("3i")  # pid, uid, gid


class PassError(Exception):
    """The socket was not passed; the sender still has it."""


def channel_address(parent_pid: int, index: int, nonce: str | None = None) -> str:
    """Worker `index`'s channel, of the server whose parent process is `parent_pid`
    (Linux's abstract namespace: nothing on disk to clean up, gone with the process).
    The abstract namespace is one per network namespace, not per pid namespace: two
    containers on the host's network may both run their server as pid 1, so a random
    `nonce` of the parent's keeps their channels apart."""
    nonce = secrets.token_hex(6) if nonce is None else nonce
    return f"\0visavis-handoff-{parent_pid}-{nonce}-{index}"


def _set(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


async def _writable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    ready: asyncio.Future[None] = loop.create_future()
    loop.add_writer(sock.fileno(), _set, ready)
    try:
        await ready
    finally:
        loop.remove_writer(sock.fileno())


async def _readable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    ready: asyncio.Future[None] = loop.create_future()
    loop.add_reader(sock.fileno(), _set, ready)
    try:
        await ready
    finally:
        loop.remove_reader(sock.fileno())


async def pass_socket(
    address: str, fd: int, message: bytes, timeout_s: float, still_mine: Callable[[], bool]
) -> None:
    """Pass `fd` with `message` to the process listening on `address`; when this
    returns, that process serves the socket and the caller must forget it (its own fd
    is still open: the caller closes it without a word on the wire). Raises
    `PassError` if not: the caller still serves it. `still_mine`: asked right before
    GO, whether the caller can still give the socket away (nothing was written to it
    meanwhile, it was not closed)."""
    if len(message) > MAX_MESSAGE_BYTES:
        raise PassError(f"message of {len(message)} bytes; at most {MAX_MESSAGE_BYTES}")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        try:
            async with asyncio.timeout_at(deadline):
                await loop.sock_connect(sock, address)
                data = _HEADER.pack(len(message)) + message
                while True:
                    try:
                        sent = socket.send_fds(sock, [data], [fd])
                        break
                    except BlockingIOError:
                        await _writable(loop, sock)
                await loop.sock_sendall(sock, data[sent:])
                answer = await loop.sock_recv(sock, 1)
        except TimeoutError:
            raise PassError(f"no answer within {timeout_s} s") from None
        except OSError as exc:
            raise PassError(f"channel: {exc}") from exc
        if answer != READY:
            raise PassError("refused" if answer == REFUSED else "the receiver hung up")
        # nothing awaited from here to the GO: see the module's docstring
        if loop.time() > deadline:
            raise PassError(f"READY came after the {timeout_s} s deadline")
        if not still_mine():
            raise PassError("the socket was written to or closed meanwhile")
        try:
            if sock.send(GO) != 1:
                raise PassError("GO not sent")
        except OSError as exc:
            raise PassError(f"GO not sent: {exc}") from exc
    finally:
        sock.close()


# what a receiver does with a message: None to refuse, else what starts serving the
# socket once the sender said GO
Offer = Callable[[bytes], Callable[[socket.socket], Awaitable[None]] | None]


class Channel:
    """The receiving end: a listening Unix socket at `address`, each socket passed to
    it offered to `offer`."""

    def __init__(self, address: str, offer: Offer, read_timeout_s: float = 5.0) -> None:
        self.address = address
        self.offer = offer
        self.read_timeout_s = read_timeout_s
        self._listener: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(self.address)
            sock.listen(128)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self._listener = sock
        self._task = asyncio.get_running_loop().create_task(self._accept(sock))

    async def stop(self, settle_s: float = 1.0) -> None:
        """No more sockets taken. Those already offered get `settle_s` to finish:
        a sender may have sent GO already, and a receiver that then dropped its fd
        would close the connection under the client; past that they are dropped (a
        sender that has not sent GO keeps its socket)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._listener is not None:
            self._listener.close()
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=settle_s)
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            conn, _ = await loop.sock_accept(listener)
            task = loop.create_task(self._receive(conn))
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)

    async def _receive(self, conn: socket.socket) -> None:
        fds: list[int] = []
        try:
            conn.setblocking(False)
            pid, uid, _gid = _UCRED.unpack(
                conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
            )
            if uid != os.getuid():
                log.warning("handoff channel: refused a socket from uid %d (pid %d)", uid, pid)
                return
            async with asyncio.timeout(self.read_timeout_s):
                message = await self._read(conn, fds)
            start = self.offer(message) if len(fds) == 1 else None
            loop = asyncio.get_running_loop()
            if start is None:
                await loop.sock_sendall(conn, REFUSED)
                return
            await loop.sock_sendall(conn, READY)
            try:
                async with asyncio.timeout(GO_WAIT_S):
                    answer = await loop.sock_recv(conn, 1)
            except TimeoutError:
                answer = _late_go(conn)
            if answer != GO:
                return
            sock = socket.socket(fileno=fds[0])
            fds.clear()  # the socket object owns the fd now (`start` closes it if it fails)
            await start(sock)
        except Exception as exc:  # one socket's trouble: said, and that socket dropped
            log.warning("handoff channel: a socket passed was dropped: %r", exc)
        finally:
            for fd in fds:
                os.close(fd)
            conn.close()

    async def _read(self, conn: socket.socket, fds: list[int]) -> bytes:
        """The message, its fd put in `fds` (which the caller closes unless used)."""
        loop = asyncio.get_running_loop()
        data = b""
        need = _HEADER.size
        while len(data) < need:
            try:
                chunk, got, flags, _ = socket.recv_fds(conn, 65536, 4)
            except BlockingIOError:
                await _readable(loop, conn)
                continue
            fds.extend(got)
            if flags & socket.MSG_CTRUNC:
                raise ValueError("file descriptors were cut off (MSG_CTRUNC)")
            if not chunk:
                raise ValueError(f"the sender hung up after {len(data)} of {need} bytes")
            data += chunk
            if need == _HEADER.size and len(data) >= need:
                (length,) = _HEADER.unpack_from(data)
                if length > MAX_MESSAGE_BYTES:
                    raise ValueError(f"a message of {length} bytes; at most {MAX_MESSAGE_BYTES}")
                need = _HEADER.size + length
        if len(data) > need:
            raise ValueError(f"{len(data) - need} bytes past the message before READY")
        return data[_HEADER.size :]


def _late_go(conn: socket.socket) -> bytes:
    """A GO that arrived while this process was too busy to read it in time counts."""
    try:
        return conn.recv(1)
    except BlockingIOError:
        return b""
