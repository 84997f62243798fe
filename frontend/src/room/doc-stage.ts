// <vv-doc-stage>: documents together in the consultation room (COLLAB-SPEC "Frontend").
// Properties: `client` (the VisavisClient), `conversationId`, `side` ("customer" | "adviser"; not `role`, which is the element's ARIA role), `events` (the
// conversation's applied events), `lang` (re-render on change), optionally `selfId`
// (an adviser's own id, to tell them from a consulting colleague).
//
// The stage is what the events say (stage-state.ts). The presenter — the author of the
// last `document.presented` — turns pages with `doc.present` and sends their zoom and
// scroll as `doc.view` (ephemeral, ~10/s); the other side follows until it scrolls,
// zooms or turns a page itself ("follow again" returns), and either side may take over.
// Pointers go out as `pointer` (≤ 30/s, coalesced on animation frames); annotations as
// `annotation.add` when a stroke ends, shown once their event is back (kept, replayed).
import { css, html, nothing, type PropertyValues } from "lit";
import { ApiError } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText, tc } from "../lib/i18n";
import type { Author, EventMsg, ServerMessage } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import { newClientId, type Answer, type VisavisClient } from "../lib/ws";
import { AccessTokens, fileUrl, pageUrl } from "./doc-http";
import "./doc-page";
import type { DocPage, DrawDetail, Mode, RemotePointer, ScrollTarget } from "./doc-page";
import "./doc-bar";
import "./doc-shelf";
import type { DocShelf, RightsDetail } from "./doc-shelf";
import { td } from "./doc-strings";
import "./doc-tools";
import "./doc-uploads";
import type { DocUploads } from "./doc-uploads";
import "./doc-video";
import type { VideoControlDetail } from "./doc-video";
import { Coalescer } from "./pace";
import { signRequestOf } from "../signing/sign-state";
import "./snapshot";
import type { PhotoDetail } from "./snapshot";
import {
  annotationsOf,
  emptyStage,
  isMine,
  stageOf,
  type Annotation,
  type Color,
  type DocumentInfo,
  type StageState,
} from "./stage-state";

type Role = "customer" | "adviser";

interface View {
  documentId: string;
  page: number;
  zoom: number;
  x: number;
  y: number;
}

const ZOOMS = [1, 1.25, 1.5, 2, 3, 4];
/** Signing is its own chunk: loaded when the log has a signature event or the adviser
 * starts one. */
let signLoading: Promise<unknown> | null = null;
function loadSigning(): Promise<unknown> {
  signLoading ??= import("../signing/sign-panel").catch((err: unknown) => {
    signLoading = null;
    throw err;
  });
  return signLoading;
}

/** A pointer not moved for this long is taken away (its sender may have gone). */
const POINTER_IDLE_MS = 10_000;

export class DocStage extends I18nElement {
  static override properties = {
    client: { attribute: false },
    conversationId: { type: String },
    side: { type: String },
    events: { attribute: false },
    lang: { type: String },
    selfId: { type: String },
    viewDoc: { state: true },
    viewPage: { state: true },
    zoom: { state: true },
    fit: { state: true },
    following: { state: true },
    scrollTarget: { state: true },
    pointers: { state: true },
    mode: { state: true },
    color: { state: true },
    notice: { state: true },
    dragging: { state: true },
    mine: { state: true },
    videoSrc: { state: true },
    sendingPhoto: { state: true },
    shelfOpen: { state: true },
    signPreparing: { state: true },
    signLoaded: { state: true },
  };
  declare client: VisavisClient | null;
  declare conversationId: string;
  declare side: Role;
  declare events: readonly EventMsg[];
  declare lang: string;
  declare selfId: string;
  declare viewDoc: string | null;
  declare viewPage: number;
  declare zoom: number;
  /** Whole page in view: a local view (sent as zoom 1, the width-fit), below 100 %. */
  declare fit: boolean;
  declare following: boolean;
  declare scrollTarget: ScrollTarget | null;
  declare pointers: ReadonlyMap<string, RemotePointer & { documentId: string; page: number }>;
  declare mode: Mode;
  declare color: Color;
  declare notice: string;
  declare dragging: boolean;
  /** My annotations sent and not yet back as events. */
  declare mine: readonly Annotation[];
  declare videoSrc: string;
  declare sendingPhoto: boolean;
  /** The documents and ways to share are folded away until asked for. */
  declare shelfOpen: boolean;
  /** The adviser places signature boxes (<vv-sign-prepare>). */
  declare signPreparing: boolean;
  declare signLoaded: boolean;

  private stage: StageState = emptyStage;
  /** The stage was shown once: later events arrive live (their local time counts). */
  private primed = false;
  /** Local arrival time of live video.control events, by seq. */
  private readonly liveAt = new Map<number, number>();
  private presenterView: View | null = null;
  /** A library document I shared: put on the stage once its `document.shared` is here
   * (the share's ack does not name the new document: the first one from the library
   * after `after` with this name is it). */
  private sharing: { after: number; name: string } | null = null;
  /** My page turns sent and not yet answered. */
  private turning = 0;
  private off: (() => void) | null = null;
  private listening: VisavisClient | null = null;
  private readonly pointerTimers = new Map<string, number>();
  private videoTimer = 0;
  private readonly tokens = new AccessTokens(
    () => this.client,
    () => this.side,
  );
  private readonly viewOut = new Coalescer<View>(100, (v) => this.sendView(v));
  private readonly pointerOut = new Coalescer<{ x: number; y: number; visible: boolean }>(33, (p) =>
    this.sendPointer(p),
  );

  constructor() {
    super();
    this.client = null;
    this.conversationId = "";
    this.side = "customer";
    this.events = [];
    this.lang = "";
    this.selfId = "";
    this.viewDoc = null;
    this.viewPage = 0;
    this.zoom = 1;
    this.fit = false;
    this.following = true;
    this.scrollTarget = null;
    this.pointers = new Map();
    this.mode = "point";
    this.color = "red";
    this.notice = "";
    this.dragging = false;
    this.mine = [];
    this.videoSrc = "";
    this.sendingPhoto = false;
    this.shelfOpen = false;
    this.signPreparing = false;
    this.signLoaded = false;
  }

  static override styles = [
    base,
    css`
      /* Above the messages (console, chat panel) the stage takes its own space, never
         more than --vv-doc-stage-max of the window, less when the column is short: the
         page shrinks first, then the stage scrolls inside, so the messages and the input
         stay in view. */
      :host {
        display: flex;
        flex-direction: column;
        flex: 0 1 auto;
        min-height: 2.5rem;
        max-height: var(--vv-doc-stage-max, 60vh);
        overflow-y: auto;
        position: relative;
        background: #eef1f4;
        color: #1d232a; /* not the dark room's white: the stage is light */
        border-bottom: 1px solid #d5dbe1;
      }
      :host([showing]) {
        min-height: min(12rem, 35vh);
      }
      section {
        display: flex;
        flex-direction: column;
        flex: 1 1 auto;
        min-height: 0;
      }
      vv-doc-tools {
        padding: 0.3rem 0.5rem;
        background: #fff;
        border-bottom: 1px solid #d5dbe1;
      }
      vv-doc-page,
      vv-doc-video {
        height: min(70vh, 42rem);
        flex: 1 1 auto;
        min-height: 9rem;
      }
      vv-doc-shelf,
      .notice {
        padding: 0.5rem;
      }
      vv-doc-uploads {
        padding: 0 0.5rem;
      }
      /* An empty notice takes no room (it stays in place as a live region). */
      .notice:empty {
        min-height: 0;
        padding: 0;
        margin: 0;
      }
      vv-snapshot-taker {
        margin: 0.5rem;
      }
      .drop {
        position: absolute;
        inset: 0;
        display: flex;
        align-items: center;
        justify-content: center;
        background: rgb(11 87 164 / 0.85);
        color: #fff;
        font-size: 1.3rem;
        font-weight: 700;
        z-index: 5;
        pointer-events: none;
      }
      .sign-open {
        padding: 0.3rem 0.5rem;
      }
      details summary {
        cursor: pointer;
        padding: 0.4rem 0.5rem;
      }
    `,
  ];

  // ------------------------------------------------------------------ lifecycle
  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener("keydown", this.onKey);
    this.addEventListener("dragover", this.onDragOver);
    this.addEventListener("dragleave", this.onDragLeave);
    this.addEventListener("drop", this.onDrop);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
    this.off = null;
    this.listening = null;
    this.viewOut.cancel();
    this.pointerOut.cancel();
    for (const t of this.pointerTimers.values()) window.clearTimeout(t);
    this.pointerTimers.clear();
    window.clearTimeout(this.videoTimer);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (this.client !== this.listening) {
      this.off?.();
      this.listening = this.client;
      this.off = this.client?.listen((f) => this.onFrame(f)) ?? null;
    }
    if (changed.has("conversationId") && changed.get("conversationId") !== undefined) {
      this.stage = emptyStage;
      this.primed = false;
      this.pointers = new Map();
      this.mine = [];
    }
    if (changed.has("events") || changed.has("conversationId")) this.restage();
    if (
      !this.signLoaded &&
      (this.signPreparing || this.events.some((e) => e.kind.startsWith("signature.")))
    )
      void loadSigning().then(() => (this.signLoaded = true));
  }

  protected override updated(): void {
    this.primed = this.stage.applied > 0 || this.primed;
    // A shown document keeps a useful height when the column is short (styles).
    this.toggleAttribute("showing", !!this.doc);
  }

  /** Apply what the events say now, and what follows from it. */
  private restage(): void {
    const before = this.stage;
    const after = stageOf(this.events, before);
    if (after === before) return;
    this.stage = after;
    this.presentShared();
    if (this.primed && after.video !== before.video) {
      for (const v of after.video.values())
        if (before.video.get(v.documentId) !== v) this.liveAt.set(v.seq, Date.now());
    }
    if (after.annotations !== before.annotations && this.mine.length > 0) {
      const back = (a: Annotation) =>
        annotationsOf(after, a.documentId, a.page).some((x) => x.id === a.id);
      this.mine = this.mine.filter((a) => !back(a));
    }
    const p = after.presented;
    if (p !== before.presented) {
      if (!p) this.viewDoc = null;
      else {
        const fresh = p.documentId !== this.viewDoc || !before.presented;
        // While my own page turns are on their way, my page is the one I clicked (fast
        // clicks must not jump back); otherwise the events say it (a reload replays).
        const leading = this.amPresenter && this.turning > 0;
        if (fresh || (!leading && (this.following || this.amPresenter))) {
          if (fresh) {
            this.following = true;
            this.zoom = 1;
            this.scrollTarget = { x: 0, y: 0 };
            this.presenterView = null;
          }
          this.viewDoc = p.documentId;
          this.viewPage = p.page;
        }
      }
      this.updateVideoSrc();
    }
  }

  /** The library document I just shared goes on the stage once its event is here. */
  private presentShared(): void {
    const sharing = this.sharing;
    if (!sharing) return;
    const doc = [...this.stage.documents.values()].find(
      (d) => d.seq > sharing.after && d.source === "library" && d.name === sharing.name,
    );
    if (!doc) return;
    this.sharing = null;
    void this.present(doc.id, 0);
  }

  // ------------------------------------------------------------------ reading
  private get amPresenter(): boolean {
    const p = this.stage.presented;
    return !!p && isMine(p.by, this.side, this.selfId || null);
  }

  private get doc(): DocumentInfo | null {
    return this.viewDoc ? (this.stage.documents.get(this.viewDoc) ?? null) : null;
  }

  private get ended(): boolean {
    return this.events.some((e) => e.kind === "conversation.ended");
  }

  /** The other side's name, as its events say it. */
  private otherName(): string {
    const other = this.side === "customer" ? "adviser" : "customer";
    for (let i = this.events.length - 1; i >= 0; i -= 1) {
      const a = this.events[i]?.author;
      if (a?.role === other && a.name) return a.name;
    }
    return tc(other);
  }

  private isPresenter(from: Author): boolean {
    const p = this.stage.presented;
    return !!p && p.by.role === from.role && (!p.by.id || !from.id || p.by.id === from.id);
  }

  // ------------------------------------------------------------------ frames
  private onFrame(f: ServerMessage): void {
    if (f.type === "doc.view" && f.conversation_id === this.conversationId) {
      if (!this.isPresenter(f.from)) return;
      this.presenterView = {
        documentId: f.document_id,
        page: f.page,
        zoom: f.zoom,
        x: f.x,
        y: f.y,
      };
      if (this.following && !this.amPresenter) this.applyView();
    } else if (f.type === "pointer" && f.conversation_id === this.conversationId) {
      if (f.surface !== "document") return;
      const key = `${f.from.role}:${f.from.id ?? ""}`;
      const next = new Map(this.pointers);
      window.clearTimeout(this.pointerTimers.get(key));
      if (f.visible && f.document_id !== null && f.page !== null) {
        next.set(key, {
          key,
          name: f.from.name || tc(f.from.role),
          role: f.from.role,
          x: f.x,
          y: f.y,
          documentId: f.document_id,
          page: f.page,
        });
        this.pointerTimers.set(
          key,
          window.setTimeout(() => {
            const m = new Map(this.pointers);
            m.delete(key);
            this.pointers = m;
          }, POINTER_IDLE_MS),
        );
      } else next.delete(key);
      this.pointers = next;
    }
  }

  /** Take the presenter's zoom and scroll (when on the same page). */
  private applyView(): void {
    const v = this.presenterView;
    if (!v || v.documentId !== this.viewDoc) return;
    this.zoom = v.zoom;
    if (v.zoom > 1) this.fit = false;
    if (v.page === this.viewPage) this.scrollTarget = { x: v.x, y: v.y };
  }

  // ------------------------------------------------------------------ sending
  private async ask(frame: Parameters<VisavisClient["request"]>[0]): Promise<Answer | null> {
    const client = this.client;
    if (!client) return null;
    const a = await client.request(frame);
    if (a.type === "error") {
      const code = a.code === "disconnected" || a.code === "timeout" ? "network" : a.code;
      this.notice = errorText(code);
    } else this.notice = "";
    return a;
  }

  private async present(documentId: string, page: number): Promise<void> {
    await this.ask({
      type: "doc.present",
      conversation_id: this.conversationId,
      document_id: documentId,
      page,
    });
  }

  private pushView(): void {
    if (!this.amPresenter || !this.viewDoc) return;
    const pos = this.pageEl?.scrollPosition() ?? { x: 0, y: 0 };
    this.viewOut.push({ documentId: this.viewDoc, page: this.viewPage, zoom: this.zoom, ...pos });
  }

  private sendView(v: View): void {
    this.client?.send({
      type: "doc.view",
      conversation_id: this.conversationId,
      document_id: v.documentId,
      page: v.page,
      zoom: v.zoom,
      x: v.x,
      y: v.y,
    });
  }

  private sendPointer(p: { x: number; y: number; visible: boolean }): void {
    if (!this.viewDoc) return;
    this.client?.send({
      type: "pointer",
      conversation_id: this.conversationId,
      surface: "document",
      document_id: this.viewDoc,
      page: this.viewPage,
      x: Math.round(p.x * 10000) / 10000,
      y: Math.round(p.y * 10000) / 10000,
      visible: p.visible,
    });
  }

  private get pageEl(): DocPage | null {
    return this.renderRoot.querySelector<DocPage>("vv-doc-page");
  }

  // ------------------------------------------------------------------ actions
  private go(page: number): void {
    const doc = this.doc;
    if (!doc) return;
    const p = Math.max(0, Math.min(doc.pages.length - 1, page));
    if (p === this.viewPage) return;
    this.viewPage = p;
    this.scrollTarget = { x: 0, y: 0 };
    if (this.amPresenter) {
      this.turning += 1;
      void this.present(doc.id, p).then(() => {
        this.turning -= 1;
        this.pushView();
      });
    } else this.following = false;
  }

  private setZoom(z: number, fit = false): void {
    this.fit = fit;
    this.zoom = Math.max(1, Math.min(4, z));
    if (this.amPresenter) void this.updateComplete.then(() => this.pushView());
    else this.following = false;
  }

  private stepZoom(dir: 1 | -1): void {
    // Below 100 % (the width) is one more step: the whole page.
    if (dir === -1 && this.zoom <= 1) {
      if (!this.fit) this.setZoom(1, true);
      return;
    }
    if (dir === 1 && this.fit) {
      this.setZoom(1);
      return;
    }
    const i = ZOOMS.findIndex((z) => z >= this.zoom - 0.001);
    const next = ZOOMS[Math.max(0, Math.min(ZOOMS.length - 1, (i < 0 ? 0 : i) + dir))] ?? 1;
    this.setZoom(next);
  }

  private onScrolled(): void {
    if (this.amPresenter) this.pushView();
    else if (this.following) this.following = false;
  }

  private followAgain(): void {
    const p = this.stage.presented;
    if (!p) return;
    this.following = true;
    this.viewDoc = p.documentId;
    this.viewPage = p.page;
    this.applyView();
  }

  private async takeOver(): Promise<void> {
    if (!this.viewDoc) return;
    await this.present(this.viewDoc, this.viewPage);
    this.following = true;
    this.pushView();
  }

  private async show(documentId: string): Promise<void> {
    await this.present(documentId, 0);
  }

  private async closeStage(): Promise<void> {
    await this.ask({ type: "stage.clear", conversation_id: this.conversationId });
  }

  private async share(d: { id: string; name: string }): Promise<void> {
    this.sharing = { after: this.stage.lastSeq, name: d.name };
    const a = await this.ask({
      type: "doc.share",
      conversation_id: this.conversationId,
      library_id: d.id,
    });
    if (a?.type === "ack") this.presentShared();
    else this.sharing = null;
  }

  private async draw(d: DrawDetail): Promise<void> {
    const doc = this.doc;
    if (!doc) return;
    const id = newClientId();
    const local: Annotation = {
      id,
      documentId: doc.id,
      page: this.viewPage,
      tool: d.tool,
      color: d.color,
      points: d.points,
      text: d.text,
      by: { role: this.side },
      seq: 0,
    };
    this.mine = [...this.mine, local];
    const a = await this.ask({
      type: "annotation.add",
      conversation_id: this.conversationId,
      document_id: doc.id,
      page: local.page,
      annotation_id: id,
      tool: d.tool,
      color: d.color,
      points: d.points,
      text: d.text,
    });
    if (a?.type !== "ack") this.mine = this.mine.filter((x) => x.id !== id);
  }

  private async clearPage(): Promise<void> {
    if (!this.viewDoc) return;
    await this.ask({
      type: "annotation.clear",
      conversation_id: this.conversationId,
      document_id: this.viewDoc,
      page: this.viewPage,
    });
  }

  private async videoControl(d: VideoControlDetail): Promise<void> {
    if (!this.viewDoc) return;
    await this.ask({
      type: "video.control",
      conversation_id: this.conversationId,
      document_id: this.viewDoc,
      action: d.action,
      position: d.position,
    });
  }

  /** The adviser's decision whether the customer may download; the shelf shows the
   * click until the event is back, or what held before if it was refused. */
  private async setRights(e: CustomEvent<RightsDetail>): Promise<void> {
    const shelf = e.currentTarget as DocShelf;
    const a = await this.ask({
      type: "doc.rights",
      conversation_id: this.conversationId,
      document_id: e.detail.id,
      downloadable: e.detail.downloadable,
    });
    if (a?.type !== "ack") shelf.settle(e.detail.id);
  }

  private async download(): Promise<void> {
    const doc = this.doc;
    if (!doc) return;
    try {
      const a = document.createElement("a");
      a.href = fileUrl(doc.id, await this.tokens.token(doc.id));
      a.download = doc.name;
      a.click();
    } catch (err) {
      this.notice = errorText(err instanceof ApiError ? err.code : "network");
    }
  }

  /** The video's URL with a token, renewed before it expires (a reload resumes where
   * the events say). */
  private updateVideoSrc(): void {
    window.clearTimeout(this.videoTimer);
    const doc = this.doc;
    if (!doc || doc.kind !== "video") {
      this.videoSrc = "";
      return;
    }
    const id = doc.id;
    this.tokens.token(id).then(
      (t) => {
        if (this.viewDoc !== id) return;
        this.videoSrc = fileUrl(id, t);
        const due = this.tokens.dueIn(id) ?? 60_000;
        this.videoTimer = window.setTimeout(() => this.updateVideoSrc(), Math.max(30_000, due));
      },
      (err: unknown) => (this.notice = errorText(err instanceof ApiError ? err.code : "network")),
    );
  }

  private readonly urlFor = async (page: number, width: number, fresh: boolean) => {
    const id = this.viewDoc ?? "";
    if (fresh) this.tokens.forget(id);
    return pageUrl(id, page, width, await this.tokens.token(id));
  };

  // ------------------------------------------------------------------ uploads
  /** Upload, then put the (last) shared document on the stage: the uploader presents. */
  private async upload(files: readonly Blob[], source: "upload" | "snapshot", name?: string) {
    const el = this.renderRoot.querySelector<DocUploads>("vv-doc-uploads");
    const shared = el ? await el.send(files, source, name) : null;
    if (shared) await this.present(shared, 0);
  }

  private async sendPhoto(p: PhotoDetail): Promise<void> {
    this.sendingPhoto = true;
    const time = new Date().toTimeString().slice(0, 5).replace(":", "-");
    await this.upload([p.blob], "snapshot", td("photoName", { time }));
    this.sendingPhoto = false;
  }

  private async declinePhoto(): Promise<void> {
    await this.ask({ type: "snapshot.decline", conversation_id: this.conversationId });
  }

  private readonly onDragOver = (e: DragEvent): void => {
    if (!e.dataTransfer?.types.includes("Files") || this.ended) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
    this.dragging = true;
  };

  private readonly onDragLeave = (e: DragEvent): void => {
    if (e.relatedTarget instanceof Node && this.contains(e.relatedTarget)) return;
    this.dragging = false;
  };

  private readonly onDrop = (e: DragEvent): void => {
    this.dragging = false;
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length === 0 || this.ended) return;
    e.preventDefault();
    void this.upload(files, "upload");
  };

  private readonly onKey = (e: KeyboardEvent): void => {
    const t = e.composedPath()[0];
    if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || !this.doc) return;
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    // Arrows turn pages unless the zoomed page scrolls sideways.
    if (e.key === "PageDown" || (e.key === "ArrowRight" && this.zoom === 1))
      this.go(this.viewPage + 1);
    else if (e.key === "PageUp" || (e.key === "ArrowLeft" && this.zoom === 1))
      this.go(this.viewPage - 1);
    else if (e.key === "+" || e.key === "=") this.stepZoom(1);
    else if (e.key === "-") this.stepZoom(-1);
    else return;
    e.preventDefault();
  };

  // ------------------------------------------------------------------ rendering
  private renderBar(doc: DocumentInfo) {
    const p = this.stage.presented;
    return html`<vv-doc-bar
      .doc=${doc}
      .page=${this.viewPage}
      .zoom=${this.zoom}
      ?fit=${this.fit}
      ?presenting=${this.amPresenter}
      ?following=${this.following}
      .presenterName=${p?.by.name || this.otherName()}
      ?downloadable=${this.side === "adviser" || doc.downloadable}
      ?ended=${this.ended}
      @vv-follow=${this.followAgain}
      @vv-take-over=${this.takeOver}
      @vv-page=${(e: CustomEvent<number>) => this.go(e.detail)}
      @vv-zoom-step=${(e: CustomEvent<1 | -1>) => this.stepZoom(e.detail)}
      @vv-download=${this.download}
      @vv-close=${this.closeStage}
    ></vv-doc-bar>`;
  }
  private renderDoc(doc: DocumentInfo) {
    if (doc.kind === "video") {
      const v = this.stage.video.get(doc.id) ?? null;
      return html`<vv-doc-video
        .doc=${doc}
        .state=${v}
        .stateAt=${v ? (this.liveAt.get(v.seq) ?? 0) : 0}
        .src=${this.videoSrc}
        @vv-video-control=${(e: CustomEvent<VideoControlDetail>) => this.videoControl(e.detail)}
      ></vv-doc-video>`;
    }
    const page = this.viewPage;
    const pointers = [...this.pointers.values()].filter(
      (p) => p.documentId === doc.id && p.page === page,
    );
    const mine = this.mine.filter((a) => a.documentId === doc.id && a.page === page);
    return html`<vv-doc-tools
        .mode=${this.mode}
        .color=${this.color}
        ?disabled=${this.ended}
        @vv-mode=${(e: CustomEvent<Mode>) => (this.mode = e.detail)}
        @vv-color=${(e: CustomEvent<Color>) => (this.color = e.detail)}
        @vv-clear-page=${this.clearPage}
      ></vv-doc-tools>
      <vv-doc-page
        .doc=${doc}
        .page=${page}
        .zoom=${this.zoom}
        ?fit=${this.fit}
        .scrollTarget=${this.scrollTarget}
        .annotations=${[...annotationsOf(this.stage, doc.id, page), ...mine]}
        .pointers=${pointers}
        .boxes=${this.signBoxes(doc.id, page)}
        .mode=${this.ended ? "point" : this.mode}
        .color=${this.color}
        .urlFor=${this.urlFor}
        @vv-scroll=${this.onScrolled}
        @vv-pointer=${(e: CustomEvent<{ x: number; y: number; visible: boolean }>) => {
          this.pointerOut.push(e.detail);
          if (!e.detail.visible) this.pointerOut.flush();
        }}
        @vv-draw=${(e: CustomEvent<DrawDetail>) => this.draw(e.detail)}
      ></vv-doc-page>`;
  }

  /** The boxes of an open signature request on this page, highlighted for everyone. */
  private signBoxes(documentId: string, page: number) {
    const req = signRequestOf(this.events);
    if (!req || req.status !== "open" || req.documentId !== documentId) return [];
    return req.spots.filter((s) => s.page === page);
  }

  private renderSigning() {
    const req = signRequestOf(this.events);
    const doc = this.doc;
    const open = req?.status === "open" || req?.status === "sealing";
    const canPrepare =
      this.side === "adviser" && !this.ended && doc?.kind === "pdf" && !open && !this.signPreparing;
    const button = canPrepare
      ? html`<div class="sign-open">
          <button
            type="button"
            class="secondary"
            data-testid="sign-prepare-open"
            @click=${() => (this.signPreparing = true)}
          >
            ${td("signPrepare")}
          </button>
        </div>`
      : nothing;
    if (!this.signLoaded || (!req && !this.signPreparing)) return button;
    return html`${button}<vv-sign-panel
        .client=${this.client}
        .conversationId=${this.conversationId}
        .side=${this.side}
        .events=${this.events}
        .doc=${doc}
        .page=${this.viewPage}
        .urlFor=${this.urlFor}
        .tokens=${this.tokens}
        ?preparing=${this.signPreparing}
        @vv-sign-close=${() => (this.signPreparing = false)}
      ></vv-sign-panel>`;
  }

  private renderSnapshot() {
    const s = this.stage.snapshot;
    if (this.ended) return nothing;
    if (this.side === "customer") {
      if (!s.pending) return nothing;
      return html`<vv-snapshot-taker
        .askedBy=${s.requestedBy?.name || this.otherName()}
        ?busy=${this.sendingPhoto}
        @vv-photo=${(e: CustomEvent<PhotoDetail>) => this.sendPhoto(e.detail)}
        @vv-decline=${this.declinePhoto}
      ></vv-snapshot-taker>`;
    }
    const name = this.otherName();
    if (s.pending)
      return html`<p class="notice muted" role="status" data-testid="photo-requested">
        ${td("photoRequested", { name })}
      </p>`;
    if (s.declined)
      return html`<p class="notice" role="status" data-testid="photo-declined">
        ${td("photoDeclined", { name })}
      </p>`;
    return nothing;
  }

  override render() {
    const doc = this.doc;
    const docs = this.stage.order.map((id) => this.stage.documents.get(id)).filter((d) => !!d);
    const shelf = html`<vv-doc-shelf
      .documents=${docs}
      .side=${this.side}
      .presentedId=${this.stage.presented?.documentId ?? ""}
      ?disabled=${this.ended}
      ?photoPending=${this.stage.snapshot.pending}
      @vv-files=${(e: CustomEvent<File[]>) => this.upload(e.detail, "upload")}
      @vv-show=${(e: CustomEvent<string>) => this.show(e.detail)}
      @vv-share=${(e: CustomEvent<{ id: string; name: string }>) => this.share(e.detail)}
      @vv-rights=${this.setRights}
      @vv-request-photo=${() => this.ask({ type: "snapshot.request", conversation_id: this.conversationId })}
    ></vv-doc-shelf>`;
    return html`<section
        aria-label=${td("stage")}
        data-testid="doc-stage"
        data-presented=${this.stage.presented?.documentId ?? ""}
        data-presenter=${this.amPresenter ? "me" : this.stage.presented ? "other" : ""}
      >
        ${doc ? this.renderBar(doc) : nothing} ${doc ? this.renderDoc(doc) : nothing}
        ${this.renderSigning()} ${this.renderSnapshot()}
        <vv-doc-uploads
          .client=${this.client}
          .conversationId=${this.conversationId}
          .side=${this.side}
        ></vv-doc-uploads>
        <p class="notice status-line" role="alert" data-testid="stage-notice">${this.notice}</p>
        <details
          ?open=${this.shelfOpen}
          @toggle=${(e: Event) => (this.shelfOpen = (e.target as HTMLDetailsElement).open)}
        >
          <summary data-testid="shelf-toggle">${td("stage")} (${docs.length})</summary>
          ${shelf}
        </details>
      </section>
      ${this.dragging ? html`<div class="drop" aria-hidden="true">${td("dropHere")}</div>` : nothing}`;
  }
}
customElements.define("vv-doc-stage", DocStage);

declare global {
  interface HTMLElementTagNameMap {
    "vv-doc-stage": DocStage;
  }
}
