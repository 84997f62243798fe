"""Passing a connected socket to another process's channel (web/fdpass.py): the
receiver gets the socket and the message and serves it from the GO on; a refusal,
or a sender that gives up before GO, leaves the socket with the sender, and the
receiver's copy goes without a word on the wire."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Awaitable, Callable

import pytest
from until import until

from visavis.web.fdpass import Channel, PassError, pass_socket


def _address() -> str:
    return f"\0visavis-test-{os.getpid()}-{secrets.token_hex(4)}"


class Receiver:
    """A channel's offer: refuses the message b"no", else keeps what it was given."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, socket.socket]] = []
        self.got = asyncio.Event()

    def offer(self, message: bytes) -> Callable[[socket.socket], Awaitable[None]] | None:
        if message == b"no":
            return None

        async def start(sock: socket.socket) -> None:
            self.received.append((message, sock))
            self.got.set()

        return start


async def test_a_connected_socket_its_bytes_and_a_message_pass_over() -> None:
    receiver = Receiver()
    channel = Channel(_address(), receiver.offer)
    await channel.start()
    left, right = socket.socketpair()
    try:
        left.sendall(b"queued before")  # waits in the socket for whoever reads it
        message = os.urandom(300_000).hex().encode()  # more than one write
        await pass_socket(channel.address, right.fileno(), message, 5, lambda: True)
        right.close()  # the sender forgets it: its fd only, nothing on the wire
        await asyncio.wait_for(receiver.got.wait(), 10)
        got, sock = receiver.received[0]
        assert got == message
        sock.settimeout(5)
        assert sock.recv(100) == b"queued before"
        sock.sendall(b"answered")
        left.settimeout(5)
        assert left.recv(100) == b"answered"
        left.setblocking(False)
        with pytest.raises(BlockingIOError):  # open: no end of stream from right's close
            left.recv(1)
        sock.close()  # the last fd: now the peer sees the end
        left.settimeout(5)
        assert left.recv(1) == b""
    finally:
        left.close()
        right.close()
        await channel.stop()


@pytest.mark.parametrize("how", ["refused", "sender gives up", "nobody listens"])
async def test_a_socket_not_taken_stays_with_the_sender(how: str) -> None:
    receiver = Receiver()
    channel = Channel(_address(), receiver.offer)
    if how != "nobody listens":
        await channel.start()
    left, right = socket.socketpair()
    try:
        message = b"no" if how == "refused" else b"yes"
        with pytest.raises(PassError):
            await pass_socket(channel.address, right.fileno(), message, 5, lambda: False)
        await until(lambda: not channel._handlers)  # the receiver is done with it
        assert receiver.received == []
        # the receiver closed its copy, which said nothing: the sender's still works
        right.sendall(b"still mine")
        left.settimeout(5)
        assert left.recv(100) == b"still mine"
    finally:
        left.close()
        right.close()
        await channel.stop()
