// The call code as a separate chunk, loaded once per page when first needed.
import type * as CallUi from "./call-ui";

export type CallUiModule = typeof CallUi;

let loading: Promise<CallUiModule> | null = null;

export function loadCallUi(): Promise<CallUiModule> {
  loading ??= import("./call-ui");
  return loading;
}
