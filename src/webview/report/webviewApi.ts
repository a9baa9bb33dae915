import type { ReportUiState, ReportWebviewMessage } from '../../report/reportProtocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** The webview's only way out, typed by the protocol. `acquireVsCodeApi` may be called once per page. */
export interface ReportHost {
  post(message: ReportWebviewMessage): void;
  savedUiState(): ReportUiState | undefined;
  saveUiState(state: ReportUiState): void;
}

export function connectToHost(): ReportHost {
  const api = acquireVsCodeApi();
  return {
    post: (message) => api.postMessage(message),
    // Saved by this script, but checked anyway: a malformed state must not stop the report loading.
    savedUiState: () => {
      const state = api.getState() as Partial<ReportUiState> | undefined;
      return state && typeof state === 'object' && typeof state.page === 'number' && typeof state.filter === 'object' ? (state as ReportUiState) : undefined;
    },
    saveUiState: (state) => api.setState(state),
  };
}
