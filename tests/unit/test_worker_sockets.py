"""`visavis serve --workers N` on Linux (web/serving.py): each worker listens on a
socket of its own on the one port (SO_REUSEPORT, so the kernel spreads connections
over them), and a second server on a port the workers hold still fails to start."""

from __future__ import annotations

import errno
import socket

import pytest
from ports import free_port

from visavis.web import serving

pytestmark = pytest.mark.skipif(
    not serving.SPREADS_CONNECTIONS, reason="SO_REUSEPORT spreads connections on Linux only"
)


def test_workers_sockets_share_the_port_and_a_second_server_is_refused() -> None:
    port = free_port()
    first = serving.bind_listening("127.0.0.1", port, reuse_port=True)
    second = serving.bind_listening("127.0.0.1", port, reuse_port=True)
    try:
        assert first.getsockname() == second.getsockname() == ("127.0.0.1", port)
        # what run_workers checks before binding: a port in use is refused
        with pytest.raises(OSError) as refused:
            serving.bind_listening("127.0.0.1", port, reuse_port=False)
        assert refused.value.errno == errno.EADDRINUSE
        # both accept: a connection lands on one of them
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    finally:
        first.close()
        second.close()
    serving.bind_listening("127.0.0.1", port, reuse_port=False).close()  # free again once closed
