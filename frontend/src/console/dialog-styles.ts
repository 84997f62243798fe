// Native <dialog> (modal: focus stays inside, Escape closes) for the console's dialogs.
import { css } from "lit";

export const dialogStyles = css`
  dialog {
    border: 1px solid #c9d1da;
    border-radius: 10px;
    padding: 1rem 1.1rem;
    width: min(32rem, calc(100vw - 1rem));
    max-height: calc(100dvh - 2rem);
    overflow-y: auto;
    color: inherit;
  }
  dialog::backdrop {
    background: rgba(10, 20, 30, 0.45);
  }
  dialog h2 {
    font-size: 1.1rem;
    margin: 0 0 0.6rem;
  }
  .field {
    margin-bottom: 0.8rem;
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
  }
  .ok {
    padding: 0.6rem 0.75rem;
    border-radius: 8px;
    background: #e8f3ea;
    border: 1px solid #b9d9c0;
  }
  fieldset {
    border: 1px solid #c9d1da;
    border-radius: 8px;
    margin: 0 0 0.8rem;
    padding: 0.5rem 0.75rem;
  }
  legend {
    font-weight: 600;
    padding: 0 0.25rem;
  }
  fieldset label {
    display: flex;
    gap: 0.45rem;
    align-items: flex-start;
    font-weight: 400;
    margin: 0.25rem 0;
  }
  fieldset input[type="radio"],
  fieldset input[type="checkbox"] {
    width: auto;
    margin-top: 0.3rem;
  }
`;
