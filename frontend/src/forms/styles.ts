// Styles of <vv-form> and the picker: one column that fits a phone, clear focus,
// errors next to their field in text and colour.
import { css } from "lit";

export const formStyles = css`
  :host {
    display: block;
  }
  .form {
    border: 1px solid #c4cbd3;
    border-radius: 10px;
    background: #fff;
    padding: 0.75rem 0.9rem;
    max-height: var(--vv-form-max-height, 60vh);
    overflow: auto;
  }
  h3 {
    margin: 0 0 0.5rem;
    font-size: 1.1rem;
  }
  fieldset {
    border: 0;
    margin: 0 0 0.75rem;
    padding: 0;
    min-width: 0;
  }
  legend {
    font-weight: 700;
    padding: 0;
    margin-bottom: 0.4rem;
  }
  .field {
    margin-bottom: 0.75rem;
  }
  .field.busy input,
  .field.busy select,
  .field.busy textarea,
  .field.busy .choices {
    outline: 2px dashed #b45309;
    outline-offset: 1px;
  }
  .req {
    color: var(--vv-danger, #a4161a);
  }
  .help {
    margin: 0.2rem 0 0;
    font-size: 0.9rem;
  }
  .errors {
    margin: 0.25rem 0 0;
    padding: 0;
    list-style: none;
    color: var(--vv-danger, #a4161a);
    font-size: 0.92rem;
  }
  [aria-invalid="true"] {
    border-color: var(--vv-danger, #a4161a);
    border-width: 2px;
  }
  .occupied {
    display: inline-block;
    margin-left: 0.4rem;
    font-size: 0.85rem;
    font-weight: 600;
    color: #92400e;
  }
  .notice {
    margin: 0.3rem 0 0;
    padding: 0.4rem 0.6rem;
    border-left: 4px solid #b45309;
    background: #fff7ed;
    font-size: 0.92rem;
  }
  .choices {
    display: flex;
    flex-wrap: wrap;
    gap: 0.3rem 1rem;
    border: 0;
    padding: 0;
    margin: 0;
  }
  .choices label,
  .check label {
    display: inline-flex;
    align-items: center;
    gap: 0.4rem;
    font-weight: 400;
    min-height: 2.25rem;
  }
  .choices input,
  .check input {
    width: 1.2rem;
    height: 1.2rem;
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
    margin-top: 0.5rem;
  }
  .state {
    margin: 0.25rem 0 0.5rem;
    font-weight: 600;
  }
  .status-line:empty {
    display: none;
  }
  input:disabled,
  select:disabled,
  textarea:disabled {
    background: #f3f5f7;
    color: inherit;
  }
`;
