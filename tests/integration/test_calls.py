"""Calls over the real server: lifecycle events, signalling only between the two
participants, ICE/TURN credentials only for participants, a real coturn, and a
real aiortc peer on each side speaking the same WebSocket protocol."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer, make_server
from coturn import Coturn
from helpers import PASSWORD, adviser_socket
from wsclient import WsClient, cid, login, new_conversation


async def active_call_pair(server: LiveServer, **adviser_kw: Any) -> tuple[WsClient, WsClient, str]:
    adviser = await adviser_socket(server, **adviser_kw)
    conv_id, token = await new_conversation(server.base_url, customer_name="Bob")
    assert (await adviser.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
    await adviser.expect("subscribed")
    customer = await WsClient.connect(server.ws_url, token=token)
    await customer.request("subscribe", conversation_id=conv_id, after_seq=0)
    return adviser, customer, conv_id


def event_of(kind: str) -> Any:
    return lambda f: f["type"] == "event" and f["kind"] == kind


async def test_call_lifecycle_is_logged_in_the_conversation(live_server: LiveServer) -> None:
    adviser, customer, conv_id = await active_call_pair(live_server)

    # the customer asks for video (competitors only let the adviser start one)
    ack = await customer.request("call.request", conversation_id=conv_id, media="video")
    assert ack["type"] == "ack"
    requested = await adviser.wait_for(event_of("call.requested"))
    call_id = requested["body"]["call_id"]
    assert requested["body"] == {"call_id": call_id, "media": "video", "by": "customer"}
    update = await adviser.wait_for(
        lambda f: f["type"] == "conversation.update" and f["conversation"]["call"]
    )
    assert update["conversation"]["call"]["status"] == "ringing"
    # a second request while one rings, and the caller answering itself, are refused
    err = await adviser.request("call.request", conversation_id=conv_id, media="audio")
    assert err["code"] == "invalid_state"
    err = await customer.request(
        "call.answer", conversation_id=conv_id, call_id=call_id, accept=True
    )
    assert err["code"] == "forbidden"

    assert (
        await adviser.request("call.answer", conversation_id=conv_id, call_id=call_id, accept=True)
    )["type"] == "ack"
    started = await customer.wait_for(event_of("call.started"))
    assert started["body"] == {"call_id": call_id, "media": "video"}
    await customer.request(
        "call.media", conversation_id=conv_id, call_id=call_id, audio=True, video=False
    )
    media = await adviser.wait_for(event_of("call.media"))
    assert media["body"]["role"] == "customer" and media["body"]["video"] is False

    # chat keeps working during the call
    ack = await customer.request(
        "chat.send", conversation_id=conv_id, client_id=cid(), text="während"
    )
    assert ack["type"] == "ack"
    await asyncio.sleep(0.3)
    assert (await adviser.request("call.hangup", conversation_id=conv_id, call_id=call_id))[
        "type"
    ] == "ack"
    ended = await customer.wait_for(event_of("call.ended"))
    assert ended["body"]["reason"] == "hangup" and ended["body"]["by"] == "adviser"
    assert ended["body"]["duration_s"] >= 0.3 and ended["body"]["media"] == "video"
    err = await customer.request("call.hangup", conversation_id=conv_id, call_id=call_id)
    assert err["code"] == "invalid_state"

    # again: the adviser asks for audio, the customer declines
    await adviser.request("call.request", conversation_id=conv_id, media="audio")
    second = (
        await customer.wait_for(
            lambda f: (
                f["type"] == "event"
                and f["kind"] == "call.requested"
                and f["body"]["by"] == "adviser"
            )
        )
    )["body"]["call_id"]
    assert second != call_id
    await customer.request("call.answer", conversation_id=conv_id, call_id=second, accept=False)
    declined = await adviser.wait_for(event_of("call.declined"))
    assert declined["body"] == {"call_id": second, "by": "customer"}

    # a third call ends with the conversation
    await customer.request("call.request", conversation_id=conv_id, media="audio")
    third = (
        await adviser.wait_for(
            lambda f: (
                f["type"] == "event"
                and f["kind"] == "call.requested"
                and f["body"]["call_id"] not in (call_id, second)
            )
        )
    )["body"]["call_id"]
    await adviser.request("call.answer", conversation_id=conv_id, call_id=third, accept=True)
    await customer.request("conversation.end", conversation_id=conv_id)
    ended = await adviser.wait_for(
        lambda f: (
            f["type"] == "event" and f["kind"] == "call.ended" and f["body"]["call_id"] == third
        )
    )
    assert ended["body"]["reason"] == "conversation_ended"
    await adviser.wait_for(event_of("conversation.ended"))
    await asyncio.gather(adviser.close(), customer.close())


async def test_a_screen_share_without_a_camera_call(live_server: LiveServer) -> None:
    """Customers ask to show their screen without going on video: a call whose media
    is "screen", answered like any call, with the share announced by `call.media`."""
    adviser, customer, conv_id = await active_call_pair(live_server)
    ack = await customer.request("call.request", conversation_id=conv_id, media="screen")
    assert ack["type"] == "ack"
    requested = await adviser.wait_for(event_of("call.requested"))
    call_id = requested["body"]["call_id"]
    assert requested["body"]["media"] == "screen"
    update = await adviser.wait_for(
        lambda f: f["type"] == "conversation.update" and f["conversation"]["call"]
    )
    assert update["conversation"]["call"]["media"] == "screen"
    assert (
        await adviser.request("call.answer", conversation_id=conv_id, call_id=call_id, accept=True)
    )["type"] == "ack"
    started = await customer.wait_for(event_of("call.started"))
    assert started["body"] == {"call_id": call_id, "media": "screen"}
    await customer.request(
        "call.media",
        conversation_id=conv_id,
        call_id=call_id,
        audio=False,
        video=False,
        screen=True,
    )
    media = await adviser.wait_for(event_of("call.media"))
    assert media["body"]["screen"] is True and media["body"]["video"] is False
    assert (await adviser.request("call.hangup", conversation_id=conv_id, call_id=call_id))[
        "type"
    ] == "ack"
    ended = await customer.wait_for(event_of("call.ended"))
    assert ended["body"]["media"] == "screen"
    # no other kind of call
    err = await customer.request("call.request", conversation_id=conv_id, media="window")
    assert err["type"] == "error" and err["code"] == "bad_request"


async def test_signalling_reaches_only_the_other_participant(live_server: LiveServer) -> None:
    adviser, customer, conv_id = await active_call_pair(live_server)
    # a supervisor follows the conversation (may read it) but must not get signalling
    boss = await adviser_socket(live_server, "boss@bank.example", "Boss", role="supervisor")
    assert (await boss.request("subscribe", conversation_id=conv_id, after_seq=0))[
        "type"
    ] == "subscribed"
    # a second customer with their own conversation tries to inject signalling
    _, other_token = await new_conversation(live_server.base_url)
    intruder = await WsClient.connect(live_server.ws_url, token=other_token)

    await customer.request("call.request", conversation_id=conv_id, media="video")
    call_id = (await adviser.wait_for(event_of("call.requested")))["body"]["call_id"]
    offer = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
    await customer.send("rtc.signal", conversation_id=conv_id, call_id=call_id, description=offer)
    got = await adviser.expect("rtc.signal")
    assert (
        got["description"] == offer and got["from_role"] == "customer" and got["call_id"] == call_id
    )
    cand = {
        "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    }
    await adviser.send("rtc.signal", conversation_id=conv_id, call_id=call_id, candidate=cand)
    got = await customer.expect("rtc.signal")
    assert got["candidate"]["candidate"] == cand["candidate"] and got["from_role"] == "adviser"
    # the route the hub picked the socket by (CallRoute) is not sent
    assert not {"to_peer", "to_role", "to_adviser"} & got.keys()

    bad = [
        (intruder, {"call_id": call_id, "description": offer}, "forbidden"),
        (customer, {"call_id": "not-the-call-id", "description": offer}, "invalid_state"),
        (customer, {"call_id": call_id, "description": offer, "candidate": cand}, "bad_request"),
        (customer, {"call_id": call_id}, "bad_request"),
        (
            customer,
            {"call_id": call_id, "description": {"type": "nonsense", "sdp": ""}},
            "bad_request",
        ),
    ]
    for ws, fields, code in bad:
        err = await ws.request("rtc.signal", conversation_id=conv_id, **fields)
        assert err["type"] == "error" and err["code"] == code, (fields, err)
    await asyncio.sleep(0.3)
    for ws in (boss, customer, adviser, intruder):
        assert not [f for f in ws.frames if f["type"] == "rtc.signal"]
    await asyncio.gather(adviser.close(), customer.close(), boss.close(), intruder.close())


async def test_each_side_of_a_call_is_held_by_one_tab(live_server: LiveServer) -> None:
    """With the console and the chat open twice each, signalling flows between exactly
    one socket per side; another tab takes the call over only when asked to (or once
    the holder is gone)."""
    adviser_a, customer_1, conv_id = await active_call_pair(live_server)
    cookie, _ = await login(live_server.base_url, "anna@bank.example", PASSWORD)
    adviser_b = await WsClient.connect(live_server.ws_url, cookie=cookie)
    await adviser_b.request("subscribe", conversation_id=conv_id, after_seq=0)
    token = customer_1.token
    customer_2 = await WsClient.connect(live_server.ws_url, token=token)
    await customer_2.request("subscribe", conversation_id=conv_id, after_seq=0)
    tabs: tuple[WsClient, ...] = (adviser_a, adviser_b, customer_1, customer_2)

    def candidate(n: int) -> dict[str, Any]:
        return {"candidate": f"candidate:{n} 1 udp 2122260223 127.0.0.1 5000{n} typ host"}

    async def signal(ws: WsClient, n: int) -> None:
        await ws.send(
            "rtc.signal", conversation_id=conv_id, call_id=call_id, candidate=candidate(n)
        )

    async def refused(ws: WsClient, n: int) -> dict[str, Any]:
        return await ws.request("rtc.signal", conversation_id=conv_id, call_id=call_id,
                                candidate=candidate(n))  # fmt: skip

    async def got_only(ws: WsClient, n: int) -> None:
        await ws.wait_for(
            lambda f: f["type"] == "rtc.signal" and f"candidate:{n} " in f["candidate"]["candidate"]
        )
        await asyncio.sleep(0.2)
        for other in tabs:
            if other is not ws:
                assert not [
                    f for f in other.frames
                    if f["type"] == "rtc.signal" and f"candidate:{n} " in f["candidate"]["candidate"]
                ], n  # fmt: skip

    # the customer's first tab asks, the adviser's first tab accepts: they hold the call
    await customer_1.request("call.request", conversation_id=conv_id, media="video")
    call_id = (await adviser_b.wait_for(event_of("call.requested")))["body"]["call_id"]
    ack = await adviser_a.request("call.answer", conversation_id=conv_id, call_id=call_id,
                                  accept=True)  # fmt: skip
    assert ack["type"] == "ack"
    for ws in tabs:
        await ws.wait_for(event_of("call.started"))
    await signal(adviser_a, 1)
    await got_only(customer_1, 1)
    await signal(customer_1, 2)
    await got_only(adviser_a, 2)

    # the other tabs are refused and told where the call is
    for ws, n in ((adviser_b, 3), (customer_2, 4)):
        err = await refused(ws, n)
        assert err["type"] == "error" and err["code"] == "call_elsewhere"
        moved = await ws.expect("call.moved")
        assert moved["call_id"] == call_id and moved["conversation_id"] == conv_id
    await asyncio.sleep(0.2)
    for ws in tabs:
        assert not [f for f in ws.frames if f["type"] == "rtc.signal" and "candidate:3 " in str(f)]

    # the adviser moves the call to the second tab: the first one is told
    ack = await adviser_b.request("call.take", conversation_id=conv_id, call_id=call_id)
    assert ack["type"] == "ack"
    await adviser_a.expect("call.moved", call_id=call_id)
    assert not [f for f in customer_1.frames if f["type"] == "call.moved"]
    await signal(customer_1, 5)
    await got_only(adviser_b, 5)
    assert (await refused(adviser_a, 6))["code"] == "call_elsewhere"

    # the holding tab goes away (reload, closed): the next tab that signals holds it
    await customer_1.close()
    await asyncio.sleep(0.2)
    tabs = (adviser_a, adviser_b, customer_2)
    await signal(customer_2, 7)
    await got_only(adviser_b, 7)
    await signal(adviser_b, 8)
    await got_only(customer_2, 8)

    # a colleague, a stranger and the wrong call cannot take it
    colleague = await adviser_socket(live_server, "carl@bank.example", "Carl")
    _, other_token = await new_conversation(live_server.base_url)
    stranger = await WsClient.connect(live_server.ws_url, token=other_token)
    for ws, call, code in (
        (colleague, call_id, "forbidden"),
        (stranger, call_id, "forbidden"),
        (adviser_a, "not-the-call-id", "invalid_state"),
    ):
        err = await ws.request("call.take", conversation_id=conv_id, call_id=call)
        assert err["type"] == "error" and err["code"] == code, (call, err)
    assert not [f for f in adviser_b.frames if f["type"] == "call.moved"]
    await asyncio.gather(*(ws.close() for ws in (*tabs, colleague, stranger)))


async def test_turn_credentials_only_for_participants(tmp_path: Path) -> None:
    server = make_server(
        tmp_path,
        VISAVIS_ICE_URLS="stun:turn.bank.example:3478,turn:turn.bank.example:3478?transport=udp",
        VISAVIS_TURN_SECRET="s3cret",
        VISAVIS_TURN_TTL_S="600",
    )
    server.start()
    try:
        adviser, customer, conv_id = await active_call_pair(server)
        reply = await customer.request("ice.request", conversation_id=conv_id)
        assert reply["type"] == "ice.servers" and reply["ttl_s"] == 600
        stun, turn = reply["ice_servers"]
        assert stun == {"urls": ["stun:turn.bank.example:3478"]}
        expiry, label = turn["username"].split(":", 1)
        assert label == f"{conv_id}-customer"
        assert 590 <= int(expiry) - time.time() <= 610
        assert turn["credential"] and turn["urls"] == ["turn:turn.bank.example:3478?transport=udp"]

        colleague = await adviser_socket(server, "ben@bank.example", "Ben")
        _, other_token = await new_conversation(server.base_url)
        stranger = await WsClient.connect(server.ws_url, token=other_token)
        for ws in (colleague, stranger):
            err = await ws.request("ice.request", conversation_id=conv_id)
            assert err["type"] == "error" and err["code"] == "forbidden"
        await asyncio.gather(adviser.close(), customer.close(), colleague.close(), stranger.close())
    finally:
        server.stop()


async def test_coturn_accepts_visavis_credentials_and_refuses_forged_or_expired(
    coturn: Coturn,
) -> None:
    from aioice.turn import create_turn_endpoint

    from visavis.media.ice import IceConfig, ice_servers, turn_credential

    config = IceConfig.parse(coturn.url, coturn.secret, 600, "relay")
    turn = ice_servers(config, "conv-customer")["ice_servers"][0]

    async def allocate(username: str, password: str) -> bool:
        try:
            transport, _ = await asyncio.wait_for(
                create_turn_endpoint(
                    asyncio.DatagramProtocol, ("127.0.0.1", coturn.port), username, password
                ),
                5,
            )
        except Exception:
            return False
        transport.close()
        return True

    assert await allocate(turn["username"], turn["credential"])
    forged = turn_credential("not-the-secret", "conv-customer", 600)
    assert not await allocate(*forged)
    expired = turn_credential(coturn.secret, "conv-customer", 600, now=time.time() - 3600)
    assert not await allocate(*expired)
    tampered_user = turn["username"].replace("conv-customer", "conv-adviser")
    assert not await allocate(tampered_user, turn["credential"])


@pytest.mark.parametrize("relay", [False, True], ids=["direct", "turn-relay"])
async def test_aiortc_peers_call_through_the_websocket_protocol(
    relay: bool, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Two Python WebRTC peers (aiortc) negotiate only through visavis frames."""
    from aiortc import (
        RTCConfiguration,
        RTCIceServer,
        RTCPeerConnection,
        RTCSessionDescription,
    )
    from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
    from aiortc.rtcconfiguration import RTCIceTransportPolicy

    env = {}
    if relay:
        turn = request.getfixturevalue("coturn")
        env = {
            "VISAVIS_ICE_URLS": turn.url,
            "VISAVIS_TURN_SECRET": turn.secret,
            "VISAVIS_ICE_TRANSPORT_POLICY": "relay",
        }
    server = make_server(tmp_path, **env)
    server.start()
    pcs: list[RTCPeerConnection] = []
    pumps: list[asyncio.Future[None]] = []
    try:
        adviser, customer, conv_id = await active_call_pair(server)

        async def peer(ws: WsClient) -> tuple[RTCPeerConnection, dict[str, int]]:
            ice = await ws.request("ice.request", conversation_id=conv_id)
            servers = [RTCIceServer(**s) for s in ice["ice_servers"]]
            pc = RTCPeerConnection(
                RTCConfiguration(
                    iceServers=servers,
                    iceTransportPolicy=RTCIceTransportPolicy(ice["ice_transport_policy"]),
                )
            )
            pcs.append(pc)
            pc.addTrack(VideoStreamTrack())
            pc.addTrack(AudioStreamTrack())
            counts = {"video": 0, "audio": 0}

            @pc.on("track")
            def on_track(track: Any) -> None:
                async def pump() -> None:
                    while True:
                        await track.recv()
                        counts[track.kind] += 1

                pumps.append(asyncio.ensure_future(pump()))

            return pc, counts

        await customer.request("call.request", conversation_id=conv_id, media="video")
        call_id = (await adviser.wait_for(event_of("call.requested")))["body"]["call_id"]
        t0 = time.monotonic()
        await adviser.request("call.answer", conversation_id=conv_id, call_id=call_id, accept=True)
        c_pc, c_counts = await peer(customer)
        a_pc, a_counts = await peer(adviser)

        # the caller (customer) offers; aiortc gathers all candidates into the SDP
        await c_pc.setLocalDescription(await c_pc.createOffer())
        d = c_pc.localDescription
        await customer.send("rtc.signal", conversation_id=conv_id, call_id=call_id,
                            description={"type": d.type, "sdp": d.sdp})  # fmt: skip
        offer = (await adviser.expect("rtc.signal", timeout=15))["description"]
        await a_pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        await a_pc.setLocalDescription(await a_pc.createAnswer())
        d = a_pc.localDescription
        await adviser.send("rtc.signal", conversation_id=conv_id, call_id=call_id,
                           description={"type": d.type, "sdp": d.sdp})  # fmt: skip
        answer = (await customer.expect("rtc.signal", timeout=15))["description"]
        await c_pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))

        deadline = time.monotonic() + 20
        # polling plain counters fed by the receive pumps
        while time.monotonic() < deadline and min(*c_counts.values(), *a_counts.values()) < 10:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - t0
        print(f"aiortc {'relay' if relay else 'direct'}: 10 frames each way after {elapsed:.2f} s")
        assert min(c_counts.values()) >= 10 and min(a_counts.values()) >= 10, (c_counts, a_counts)
        if relay:
            ice = c_pc.getTransceivers()[0].receiver.transport.transport
            local = ice.iceGatherer.getLocalCandidates()
            assert local and all(c.type == "relay" for c in local), [c.type for c in local]
        await asyncio.gather(adviser.close(), customer.close())
    finally:
        for task in pumps:
            task.cancel()
        for pc in pcs:
            await pc.close()
        server.stop()
