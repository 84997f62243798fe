// "My profile" (R5.4): what the adviser portal shows about me — listed or not,
// languages, topics, a short text, and a photo (uploaded with progress; previewed from
// a data: URL, which the CSP allows for images).
import { css, html, nothing } from "lit";
import { api, ApiError, type Topic } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText, lang } from "../lib/i18n";
import { base } from "../lib/styles";
import { tw } from "./ways-strings";
import { fieldText } from "../lib/form";

export interface Profile {
  id: string;
  name: string;
  photo_url: string | null;
  languages: string[];
  topics: string[];
  bio: string;
  listed: boolean;
}

const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"];
const MAX_PHOTO = 512 * 1024;

function initials(name: string): string {
  return (
    name
      .split(/\s+/)
      .map((w) => w[0] ?? "")
      .join("")
      .slice(0, 2)
      .toUpperCase() || "?"
  );
}

export class ProfileView extends I18nElement {
  static override properties = {
    csrf: { type: String },
    profile: { state: true },
    topics: { state: true },
    busy: { state: true },
    notice: { state: true },
    preview: { state: true },
    progress: { state: true },
    photoNotice: { state: true },
    photoVersion: { state: true },
    bioLength: { state: true },
  };
  declare csrf: string;
  declare profile: Profile | null;
  declare topics: Topic[];
  declare busy: boolean;
  declare notice: { ok: boolean; text: string } | null;
  declare preview: string | null;
  declare progress: number | null;
  declare photoNotice: { ok: boolean; text: string } | null;
  declare photoVersion: number;
  declare bioLength: number;

  private file: File | null = null;

  constructor() {
    super();
    this.csrf = "";
    this.profile = null;
    this.topics = [];
    this.busy = false;
    this.notice = null;
    this.preview = null;
    this.progress = null;
    this.photoNotice = null;
    this.photoVersion = 0;
    this.bioLength = 0;
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        padding: 1rem;
        max-width: 46rem;
        overflow-y: auto;
      }
      h2 {
        font-size: 1.15rem;
        margin: 0 0 0.3rem;
      }
      h3 {
        font-size: 1rem;
        margin: 1.2rem 0 0.5rem;
      }
      .field {
        margin-bottom: 0.9rem;
      }
      .check {
        display: flex;
        gap: 0.45rem;
        align-items: center;
        font-weight: 600;
      }
      .check input,
      fieldset input {
        width: auto;
      }
      fieldset {
        border: 1px solid #c9d1da;
        border-radius: 8px;
        margin: 0 0 0.9rem;
        padding: 0.5rem 0.75rem;
        display: flex;
        flex-wrap: wrap;
        gap: 0.3rem 1.2rem;
      }
      legend {
        font-weight: 600;
      }
      fieldset label {
        display: flex;
        gap: 0.4rem;
        align-items: center;
        font-weight: 400;
        margin: 0;
      }
      textarea {
        min-height: 6rem;
        resize: vertical;
      }
      .photo {
        display: flex;
        gap: 1rem;
        align-items: center;
        flex-wrap: wrap;
      }
      .photo img,
      .photo .initials {
        width: 6rem;
        height: 6rem;
        border-radius: 50%;
        object-fit: cover;
        border: 1px solid #c9d1da;
      }
      .photo .initials {
        display: grid;
        place-items: center;
        background: #14324f;
        color: #fff;
        font-size: 2rem;
        font-weight: 700;
      }
      progress {
        width: 12rem;
      }
      .ok {
        color: #1e7b34;
      }
      .count {
        font-size: 0.8rem;
        text-align: right;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
      }
      input[type="file"] {
        border: none;
        padding: 0.3rem 0;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const [p, tp] = await Promise.all([
        api<{ profile: Profile }>("GET", "/api/v1/me/profile"),
        api<{ topics: Topic[] }>("GET", "/api/v1/topics"),
      ]);
      this.profile = p.profile;
      this.topics = tp.topics ?? [];
      this.bioLength = p.profile.bio.length;
    } catch (err) {
      this.notice = { ok: false, text: errorText(err instanceof ApiError ? err.code : "network") };
    }
  }

  private async save(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.busy) return;
    const data = new FormData(e.target as HTMLFormElement);
    const languages = fieldText(data, "languages")
      .split(/[\s,;]+/)
      .map((x) => x.trim().toLowerCase())
      .filter(Boolean);
    const body = {
      listed: data.get("listed") === "on",
      languages: [...new Set(languages)].slice(0, 10),
      topics: data.getAll("topics").map(String),
      bio: fieldText(data, "bio").slice(0, 500),
    };
    this.busy = true;
    this.notice = null;
    try {
      const res = await api<{ profile: Profile }>("PUT", "/api/v1/me/profile", body, {
        "X-CSRF-Token": this.csrf,
      });
      this.profile = res.profile;
      this.notice = { ok: true, text: tw("saved") };
    } catch (err) {
      this.notice = { ok: false, text: errorText(err instanceof ApiError ? err.code : "network") };
    } finally {
      this.busy = false;
    }
  }

  private pickPhoto(e: Event): void {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0] ?? null;
    this.photoNotice = null;
    this.preview = null;
    this.file = null;
    if (!file) return;
    if (!PHOTO_TYPES.includes(file.type)) {
      this.photoNotice = { ok: false, text: tw("photoBadType") };
      input.value = "";
      return;
    }
    if (file.size > MAX_PHOTO) {
      this.photoNotice = { ok: false, text: tw("photoTooBig") };
      input.value = "";
      return;
    }
    this.file = file;
    const reader = new FileReader();
    reader.onload = () => {
      if (this.file === file && typeof reader.result === "string") this.preview = reader.result;
    };
    reader.readAsDataURL(file);
  }

  /** PUT the raw image with upload progress (fetch has no upload progress). */
  private upload(): void {
    const file = this.file;
    if (!file || this.progress !== null) return;
    this.progress = 0;
    this.photoNotice = null;
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", "/api/v1/me/photo");
    xhr.setRequestHeader("Content-Type", file.type);
    xhr.setRequestHeader("X-CSRF-Token", this.csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable) this.progress = Math.round((ev.loaded / ev.total) * 100);
    };
    xhr.onload = () => {
      this.progress = null;
      type Answer = { profile?: Profile; error?: { code?: string } };
      let data: Answer | null;
      try {
        data = JSON.parse(xhr.responseText) as Answer;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && data?.profile) {
        this.profile = data.profile;
        this.photoVersion = Date.now();
        // From now on the stored picture (GET /api/v1/me/photo), not the local preview.
        this.file = null;
        this.preview = null;
        const input = this.renderRoot.querySelector<HTMLInputElement>("#photo");
        if (input) input.value = "";
        this.photoNotice = { ok: true, text: tw("photoDone") };
      } else {
        this.photoNotice = {
          ok: false,
          text: errorText(data?.error?.code ?? `http_${xhr.status}`),
        };
      }
    };
    xhr.onerror = () => {
      this.progress = null;
      this.photoNotice = { ok: false, text: errorText("network") };
    };
    xhr.send(file);
  }

  private renderPhoto(p: Profile) {
    // The adviser's own photo URL: the portal's public one answers for listed advisers
    // only. `?v=` skips the cached old picture after an upload.
    const src =
      this.preview ??
      (p.photo_url
        ? `/api/v1/me/photo${this.photoVersion ? `?v=${this.photoVersion}` : ""}`
        : null);
    return html`<h3>${tw("photo")}</h3>
      <div class="photo">
        ${
          src
            ? html`<img
                src=${src}
                alt=${this.file ? tw("photoPreview") : p.name}
                data-testid="profile-photo"
                ?data-preview=${!!this.file}
              />`
            : html`<span class="initials" role="img" aria-label=${tw("noPhoto")}
                >${initials(p.name)}</span
              >`
        }
        <div>
          <label for="photo">${tw("photoChoose")}</label>
          <input
            id="photo"
            type="file"
            accept=${PHOTO_TYPES.join(",")}
            aria-describedby="photo-hint"
            data-testid="profile-photo-input"
            @change=${this.pickPhoto}
          />
          <p class="muted" id="photo-hint">${tw("photoHint")}</p>
          <div class="row">
            <button
              type="button"
              data-testid="profile-photo-upload"
              ?disabled=${!this.file || this.progress !== null}
              @click=${this.upload}
            >
              ${tw("photoUpload")}
            </button>
            ${
              this.progress !== null
                ? html`<progress
                      max="100"
                      .value=${this.progress}
                      aria-label=${tw("photoUploading", { percent: this.progress })}
                    ></progress>
                    <span role="status">${tw("photoUploading", { percent: this.progress })}</span>`
                : nothing
            }
          </div>
          ${
            this.photoNotice
              ? html`<p
                  class=${this.photoNotice.ok ? "ok" : "status-line"}
                  role=${this.photoNotice.ok ? "status" : "alert"}
                  data-testid="profile-photo-status"
                >
                  ${this.photoNotice.text}
                </p>`
              : nothing
          }
        </div>
      </div>`;
  }

  override render() {
    const p = this.profile;
    if (!p) {
      return html`<p class="muted" role="status">${this.notice?.text ?? "…"}</p>`;
    }
    return html`<h2>${tw("profileTitle")}</h2>
      <p class="muted">${tw("profileIntro")}</p>
      <form @submit=${this.save} data-testid="profile-form">
        <div class="field">
          <label class="check"
            ><input
              type="checkbox"
              name="listed"
              ?checked=${p.listed}
              data-testid="profile-listed"
            />
            ${tw("listed")}</label
          >
        </div>
        <div class="field">
          <label for="languages">${tw("languages")}</label>
          <input
            id="languages"
            name="languages"
            type="text"
            .value=${p.languages.join(", ")}
            aria-describedby="lang-hint"
            data-testid="profile-languages"
          />
          <p class="muted" id="lang-hint">${tw("languagesHint")}</p>
        </div>
        <fieldset>
          <legend>${tw("topics")}</legend>
          ${this.topics.map(
            (tp) =>
              html`<label>
                <input
                  type="checkbox"
                  name="topics"
                  value=${tp.id}
                  ?checked=${p.topics.includes(tp.id)}
                  data-testid="profile-topic"
                  data-topic=${tp.id}
                />
                ${lang() === "de" ? tp.label_de : tp.label_en}
              </label>`,
          )}
        </fieldset>
        <div class="field">
          <label for="bio">${tw("bio")}</label>
          <textarea
            id="bio"
            name="bio"
            maxlength="500"
            .value=${p.bio}
            data-testid="profile-bio"
            @input=${(e: Event) => (this.bioLength = (e.target as HTMLTextAreaElement).value.length)}
          ></textarea>
          <p class="count muted" aria-live="off">${this.bioLength}/500</p>
        </div>
        <div class="row">
          <button type="submit" data-testid="profile-save" ?disabled=${this.busy}>
            ${this.busy ? tw("saving") : tw("save")}
          </button>
          ${
            this.notice
              ? html`<span
                  class=${this.notice.ok ? "ok" : "status-line"}
                  role=${this.notice.ok ? "status" : "alert"}
                  data-testid="profile-status"
                  >${this.notice.text}</span
                >`
              : nothing
          }
        </div>
      </form>
      ${this.renderPhoto(p)}`;
  }
}
customElements.define("vv-profile", ProfileView);
