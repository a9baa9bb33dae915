/** The `code` of a Node.js system error (`ENOENT`, `EEXIST`, ...), or undefined for other errors. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
