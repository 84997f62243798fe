// Shared component styles (adopted stylesheets: allowed under style-src 'self').
import { css } from "lit";

export const base = css`
  :host {
    box-sizing: border-box;
    font: inherit;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  [hidden] {
    display: none !important;
  }
  :focus-visible {
    outline: 3px solid var(--vv-focus, #f0a202);
    outline-offset: 2px;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
  button,
  input,
  select,
  textarea {
    font: inherit;
    color: inherit;
  }
  button {
    cursor: pointer;
    border-radius: 6px;
    border: 1px solid var(--vv-primary, #0b57a4);
    background: var(--vv-primary, #0b57a4);
    color: #fff;
    padding: 0.5rem 0.9rem;
    min-height: 2.5rem;
    font-weight: 600;
  }
  button:hover:not(:disabled) {
    background: var(--vv-primary-dark, #073e75);
  }
  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  button.secondary {
    background: #fff;
    color: var(--vv-primary, #0b57a4);
  }
  button.secondary:hover:not(:disabled) {
    background: #eef4fb;
  }
  button.danger {
    background: #fff;
    color: var(--vv-danger, #a4161a);
    border-color: var(--vv-danger, #a4161a);
  }
  button.danger:hover:not(:disabled) {
    background: #fbeaea;
  }
  button.danger.solid {
    background: var(--vv-danger, #a4161a);
    color: #fff;
  }
  input,
  select,
  textarea {
    border: 1px solid #6b7785;
    border-radius: 6px;
    padding: 0.5rem 0.6rem;
    background: #fff;
    width: 100%;
  }
  label {
    font-weight: 600;
    display: block;
    margin-bottom: 0.25rem;
  }
  .muted {
    color: var(--vv-muted, #4a5563);
  }
  .status-line {
    min-height: 1.4em;
    color: var(--vv-danger, #a4161a);
  }
`;
