/** Something the user should hear about that did not stop the history from working. */
export interface HistoryWarning {
  readonly kind: 'corrupt-file-moved-aside';
  readonly message: string;
  readonly filePath: string;
  /** Where the damaged bytes now are, untouched, for recovery or a bug report. */
  readonly movedTo: string;
  readonly reason: string;
  /** Rows the new file starts with: 0, or those this process had read before the damage. */
  readonly rowsKept: number;
}

export type HistoryWarningListener = (warning: HistoryWarning) => void;
