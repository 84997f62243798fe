// The customer app's styles: header (title, call buttons, connection, language), the
// waiting and ended banners, the message list, typing line and actions.
import { css } from "lit";

export const appStyles = css`
  :host {
    display: flex;
    flex-direction: column;
    height: 100%;
    min-height: 0;
    background: #fff;
  }
  header {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    padding: 0.5rem 0.75rem;
    border-bottom: 1px solid #d5dbe1;
    background: var(--vv-header-bg, #0b57a4);
    color: #fff;
    flex-wrap: wrap;
  }
  header h1 {
    font-size: 1.05rem;
    margin: 0;
    flex: 1;
    min-width: 10rem;
  }
  header vv-conn-status {
    color: #fff;
  }
  main {
    flex: 1;
    display: flex;
    flex-direction: column;
    min-height: 0;
  }
  main.large vv-room {
    flex: 1;
  }
  /* A shared screen below the call: the camera video gives it room, so the screen is
     in view in the small widget too. */
  main:has(> vv-room:not([hidden])) vv-call {
    --vv-call-stage-max: 18vh;
  }
  .room-chat {
    display: flex;
    flex-direction: column;
    flex: 1;
    min-height: 0;
  }
  .banner {
    padding: 0.6rem 0.75rem;
    background: #fff7e0;
    border-bottom: 1px solid #ecd9a0;
    font-size: 0.92rem;
  }
  .banner p {
    margin: 0;
  }
  .ended {
    background: #e8f3ea;
    border-color: #b9d9c0;
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
    justify-content: space-between;
  }
  vv-messages {
    flex: 1;
    min-height: 6rem;
  }
  .typing {
    min-height: 1.4rem;
    padding: 0 0.75rem;
    font-size: 0.82rem;
    font-style: italic;
    background: var(--vv-log-bg, #f4f6f8);
  }
  .actions {
    display: flex;
    gap: 0.5rem;
    align-items: center;
    justify-content: flex-end;
    flex-wrap: wrap;
    padding: 0.4rem 0.5rem;
    background: #fff;
  }
  .actions .status-line {
    flex: 1;
    font-size: 0.85rem;
  }
  .confirm {
    display: flex;
    gap: 0.5rem;
    align-items: center;
    flex-wrap: wrap;
  }
  .header-lang {
    --vv-primary: #fff;
  }
  .call-buttons button {
    background: #fff;
    color: var(--vv-header-bg, #0b57a4);
    border-color: #fff;
    padding: 0.35rem 0.6rem;
  }
  .call-buttons button:hover:not(:disabled) {
    background: #e6effa;
  }
  .call-buttons .short {
    display: none;
  }
  @media (max-width: 420px) {
    /* Narrow (a phone, the widget): short labels ("Audio", "Video"), never icons only. */
    .call-buttons .label {
      display: none;
    }
    .call-buttons .short {
      display: inline;
    }
  }
`;
