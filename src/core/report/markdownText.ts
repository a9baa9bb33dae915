// Markdown that shows cluster and database strings as the literal text they are: a PVC name can
// neither become HTML (`<img onerror>`), nor emphasis (`gke_project_zone`), nor break a table (`|`).

/** Escapes text for inline Markdown and table cells; line breaks become `<br>` so a cell stays on one row. */
export function markdownText(value: string): string {
  return value
    .replace(/[\\`*_[\]<>|~&#!]/g, (c) => `\\${c}`)
    .replace(/\r\n|\r|\n/g, '<br>');
}

export function markdownTableRow(cells: readonly string[]): string {
  return `| ${cells.map((cell) => (cell === '' ? ' ' : markdownText(cell))).join(' | ')} |`;
}

export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [markdownTableRow(headers), `|${headers.map(() => '---').join('|')}|`, ...rows.map(markdownTableRow)];
}

/** A fenced code block whose fence is longer than any backtick run inside, so the content cannot close it. */
export function markdownCodeBlock(language: string, lines: readonly string[]): string[] {
  const body = lines.join('\n');
  const longestRun = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return [`${fence}${language}`, ...lines, fence];
}
