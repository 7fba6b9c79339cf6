// Quoting for the gateway's POSIX shell: every command the console builds from a value (a path,
// a bundle name) quotes that value here, so no value can end the word it sits in.

/** One shell word: single-quoted, each `'` written as `'\''`. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
