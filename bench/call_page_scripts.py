"""What bench/call_setup.py runs inside its pages (with `page.evaluate`): watchers of
a call's decoded video frames, and the floor of two bare peer connections."""

# In a page: resolve Date.now() of the first decoded video frame of the call's pc.
WATCH_FIRST_FRAME = """
() => {
  window.__firstFrameAt = null;
  const tick = async () => {
    const pc = window.__visavisCall && window.__visavisCall.pc;
    if (pc) {
      const r = await pc.getStats();
      let n = 0;
      r.forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video") n += s.framesDecoded || 0;
      });
      if (n > 0) { window.__firstFrameAt = Date.now(); return; }
    }
    setTimeout(tick, 5);
  };
  tick();
}
"""

# In a page: Date.now() when video decoding runs steadily again: the start of the
# first run of decoded frames lasting 0.5 s without a gap over 200 ms (a burst of old
# frames right after an outage followed by a freeze does not count).
WATCH_STEADY = """
() => {
  // Frames decoded since the last look, per stream (streams may vanish and new start).
  let seen = null;
  const decodedSince = async () => {
    const cur = {};
    (await (window.__visavisCall ? window.__visavisCall.pc.getStats() : new Map())).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") cur[s.id] = s.framesDecoded || 0;
    });
    let d = 0;
    if (seen) for (const id in cur) d += Math.max(0, cur[id] - (seen[id] || 0));
    seen = cur;
    return d;
  };
  window.__steadyAt = null;
  let lastInc = 0, runStart = null;
  const tick = async () => {
    const d = await decodedSince(), now = Date.now();
    if (d > 0) {
      if (runStart === null || now - lastInc > 200) runStart = now;
      lastInc = now;
      if (now - runStart >= 500) { window.__steadyAt = runStart; return; }
    } else if (runStart !== null && now - lastInc > 200) {
      runStart = null;
    }
    setTimeout(tick, 30);
  };
  tick();
}
"""


# The floor: two bare peer connections in one page.
FLOOR = """
async ({ iceServers, iceTransportPolicy }) => {
  const t0 = Date.now();
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: true,
    video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30, max: 30 } },
  });
  const cfg = { iceServers, iceTransportPolicy, bundlePolicy: "max-bundle" };
  const a = new RTCPeerConnection(cfg), b = new RTCPeerConnection(cfg);
  a.onicecandidate = (e) => { if (e.candidate) b.addIceCandidate(e.candidate); };
  b.onicecandidate = (e) => { if (e.candidate) a.addIceCandidate(e.candidate); };
  for (const t of stream.getTracks()) a.addTrack(t, stream);
  for (const t of stream.getTracks()) b.addTrack(t.clone());
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
  const first = async (pc) => {
    for (;;) {
      let n = 0;
      (await pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video") n += s.framesDecoded || 0;
      });
      if (n > 0) return Date.now();
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const [ta, tb] = await Promise.all([first(a), first(b)]);
  const stats = await a.getStats();
  let local = null;
  stats.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) {
      const pair = stats.get(s.selectedCandidatePairId);
      const lc = pair && stats.get(pair.localCandidateId);
      local = lc ? lc.candidateType : null;
    }
  });
  a.close(); b.close();
  for (const t of stream.getTracks()) t.stop();
  return { ms: Math.max(ta, tb) - t0, a: ta - t0, b: tb - t0, local };
}
"""
