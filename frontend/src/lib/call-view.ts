// The call panel both apps show above the message list: incoming/outgoing ringing
// with the pre-call check, then the running call (videos, controls, status).
// All state lives in the CallManager; this element only renders it and forwards
// clicks. Videos are always muted here: the manager plays the remote sound.
// Pointing on the live video: the adviser's view of the customer's camera carries a
// <vv-video-pointer> that sends, the customer's self-view one that shows the mark. The
// element lives in the room's chunk (loaded whenever a call runs, see room-lazy.ts);
// until it is there the tags are inert.
import { html, nothing, type PropertyValues } from "lit";
import { I18nElement } from "./base";
import type { CallManager } from "./call";
import { callKind, formatClock, tcall } from "./call-strings";
import { recordingError, trec } from "./call/recording-strings";
import { roomIcon } from "./call/room-icons";
import { tscreen } from "./call/screen-strings";
import { callViewStyles } from "./call-view-styles";
import { errorText, lang } from "./i18n";
import { icon } from "./icons";
import type { VideoPointer } from "../room/video-pointer";
import { loadRoom } from "./room-lazy";
import { base } from "./styles";

export class CallView extends I18nElement {
  static override properties = {
    manager: { attribute: false },
    otherName: { type: String },
    stageless: { type: Boolean },
    showDevices: { state: true },
    now: { state: true },
  };
  declare manager: CallManager | null;
  declare otherName: string;
  /** The room shows the videos (stage and tiles): here only status and controls. */
  declare stageless: boolean;
  declare showDevices: boolean;
  declare now: number;

  private bound: CallManager | null = null;
  private clock = 0;

  constructor() {
    super();
    this.manager = null;
    this.otherName = "";
    this.stageless = false;
    this.showDevices = false;
    this.now = Date.now();
  }

  static override styles = [base, callViewStyles];

  override connectedCallback(): void {
    super.connectedCallback();
    this.bind(this.manager);
    this.clock = window.setInterval(() => {
      if (this.manager?.phase === "active") this.now = Date.now();
    }, 1000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.bind(null);
    window.clearInterval(this.clock);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("manager") && this.isConnected) this.bind(this.manager);
  }

  private readonly onChange = (): void => this.requestUpdate();

  private readonly onLevel = (): void => {
    const level = this.bound?.micLevel ?? 0;
    for (const m of this.renderRoot.querySelectorAll<HTMLMeterElement>("meter.level"))
      m.value = level;
  };

  private bind(m: CallManager | null): void {
    if (this.bound === m) return;
    this.bound?.removeEventListener("change", this.onChange);
    this.bound?.removeEventListener("level", this.onLevel);
    this.bound = m;
    m?.addEventListener("change", this.onChange);
    m?.addEventListener("level", this.onLevel);
  }

  protected override updated(): void {
    const m = this.manager;
    this.hidden = !m || (m.phase === "idle" && !m.noAnswer && !m.error && !m.deviceError);
    // srcObject cannot be bound in a template: set it after each render.
    for (const v of this.renderRoot.querySelectorAll<HTMLVideoElement>("video[data-src]")) {
      const want =
        v.dataset["src"] === "remote" ? (m?.remoteVideo ?? null) : (m?.localPreview ?? null);
      if (v.srcObject !== want) {
        v.srcObject = want;
        if (want) void v.play().catch(() => undefined);
      }
    }
    const pointers = this.renderRoot.querySelectorAll<VideoPointer>("vv-video-pointer");
    for (const p of pointers)
      p.video = this.renderRoot.querySelector(`video[data-src="${p.dataset["video"]}"]`);
    if (pointers.length && !customElements.get("vv-video-pointer"))
      loadRoom().catch(() => undefined); // offline: the next render tries again
  }

  /** The adviser points on the customer's camera ("send"); the customer's self-view
   * shows where (mirrored like the picture). */
  private pointer(m: CallManager, over: "remote" | "local") {
    const send = over === "remote";
    return html`<vv-video-pointer
      mode=${send ? "send" : "show"}
      data-video=${over}
      data-testid=${send ? "video-pointer-send" : "video-pointer-show"}
      .client=${m.client}
      .conversationId=${m.conversationId}
      ?mirrored=${!send && m.facing === "user"}
    ></vv-video-pointer>`;
  }

  private get name(): string {
    return this.otherName || "?";
  }

  // ------------------------------------------------------------------ pieces
  // Camera and microphone are toggle buttons with a constant name ("Kamera",
  // "Mikrofon"): aria-pressed="true" while the device is on and sending, which is what
  // the icon and colour show (red, crossed out: off). The tooltip names the action.
  private micButton(m: CallManager) {
    const on = !!m.micTrack;
    const muted = on && m.micMuted;
    const action = !on ? tcall("micOnLabel") : muted ? tcall("unmuteLabel") : tcall("muteLabel");
    return html`<button
      type="button"
      class="ctl ${!on || muted ? "off" : ""}"
      data-testid="call-mic"
      data-state=${!on ? "off" : muted ? "muted" : "on"}
      title=${action}
      aria-pressed=${on && !muted ? "true" : "false"}
      @click=${() => void m.toggleMic()}
    >
      ${icon(on && !muted ? "mic" : "micOff")}<span class="label">${tcall("micSelect")}</span>
    </button>`;
  }

  private camButton(m: CallManager) {
    const on = !!m.camTrack;
    return html`<button
      type="button"
      class="ctl ${on ? "" : "off"}"
      data-testid="call-camera"
      data-state=${on ? "on" : "off"}
      title=${on ? tcall("camOffLabel") : tcall("camOnLabel")}
      aria-pressed=${on ? "true" : "false"}
      @click=${() => void m.toggleCamera()}
    >
      ${icon(on ? "cam" : "camOff")}<span class="label">${tcall("cameraSelect")}</span>
    </button>`;
  }

  private flipButton(m: CallManager) {
    if (!m.camTrack || !m.canFlip) return nothing;
    return html`<button
      type="button"
      class="ctl"
      data-testid="call-flip"
      data-facing=${m.facing}
      aria-label=${tcall("flipLabel")}
      title=${tcall("flipLabel")}
      @click=${() => void m.flipCamera()}
    >
      ${icon("flip")}<span class="label">${tcall("flip")}</span>
    </button>`;
  }

  /** Share the screen / stop sharing; hidden where the browser cannot share. */
  private screenButton(m: CallManager) {
    if (!m.canShareScreen) return nothing;
    const on = !!m.screenTrack;
    const label = on ? tscreen("screenStopLabel") : tscreen("screenShareLabel");
    return html`<button
      type="button"
      class="ctl"
      data-testid="call-screen"
      data-state=${on ? "on" : "off"}
      aria-label=${label}
      title=${label}
      aria-pressed=${on ? "true" : "false"}
      @click=${() => (on ? m.stopScreen() : void m.shareScreen())}
    >
      ${roomIcon("screen")}<span class="label"
        >${on ? tscreen("screenStop") : tscreen("screenShare")}</span
      >
    </button>`;
  }

  private devicesButton() {
    return html`<button
      type="button"
      class="ctl"
      data-testid="call-devices"
      aria-label=${tcall("devicesLabel")}
      title=${tcall("devicesLabel")}
      aria-expanded=${this.showDevices ? "true" : "false"}
      aria-controls="devices"
      @click=${() => {
        this.showDevices = !this.showDevices;
        if (this.showDevices) void this.manager?.refreshDevices();
      }}
    >
      ${icon("gear")}<span class="label">${tcall("devices")}</span>
    </button>`;
  }

  private deviceLabel(d: MediaDeviceInfo, i: number): string {
    if (d.deviceId === "default") return tcall("deviceDefault");
    return d.label || tcall("deviceUnnamed", { n: i + 1 });
  }

  private devicesPanel(m: CallManager) {
    if (!this.showDevices) return nothing;
    return html`<div class="devices" id="devices">
      <div>
        <label for="cam-select">${tcall("cameraSelect")}</label>
        <select
          id="cam-select"
          data-testid="select-camera"
          ?disabled=${m.cameras.length === 0}
          @change=${(e: Event) => void m.selectCamera((e.target as HTMLSelectElement).value)}
        >
          ${m.cameras.length === 0 ? html`<option value="">${tcall("deviceDefault")}</option>` : nothing}
          ${m.cameras.map(
            (d, i) =>
              html`<option value=${d.deviceId} ?selected=${d.deviceId === m.camDeviceId}>
                ${this.deviceLabel(d, i)}
              </option>`,
          )}
        </select>
      </div>
      <div>
        <label for="mic-select">${tcall("micSelect")}</label>
        <select
          id="mic-select"
          data-testid="select-mic"
          ?disabled=${m.mics.length === 0}
          @change=${(e: Event) => void m.selectMic((e.target as HTMLSelectElement).value)}
        >
          ${m.mics.length === 0 ? html`<option value="">${tcall("deviceDefault")}</option>` : nothing}
          ${m.mics.map(
            (d, i) =>
              html`<option value=${d.deviceId} ?selected=${d.deviceId === m.micDeviceId}>
                ${this.deviceLabel(d, i)}
              </option>`,
          )}
        </select>
      </div>
    </div>`;
  }

  private deviceError(m: CallManager) {
    const e = m.deviceError;
    const text = e ? tcall(`err_${e}` as const) : m.error ? errorText(m.error) : "";
    return html`<p class="alert" role="alert" data-testid="call-error" data-code=${e || m.error}>
      ${text}
    </p>`;
  }

  private level(m: CallManager, id: string) {
    if (!m.micTrack)
      return html`<span class="muted" data-testid="mic-off-note">${tcall("micIsOff")}</span>`;
    return html`<div class="level-row">
      <label for=${id}>${m.micMuted ? tcall("micMutedNote") : tcall("micLevel")}</label>
      <meter
        id=${id}
        class="level"
        data-testid="mic-level"
        min="0"
        max="1"
        low="0.05"
        high="0.8"
        optimum="0.4"
        .value=${m.micLevel}
      ></meter>
    </div>`;
  }

  private checkLines(m: CallManager) {
    const c = m.check;
    let text: string;
    switch (c.result) {
      case "relay":
        text = tcall("checkRelayOk");
        break;
      case "no-relay":
        text = tcall("checkRelayMissing");
        break;
      case "none":
        text = tcall("checkNoTurn");
        break;
      case "error":
        text = tcall("checkError");
        break;
      default:
        text = tcall("checkRunning");
    }
    return html`<ul
      data-testid="connection-check"
      aria-label=${tcall("checkTitle")}
      aria-live="polite"
    >
      <li data-testid="check-server" data-result=${m.signalling ? "ok" : "down"}>
        ${m.signalling ? tcall("checkServerOk") : tcall("checkServerDown")}
      </li>
      <li
        data-testid="check-turn"
        data-result=${c.result}
        data-turn=${c.turn ? "yes" : "no"}
        data-candidates=${c.candidateTypes.join(" ")}
      >
        ${text}
      </li>
      ${c.policy === "relay" && c.result !== "running" ? html`<li>${tcall("checkRelayOnly")}</li>` : nothing}
    </ul>`;
  }

  private precheck(m: CallManager) {
    if (!m.precheckOpen) {
      return html`<div class="row">
        <button
          type="button"
          class="link"
          data-testid="precheck-open"
          @click=${() => m.openPrecheck()}
        >
          ${tcall("precheckOpen")}
        </button>
      </div>`;
    }
    const mirror = m.facing === "user" ? "mirror" : "";
    // A screen share turns on nothing of one's own: say what accepting does instead.
    const note =
      m.phase === "incoming" && m.call?.media === "screen"
        ? tcall("precheckScreen", { name: this.name })
        : m.phase === "incoming"
          ? tcall("precheckAccept")
          : m.role === "customer"
            ? tcall("precheckGentle")
            : "";
    return html`<div
      class="precheck"
      data-testid="precheck"
      role="group"
      aria-labelledby="precheck-h"
    >
      <h3 id="precheck-h">${tcall("precheckTitle")}</h3>
      ${note ? html`<p class="note muted">${note}</p>` : nothing}
      <div class="preview" aria-label=${tcall("previewLabel")} role="img">
        ${
          m.camTrack
            ? html`<video
                class=${mirror}
                data-src="local"
                data-testid="precheck-video"
                autoplay
                playsinline
                muted
              ></video>`
            : html`<span>${tcall("cameraIsOff")}</span>`
        }
      </div>
      <div class="checks">
        <div class="row">
          ${this.camButton(m)} ${this.micButton(m)} ${this.flipButton(m)} ${this.devicesButton()}
          ${
            m.phase === "incoming" && ((m.wantVideo && !m.camTrack) || (m.wantAudio && !m.micTrack))
              ? html`<span
                  class="muted"
                  data-testid="want-media"
                  data-audio=${m.wantAudio ? "on" : "off"}
                  data-video=${m.wantVideo ? "on" : "off"}
                  >${tcall("acceptTurnsOn", {
                    what: [
                      m.wantVideo && !m.camTrack ? tcall("cameraSelect") : "",
                      m.wantAudio && !m.micTrack ? tcall("micSelect") : "",
                    ]
                      .filter(Boolean)
                      .join(" + "),
                  })}</span
                >`
              : nothing
          }
        </div>
        ${this.devicesPanel(m)} ${this.level(m, "precheck-level")} ${this.checkLines(m)}
        <div class="row">
          <button
            type="button"
            class="secondary"
            data-testid="precheck-skip"
            @click=${() => m.skipPrecheck()}
          >
            ${tcall("precheckSkip")}
          </button>
        </div>
      </div>
    </div>`;
  }

  private ringing(m: CallManager) {
    const call = m.call;
    if (!call) return nothing;
    const kind = callKind(call.media);
    const incoming = m.phase === "incoming";
    return html`<section
      data-testid="call-panel"
      data-phase=${m.phase}
      data-media=${call.media}
      aria-label=${tcall("panelLabel")}
    >
      ${
        incoming
          ? html`<div class="ring" role="alert" data-testid="incoming-call">
              <p>${icon("phone")} ${tcall("incoming", { name: this.name, kind })}</p>
              <div class="row">
                <button
                  type="button"
                  class="accept"
                  data-testid="call-accept"
                  aria-label=${tcall("acceptLabel", { kind, name: this.name })}
                  ?disabled=${m.busy}
                  @click=${() => void m.accept()}
                >
                  ${tcall("accept")}
                </button>
                <button
                  type="button"
                  class="danger"
                  data-testid="call-decline"
                  aria-label=${tcall("declineLabel", { kind, name: this.name })}
                  ?disabled=${m.busy}
                  @click=${() => void m.decline()}
                >
                  ${tcall("decline")}
                </button>
              </div>
            </div>`
          : html`<div class="ring" role="status" data-testid="outgoing-call">
              <p>${icon("phone")} ${tcall("calling", { name: this.name })}</p>
              <button
                type="button"
                class="danger"
                data-testid="call-cancel"
                aria-label=${tcall("cancelLabel")}
                ?disabled=${m.busy}
                @click=${() => void m.hangup()}
              >
                ${tcall("cancel")}
              </button>
            </div>`
      }
      ${this.precheck(m)} ${this.deviceError(m)}
    </section>`;
  }

  private initial(): string {
    return (this.otherName.trim()[0] ?? "?").toUpperCase();
  }

  private active(m: CallManager) {
    const call = m.call;
    if (!call) return nothing;
    const status = m.status;
    const statusText =
      status === "connected"
        ? tcall("statusConnected")
        : status === "reconnecting"
          ? tcall("statusReconnecting")
          : tcall("statusConnecting");
    const started = call.started_at ? Date.parse(call.started_at) : NaN;
    const elapsed = Number.isFinite(started) ? formatClock(this.now - started) : "";
    const remoteVideoOn = !!m.remoteVideo && m.remoteVideoLive && m.remoteFlags.video !== false;
    const showStage = !this.stageless && (call.media === "video" || !!m.camTrack || remoteVideoOn);
    const mirror = m.facing === "user" ? "mirror" : "";
    return html`<section
      data-testid="call-panel"
      data-phase="active"
      data-media=${call.media}
      data-remote-video=${remoteVideoOn ? "on" : "off"}
      aria-label=${`${callKind(call.media)} · ${this.name}`}
    >
      <div class="status">
        <span data-testid="call-status" data-state=${status} role="status" aria-live="polite"
          >${statusText}</span
        >
        <span class="timer" data-testid="call-timer">${callKind(call.media)} · ${elapsed}</span>
      </div>
      ${this.recordingBar(m)}
      ${m.slow && status !== "connected" ? html`<p class="alert" data-testid="call-slow">${tcall("statusSlow")}</p>` : nothing}
      ${
        showStage
          ? html`<div class="stage" data-testid="call-stage">
              <video
                class="remote"
                data-src="remote"
                data-testid="remote-video"
                autoplay
                playsinline
                muted
                ?hidden=${!remoteVideoOn}
              ></video>
              ${remoteVideoOn && m.role === "adviser" ? this.pointer(m, "remote") : nothing}
              ${
                remoteVideoOn
                  ? nothing
                  : html`<div class="placeholder">
                      <span class="avatar" aria-hidden="true">${this.initial()}</span>
                      <span data-testid="remote-camera-off"
                        >${tcall("remoteCameraOff", { name: this.name })}</span
                      >
                    </div>`
              }
              ${m.remoteFlags.audio === false && m.remoteFlags.video ? html`<span class="badge">${tcall("remoteMuted", { name: this.name })}</span>` : nothing}
              ${
                m.camTrack
                  ? html`<div class="self">
                      <video
                        class=${mirror}
                        data-src="local"
                        data-testid="local-video"
                        autoplay
                        playsinline
                        muted
                      ></video>
                      ${m.role === "customer" ? this.pointer(m, "local") : nothing}
                    </div>`
                  : nothing
              }
            </div>`
          : this.stageless
            ? nothing
            : html`<div class="audio-only">
                <span class="avatar" aria-hidden="true">${this.initial()}</span>
                <span
                  >${this.name}${m.remoteFlags.audio ? nothing : html` · <span class="muted">${tcall("remoteMuted", { name: this.name })}</span>`}</span
                >
              </div>`
      }
      ${
        m.audioBlocked
          ? html`<button
              type="button"
              class="secondary"
              data-testid="enable-audio"
              @click=${() => m.enableAudio()}
            >
              ${tcall("enableAudio")}
            </button>`
          : nothing
      }
      <div class="controls" role="group" aria-label=${tcall("controlsLabel")}>
        ${this.micButton(m)} ${this.camButton(m)} ${this.flipButton(m)} ${this.screenButton(m)}
        ${this.devicesButton()}
        <button
          type="button"
          class="hangup"
          data-testid="call-hangup"
          aria-label=${tcall("hangupLabel")}
          title=${tcall("hangupLabel")}
          ?disabled=${m.busy}
          @click=${() => void m.hangup()}
        >
          ${icon("hangup")}<span class="label">${tcall("hangup")}</span>
        </button>
      </div>
      ${this.devicesPanel(m)} ${this.deviceError(m)}
    </section>`;
  }

  /** Recording: the adviser's start button, everyone's consent dialog, the indicator
   * with stop / withdraw while it runs. */
  private recordingBar(m: CallManager) {
    const r = m.recording;
    const error = r.error ? (recordingError(r.error) ?? errorText(r.error)) : "";
    const err = error
      ? html`<p class="alert" role="alert" data-testid="recording-error">${error}</p>`
      : nothing;
    if (r.phase === "running") {
      const label = m.role === "adviser" ? trec("stop") : trec("withdraw");
      return html`<div class="recording" data-testid="recording-bar" data-phase="running">
          <span
            class="rec-on"
            role="status"
            aria-live="assertive"
            data-testid="recording-indicator"
            data-link=${r.link}
            >${trec("running")}</span
          >
          <button
            type="button"
            class="danger"
            data-testid="recording-stop"
            aria-label=${m.role === "adviser" ? label : trec("withdrawLabel")}
            ?disabled=${r.busy}
            @click=${() => void r.stop()}
          >
            ${label}
          </button>
        </div>
        ${err}`;
    }
    if (r.phase === "requested") {
      if (r.consentedHere || !r.consent)
        return html`<div class="recording" data-testid="recording-bar" data-phase="requested">
            <span role="status" aria-live="polite" data-testid="recording-waiting"
              >${trec("waiting")}</span
            >
            ${
              m.role === "adviser"
                ? html`<button
                    type="button"
                    class="secondary"
                    data-testid="recording-stop"
                    ?disabled=${r.busy}
                    @click=${() => void r.stop()}
                  >
                    ${trec("stop")}
                  </button>`
                : nothing
            }
          </div>
          ${err}`;
      const text = lang() === "de" ? r.consent.de : r.consent.en;
      return html`<div
          class="recording consent"
          role="alertdialog"
          aria-labelledby="rec-title"
          aria-describedby="rec-text"
          data-testid="recording-consent"
        >
          <h3 id="rec-title">${trec("askTitle")}</h3>
          <p id="rec-text">${text}</p>
          <p class="muted">${trec("version", { v: r.consent.version })}</p>
          <div class="row">
            <button
              type="button"
              class="accept"
              data-testid="recording-agree"
              ?disabled=${r.busy}
              @click=${() => void r.agree()}
            >
              ${trec("agree")}
            </button>
            <button
              type="button"
              class="secondary"
              data-testid="recording-refuse"
              ?disabled=${r.busy}
              @click=${() => void r.decline()}
            >
              ${trec("refuse")}
            </button>
          </div>
        </div>
        ${err}`;
    }
    const call = m.call;
    if (m.role !== "adviser" || !call || call.status !== "active") return err;
    return html`<div class="recording" data-testid="recording-bar" data-phase="idle">
        <button
          type="button"
          class="secondary"
          data-testid="recording-start"
          aria-label=${trec("startLabel")}
          ?disabled=${r.busy}
          @click=${() => void r.request(call.id)}
        >
          ${trec("start")}
        </button>
      </div>
      ${err}`;
  }

  private elsewhere(m: CallManager) {
    const call = m.call;
    if (!call) return nothing;
    return html`<section
      data-testid="call-panel"
      data-phase="elsewhere"
      data-media=${call.media}
      aria-label=${tcall("panelLabel")}
    >
      <div class="ring" role="status" data-testid="call-elsewhere">
        <p>${icon("phone")} ${tcall("elsewhere", { kind: callKind(call.media) })}</p>
        <div class="row">
          <button
            type="button"
            class="accept"
            data-testid="call-take"
            aria-label=${tcall("takeHereLabel")}
            ?disabled=${m.busy}
            @click=${() => void m.take()}
          >
            ${tcall("takeHere")}
          </button>
          <button
            type="button"
            class="danger"
            data-testid="call-hangup"
            aria-label=${tcall("hangupLabel")}
            ?disabled=${m.busy}
            @click=${() => void m.hangup()}
          >
            ${tcall("hangup")}
          </button>
        </div>
      </div>
    </section>`;
  }

  override render() {
    const m = this.manager;
    if (!m) return nothing;
    if (m.phase === "outgoing" || m.phase === "incoming") return this.ringing(m);
    if (m.phase === "active") return this.active(m);
    if (m.phase === "elsewhere") return this.elsewhere(m);
    if (m.noAnswer)
      return html`<section>
        <p class="muted" role="status" data-testid="call-no-answer">${tcall("noAnswer")}</p>
      </section>`;
    if (m.error || m.deviceError) return html`<section>${this.deviceError(m)}</section>`;
    return nothing;
  }
}
customElements.define("vv-call", CallView);
