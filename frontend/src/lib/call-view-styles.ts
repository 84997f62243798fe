// The call panel's styles (call-view.ts): ringing, pre-call check, the stage with
// both videos, the controls; phones get the video across the whole width and big
// controls within thumb reach.
import { css } from "lit";

export const callViewStyles = css`
  :host {
    display: block;
  }
  :host([hidden]) {
    display: none;
  }
  section {
    border-bottom: 1px solid #d5dbe1;
    background: #f9fbfd;
    /* Its own text colour: in the dark room the inherited white is unreadable here. */
    color: #1d232a;
    padding: 0.5rem 0.75rem;
    display: flex;
    flex-direction: column;
    gap: 0.5rem;
  }
  .ring {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
    justify-content: space-between;
    padding: 0.5rem 0.6rem;
    border-radius: 8px;
    background: #fff7e0;
    border: 1px solid #ecd9a0;
  }
  .ring p {
    margin: 0;
    font-weight: 600;
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
  }
  button.accept {
    background: #1e7b34;
    border-color: #1e7b34;
  }
  button.accept:hover:not(:disabled) {
    background: #145a25;
  }
  button .icon,
  .icon {
    width: 1.25rem;
    height: 1.25rem;
    fill: none;
    stroke: currentColor;
    stroke-width: 1.8;
    stroke-linecap: round;
    stroke-linejoin: round;
    vertical-align: middle;
    flex: none;
  }
  button.ctl {
    display: inline-flex;
    align-items: center;
    gap: 0.35rem;
    background: #fff;
    color: #1b1f24;
    border-color: #8a94a0;
    min-width: 2.75rem;
    min-height: 2.75rem;
    justify-content: center;
  }
  button.ctl:hover:not(:disabled) {
    background: #eef1f4;
  }
  button.ctl[aria-pressed="true"] {
    background: #dcebfa;
    border-color: var(--vv-primary, #0b57a4);
    color: var(--vv-primary, #0b57a4);
  }
  button.ctl.off {
    background: #fbeaea;
    border-color: var(--vv-danger, #a4161a);
    color: var(--vv-danger, #a4161a);
  }
  button.hangup {
    display: inline-flex;
    align-items: center;
    gap: 0.35rem;
    background: var(--vv-danger, #a4161a);
    border-color: var(--vv-danger, #a4161a);
    min-height: 2.75rem;
  }
  button.hangup:hover:not(:disabled) {
    background: #7d1014;
  }
  button.link {
    background: none;
    border: none;
    color: var(--vv-primary, #0b57a4);
    text-decoration: underline;
    padding: 0.25rem 0;
    min-height: 0;
    font-weight: 400;
  }
  button.link:hover:not(:disabled) {
    background: none;
  }
  .precheck {
    display: grid;
    grid-template-columns: minmax(8rem, 14rem) 1fr;
    gap: 0.6rem 0.9rem;
    align-items: start;
    padding: 0.5rem 0;
  }
  .precheck h3 {
    grid-column: 1 / -1;
    font-size: 0.95rem;
    margin: 0;
  }
  .precheck .note {
    grid-column: 1 / -1;
    margin: 0;
    font-size: 0.85rem;
  }
  .preview {
    position: relative;
    background: #1b1f24;
    border-radius: 8px;
    aspect-ratio: 4 / 3;
    overflow: hidden;
    display: flex;
    align-items: center;
    justify-content: center;
    color: #e6e9ed;
    font-size: 0.85rem;
  }
  .preview video {
    width: 100%;
    height: 100%;
    object-fit: cover;
  }
  .mirror {
    transform: scaleX(-1);
  }
  .checks {
    display: flex;
    flex-direction: column;
    gap: 0.45rem;
    min-width: 0;
  }
  .checks ul {
    list-style: none;
    margin: 0;
    padding: 0;
    font-size: 0.88rem;
  }
  .checks li[data-result="relay"],
  .checks li[data-result="ok"] {
    color: #1e7b34;
  }
  .checks li[data-result="no-relay"],
  .checks li[data-result="error"],
  .checks li[data-result="down"] {
    color: var(--vv-danger, #a4161a);
  }
  meter {
    width: 100%;
    height: 0.9rem;
  }
  .level-row {
    display: flex;
    flex-direction: column;
    gap: 0.15rem;
    font-size: 0.85rem;
  }
  .level-row label {
    font-weight: 400;
    margin: 0;
  }
  .status {
    display: flex;
    align-items: center;
    justify-content: space-between;
    gap: 0.5rem;
    font-size: 0.9rem;
    flex-wrap: wrap;
  }
  .status [data-state="connected"] {
    color: #1e7b34;
  }
  .status [data-state="reconnecting"] {
    color: var(--vv-danger, #a4161a);
    font-weight: 700;
  }
  .timer {
    font-variant-numeric: tabular-nums;
  }
  .stage {
    position: relative;
    width: 100%;
    aspect-ratio: 16 / 9;
    /* smaller while a shared screen shows below it (the chat sets the variable) */
    max-height: var(--vv-call-stage-max, 42vh);
    background: #1b1f24;
    border-radius: 8px;
    overflow: hidden;
    display: flex;
    align-items: center;
    justify-content: center;
    color: #e6e9ed;
  }
  .stage video.remote {
    width: 100%;
    height: 100%;
    object-fit: contain;
  }
  .stage .placeholder {
    position: absolute;
    inset: 0;
    display: flex;
    flex-direction: column;
    gap: 0.4rem;
    align-items: center;
    justify-content: center;
    text-align: center;
    padding: 1rem;
  }
  .stage .avatar {
    width: 3.5rem;
    height: 3.5rem;
    border-radius: 50%;
    background: #4a5563;
    display: flex;
    align-items: center;
    justify-content: center;
    font-size: 1.5rem;
    font-weight: 700;
  }
  /* The self-view's box (the video and, for a customer, the adviser's video pointer). */
  .stage .self {
    position: absolute;
    right: 0.5rem;
    bottom: 0.5rem;
    width: 26%;
    max-width: 10rem;
    min-width: 5rem;
    aspect-ratio: 4 / 3;
    border: 2px solid #fff;
    border-radius: 6px;
    overflow: hidden;
    background: #000;
  }
  .stage .self video {
    display: block;
    width: 100%;
    height: 100%;
    object-fit: cover;
  }
  .stage .badge {
    position: absolute;
    left: 0.5rem;
    top: 0.5rem;
    background: rgba(0, 0, 0, 0.6);
    color: #fff;
    border-radius: 4px;
    padding: 0.1rem 0.4rem;
    font-size: 0.8rem;
  }
  .audio-only {
    display: flex;
    align-items: center;
    gap: 0.6rem;
  }
  .audio-only .avatar {
    width: 2.5rem;
    height: 2.5rem;
    border-radius: 50%;
    background: #4a5563;
    color: #fff;
    display: flex;
    align-items: center;
    justify-content: center;
    font-weight: 700;
  }
  .controls {
    display: flex;
    flex-wrap: wrap;
    gap: 0.4rem;
    align-items: center;
    justify-content: center;
  }
  .devices {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr));
    gap: 0.5rem;
  }
  .devices label {
    font-size: 0.85rem;
  }
  .alert {
    margin: 0;
    color: var(--vv-danger, #a4161a);
    font-size: 0.88rem;
  }
  @media (max-width: 520px) {
    /* Phones: video across the whole width, big controls within thumb reach. */
    section {
      padding: 0.4rem;
    }
    .precheck {
      grid-template-columns: 1fr;
    }
    .preview {
      max-height: 30vh;
    }
    .stage {
      aspect-ratio: 4 / 3;
      /* room below for the controls, the documents' shelf and the composer */
      max-height: 32vh;
      border-radius: 0;
    }
    /* The label stays visible (short, under the icon): an icon alone is a riddle. */
    button.ctl,
    button.hangup {
      flex-direction: column;
      gap: 0.1rem;
      min-width: 3.5rem;
      min-height: 3rem;
      padding: 0.3rem 0.35rem;
      font-size: 0.72rem;
      line-height: 1.1;
    }
  }
  .recording {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5rem;
    margin: 0.25rem 0;
  }
  .recording.consent {
    display: block;
    border: 2px solid #b00020;
    border-radius: 8px;
    padding: 0.75rem;
    background: #fff;
    color: #1a1a1a;
  }
  .recording.consent h3 {
    margin: 0 0 0.5rem;
    font-size: 1rem;
  }
  .rec-on {
    color: #fff;
    background: #b00020;
    border-radius: 999px;
    padding: 0.2rem 0.7rem;
    font-weight: 700;
  }
`;
