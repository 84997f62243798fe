// The console's styles, one sheet per shadow root: the app's frame (notice, ringing
// banner, the two columns), its header and view tabs, the login, the queue, the list of
// my chats and the chat pane.
import { css } from "lit";
import { callButtonStyles, iconStyles } from "../lib/icons";

/** The side column's headings and lists (queue, my chats). */
const column = css`
  :host {
    display: block;
  }
  h2 {
    font-size: 0.95rem;
    margin: 0.25rem 0 0.5rem;
    display: flex;
    justify-content: space-between;
    align-items: center;
    gap: 0.5rem;
  }
  ul {
    list-style: none;
    margin: 0 0 1rem;
    padding: 0;
  }
`;

export const appStyles = [
  iconStyles,
  css`
    :host {
      display: flex;
      flex-direction: column;
      height: 100%;
      min-height: 0;
    }
    .notice {
      margin: 0;
      padding: 0.35rem 0.9rem;
      min-height: 2rem;
      background: #fff3f3;
      color: var(--vv-danger, #a4161a);
      border-bottom: 1px solid #f0caca;
    }
    .notice:empty,
    .notice.empty {
      background: transparent;
      border-color: transparent;
      padding: 0;
      min-height: 0;
    }
    .body {
      flex: 1;
      min-height: 0;
      display: grid;
      grid-template-columns: minmax(16rem, 22rem) 1fr;
    }
    aside {
      border-right: 1px solid #c9d1da;
      overflow-y: auto;
      padding: 0.75rem;
      background: #f7f9fb;
    }
    .empty {
      padding: 1.5rem;
    }
    .ringing {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.5rem;
      margin: 0;
      padding: 0.45rem 0.9rem;
      background: #fff7e0;
      border-bottom: 1px solid #ecd9a0;
      font-weight: 600;
    }
    section.view {
      flex: 1;
      min-height: 0;
      overflow-y: auto;
    }
    @media (max-width: 720px) {
      /* Phones: one scrolling column (queue and chats above, the chat below). */
      :host {
        height: auto;
        min-height: 100%;
      }
      .body {
        display: block;
      }
      aside {
        border-right: none;
        border-bottom: 1px solid #c9d1da;
      }
    }
  `,
];

export const topBarStyles = css`
  :host {
    display: block;
  }
  header.top {
    display: flex;
    align-items: center;
    gap: 0.6rem 1rem;
    flex-wrap: wrap;
    padding: 0.5rem 0.9rem;
    background: #14324f;
    color: #fff;
  }
  header.top h1 {
    font-size: 1.1rem;
    margin: 0;
    flex: 1;
    min-width: 9rem;
  }
  header.top label {
    display: inline;
    margin: 0 0.3rem 0 0;
    font-weight: 400;
  }
  header.top select {
    width: auto;
    color: #1b1f24;
  }
  header.top .load {
    font-variant-numeric: tabular-nums;
  }
  header.top button.secondary {
    background: #fff;
  }
`;

export const navStyles = css`
  :host {
    display: block;
  }
  nav {
    display: flex;
    flex-wrap: wrap;
    gap: 0.25rem;
    padding: 0.5rem 0.9rem 0;
    border-bottom: 1px solid #c9d1da;
  }
  nav button {
    border-radius: 6px 6px 0 0;
    background: #eef1f4;
    color: inherit;
    border-color: #c9d1da;
    border-bottom: none;
  }
  nav button[aria-current="page"] {
    background: #fff;
    color: var(--vv-primary, #0b57a4);
  }
  nav .ways {
    margin-left: auto;
    display: flex;
    gap: 0.4rem;
    flex-wrap: wrap;
    padding-bottom: 0.35rem;
  }
  nav .ways button {
    border-radius: 6px;
    border: 1px solid var(--vv-primary, #0b57a4);
    background: #fff;
    color: var(--vv-primary, #0b57a4);
  }
  nav .ways button:hover:not(:disabled) {
    background: #eef4fb;
  }
`;

export const loginStyles = css`
  :host {
    display: block;
  }
  .login {
    max-width: 24rem;
    margin: 2rem auto;
    padding: 1.25rem;
    border: 1px solid #c9d1da;
    border-radius: 10px;
  }
  .login h2 {
    margin-top: 0;
    font-size: 1.2rem;
  }
  .field {
    margin-bottom: 0.9rem;
  }
`;

export const queueStyles = [
  column,
  css`
    .entry {
      background: #fff;
      border: 1px solid #c9d1da;
      border-radius: 8px;
      padding: 0.5rem 0.6rem;
      margin-bottom: 0.45rem;
      display: grid;
      grid-template-columns: 1fr auto;
      gap: 0.15rem 0.5rem;
      align-items: center;
    }
    .entry .name {
      font-weight: 700;
    }
    .entry .preview {
      grid-column: 1 / -1;
      font-size: 0.85rem;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .wait {
      font-variant-numeric: tabular-nums;
      font-size: 0.85rem;
    }
  `,
];

export const listStyles = [
  column,
  css`
    .tab {
      width: 100%;
      display: grid;
      grid-template-columns: 1fr auto;
      gap: 0.1rem 0.5rem;
      text-align: left;
      background: #fff;
      color: inherit;
      border: 1px solid #c9d1da;
      font-weight: 400;
      margin-bottom: 0.4rem;
    }
    .tab:hover:not(:disabled) {
      background: #eef4fb;
    }
    .tab[aria-current="true"] {
      border-color: var(--vv-primary, #0b57a4);
      box-shadow: inset 4px 0 0 var(--vv-primary, #0b57a4);
      background: #eef4fb;
    }
    .tab .name {
      font-weight: 700;
    }
    .badge {
      background: #b3261e;
      color: #fff;
      border-radius: 999px;
      min-width: 1.5rem;
      padding: 0 0.4rem;
      text-align: center;
      font-size: 0.8rem;
      font-weight: 700;
    }
    .tab .sub {
      font-size: 0.82rem;
      grid-column: 1 / -1;
    }
    .tab .call-state {
      color: #1e7b34;
      font-weight: 700;
    }
    .tab .consult {
      color: #6b4a00;
      font-weight: 700;
    }
  `,
];

export const paneStyles = [
  iconStyles,
  callButtonStyles,
  css`
    :host,
    section.pane {
      display: flex;
      flex-direction: column;
      min-height: 0;
      min-width: 0;
    }
    section.pane {
      flex: 1;
    }
    .pane header {
      display: flex;
      gap: 0.5rem 0.75rem;
      align-items: center;
      padding: 0.5rem 0.75rem;
      border-bottom: 1px solid #d5dbe1;
      flex-wrap: wrap;
    }
    .pane h2 {
      font-size: 1.05rem;
      margin: 0;
      flex: 1;
    }
    vv-messages {
      flex: 1;
      min-height: 8rem;
    }
    /* A document on the stage above: the messages give it room (they still show). */
    vv-doc-stage[showing] + vv-messages {
      min-height: 5rem;
    }
    .typing {
      min-height: 1.4rem;
      padding: 0 0.75rem;
      font-size: 0.82rem;
      font-style: italic;
      background: var(--vv-log-bg, #f4f6f8);
    }
    .empty {
      padding: 1.5rem;
    }
    .ended-note,
    .handed {
      padding: 0.6rem 0.75rem;
      display: flex;
      justify-content: space-between;
      align-items: center;
      gap: 0.5rem;
      flex-wrap: wrap;
    }
    .ended-note {
      background: #e8f3ea;
    }
    .handed {
      background: #eef1f4;
    }
    .ended-note p,
    .handed p {
      margin: 0;
    }
    @media (max-width: 720px) {
      :host {
        height: 85vh;
        height: 85dvh;
      }
    }
  `,
];
