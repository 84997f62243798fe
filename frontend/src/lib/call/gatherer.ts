// A throw-away peer connection that only gathers ICE candidates: the pre-call check
// and the TURN probe ask it which candidates the given servers yield. An interface,
// so their tests hand in a fake.

export interface Gatherer {
  /** Each gathered candidate's type ("host", "srflx", "prflx", "relay"). */
  oncandidate: ((type: string) => void) | null;
  /** Gathering is complete. */
  ondone: (() => void) | null;
  /** Starts gathering (a data channel gives the offer something to negotiate). */
  gather(label: string): Promise<void>;
  close(): void;
}

/** Opens a gatherer (may throw, like `new RTCPeerConnection` with a bad config). */
export type GathererFactory = (config: RTCConfiguration) => Gatherer;

export const browserGatherer: GathererFactory = (config) => {
  const pc = new RTCPeerConnection(config);
  const g: Gatherer = {
    oncandidate: null,
    ondone: null,
    gather: async (label) => {
      pc.createDataChannel(label);
      await pc.setLocalDescription();
    },
    close: () => pc.close(),
  };
  pc.onicecandidate = (e) => {
    const c = e.candidate;
    if (!c) g.ondone?.();
    else if (c.type) g.oncandidate?.(c.type);
  };
  pc.onicegatheringstatechange = () => {
    if (pc.iceGatheringState === "complete") g.ondone?.();
  };
  return g;
};
