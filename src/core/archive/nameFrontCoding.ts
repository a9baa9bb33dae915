/**
 * Front coding of a sorted or archive-ordered list of names: each name as the length of the prefix it
 * shares with the one before and the rest. Paths in one folder share most of their text, so stored
 * listings shrink a lot before compression.
 */
export function frontCode(names: readonly string[]): { shared: number[]; rest: string[] } {
  const shared: number[] = [];
  const rest: string[] = [];
  let previous = '';
  for (const name of names) {
    let n = 0;
    const limit = Math.min(previous.length, name.length);
    while (n < limit && previous.charCodeAt(n) === name.charCodeAt(n)) n++;
    shared.push(n);
    rest.push(name.slice(n));
    previous = name;
  }
  return { shared, rest };
}

/** The names back from {@link frontCode}'s columns. */
export function frontDecode(shared: readonly number[], rest: readonly string[]): string[] {
  const names: string[] = [];
  let previous = '';
  for (let i = 0; i < rest.length; i++) {
    previous = previous.slice(0, shared[i]) + rest[i];
    names.push(previous);
  }
  return names;
}
