/**
 * Quotes one word for a POSIX shell so that it reaches the command exactly as given.
 * Every word is single-quoted: a bare word could still be read as an assignment (`A=b`),
 * a glob or a tilde expansion depending on where it lands in the script.
 */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new Error(`A shell word cannot contain a NUL character: ${JSON.stringify(word)}`);
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
