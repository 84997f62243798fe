// The customer's answer to the adviser's "Request photo": open a camera (the back one
// on request), take a still at the camera's full resolution, look at it, then send it,
// take it again, or decline. `vv-photo` {blob, method} hands the photo to the stage
// (which uploads it with source=snapshot); `vv-decline` says no.
//
// The still: ImageCapture.takePhoto() where the browser has it (the sensor's full
// resolution, not the preview's), else a canvas grab at the track's own settings'
// width × height. `method` says which one was used.
import { css, html, nothing } from "lit";
import { I18nElement } from "../lib/base";
import { base } from "../lib/styles";
import { td } from "./doc-strings";

export type CaptureMethod = "imagecapture" | "canvas";

export interface PhotoDetail {
  blob: Blob;
  method: CaptureMethod;
  width: number;
  height: number;
}

type Phase = "ask" | "camera" | "review";

interface ImageCaptureLike {
  takePhoto(): Promise<Blob>;
}
type ImageCaptureCtor = new (track: MediaStreamTrack) => ImageCaptureLike;

export class SnapshotTaker extends I18nElement {
  static override properties = {
    askedBy: { type: String },
    busy: { type: Boolean },
    phase: { state: true },
    back: { state: true },
    error: { state: true },
    preview: { state: true },
  };
  /** Who asks (the adviser's name). */
  declare askedBy: string;
  /** Sending (the stage uploads). */
  declare busy: boolean;
  declare phase: Phase;
  declare back: boolean;
  declare error: string;
  /** The taken photo as a data: URL (the CSP allows data: images, not blob:). */
  declare preview: string;

  private stream: MediaStream | null = null;
  private photo: PhotoDetail | null = null;

  constructor() {
    super();
    this.askedBy = "";
    this.busy = false;
    this.phase = "ask";
    this.back = true;
    this.error = "";
    this.preview = "";
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        padding: 0.75rem;
        background: #fff;
        border: 2px solid var(--vv-primary, #0b57a4);
        border-radius: 8px;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        margin-top: 0.5rem;
      }
      video,
      img {
        display: block;
        max-width: 100%;
        max-height: 50vh;
        margin: 0.5rem auto 0;
        background: #000;
      }
      label.check {
        display: flex;
        gap: 0.4rem;
        align-items: center;
        font-weight: 400;
      }
      label.check input {
        width: auto;
      }
    `,
  ];

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop();
  }

  private stop(): void {
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    this.stream = null;
  }

  private async open(): Promise<void> {
    this.stop();
    this.error = "";
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        // Ask for much, get the camera's best: the photo is about the detail.
        video: {
          facingMode: this.back ? { ideal: "environment" } : { ideal: "user" },
          width: { ideal: 4096 },
          height: { ideal: 3072 },
        },
      });
    } catch {
      this.error = td("cameraFailed");
      this.phase = "ask";
      return;
    }
    this.phase = "camera";
    await this.updateComplete;
    const v = this.renderRoot.querySelector("video");
    if (v) {
      v.srcObject = this.stream;
      void v.play().catch(() => undefined);
    }
  }

  private async flip(e: Event): Promise<void> {
    this.back = (e.target as HTMLInputElement).checked;
    if (this.phase === "camera") await this.open();
  }

  private async take(): Promise<void> {
    const track = this.stream?.getVideoTracks()[0];
    const video = this.renderRoot.querySelector("video");
    if (!track || !video) return;
    let photo: PhotoDetail | null = null;
    const Ctor = (globalThis as { ImageCapture?: ImageCaptureCtor }).ImageCapture;
    if (Ctor) {
      try {
        const blob = await new Ctor(track).takePhoto();
        const size = await imageSize(blob);
        photo = { blob, method: "imagecapture", ...size };
      } catch {
        photo = null; // some cameras refuse takePhoto: the canvas grab below
      }
    }
    photo ??= await grab(video, track);
    if (!photo) {
      this.error = td("cameraFailed");
      return;
    }
    this.photo = photo;
    this.stop();
    this.preview = await dataUrl(photo.blob);
    this.phase = "review";
  }

  private send(): void {
    if (this.photo) this.emit<PhotoDetail>("vv-photo", this.photo);
  }

  private retake(): void {
    this.photo = null;
    this.preview = "";
    void this.open();
  }

  private decline(): void {
    this.stop();
    this.emit("vv-decline");
  }

  override render() {
    return html`<section
      role="dialog"
      aria-modal="false"
      aria-labelledby="snap-h"
      data-testid="snapshot-request"
      data-phase=${this.phase}
      data-method=${this.photo?.method ?? ""}
    >
      <p id="snap-h"><strong>${td("photoAsk", { name: this.askedBy })}</strong></p>
      <label class="check">
        <input
          type="checkbox"
          .checked=${this.back}
          data-testid="snapshot-back"
          @change=${this.flip}
        />
        ${td("backCamera")}
      </label>
      ${
        this.phase === "camera"
          ? html`<video
              playsinline
              muted
              aria-label=${td("cameraPreview")}
              data-testid="snapshot-preview"
            ></video>`
          : nothing
      }
      ${
        this.phase === "review"
          ? html`<img
              src=${this.preview}
              alt=${td("photoPreview")}
              data-testid="snapshot-photo"
              data-width=${this.photo?.width ?? 0}
              data-height=${this.photo?.height ?? 0}
            />`
          : nothing
      }
      <p class="status-line" role="alert">${this.error}</p>
      <div class="row">
        ${
          this.phase === "ask"
            ? html`<button type="button" data-testid="snapshot-open" @click=${this.open}>
                ${td("openCamera")}
              </button>`
            : this.phase === "camera"
              ? html`<button type="button" data-testid="snapshot-take" @click=${this.take}>
                  ${td("capture")}
                </button>`
              : html`<button
                    type="button"
                    data-testid="snapshot-send"
                    ?disabled=${this.busy}
                    @click=${this.send}
                  >
                    ${td("sendPhoto")}
                  </button>
                  <button
                    type="button"
                    class="secondary"
                    data-testid="snapshot-retake"
                    ?disabled=${this.busy}
                    @click=${this.retake}
                  >
                    ${td("retake")}
                  </button>`
        }
        <button
          type="button"
          class="danger"
          data-testid="snapshot-decline"
          ?disabled=${this.busy}
          @click=${this.decline}
        >
          ${td("decline")}
        </button>
      </div>
    </section>`;
  }
}

/** A still from the playing preview at the track's own resolution (its settings), not
 * the size the preview is shown at. */
async function grab(video: HTMLVideoElement, track: MediaStreamTrack): Promise<PhotoDetail | null> {
  const s = track.getSettings();
  const width = s.width ?? video.videoWidth;
  const height = s.height ?? video.videoHeight;
  if (!width || !height) return null;
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  ctx.drawImage(video, 0, 0, width, height);
  const blob = await new Promise<Blob | null>((resolve) =>
    canvas.toBlob((b) => resolve(b), "image/jpeg", 0.92),
  );
  return blob ? { blob, method: "canvas", width, height } : null;
}

async function imageSize(blob: Blob): Promise<{ width: number; height: number }> {
  const bmp = await createImageBitmap(blob);
  const size = { width: bmp.width, height: bmp.height };
  bmp.close();
  return size;
}

function dataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve) => {
    const r = new FileReader();
    r.onload = () => resolve(typeof r.result === "string" ? r.result : "");
    r.onerror = () => resolve("");
    r.readAsDataURL(blob);
  });
}

customElements.define("vv-snapshot-taker", SnapshotTaker);
