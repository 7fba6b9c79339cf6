// Quoting for the gateway's POSIX shell (every transport runs commands through one).

/** One word, quoted so the shell passes it on unchanged. */
export function shQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
