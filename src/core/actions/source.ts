// What an install source is. The scheme rule is the same on the console and the device
// (rk64-action's is_url and is_https_url in device-scripts/lib/common.sh; docs/security.md).

/**
 * A source that starts with `scheme://` (an RFC 3986 scheme: a letter, then letters, digits, `+`,
 * `-`, `.`; any case) is a URL, and of those only https is installed (the gateway fetches it).
 * Anything else is a local file name. So `HTTPS://host/b` is an https URL on both ends, and
 * `ftp://x` or `file:///etc/passwd` is refused, never uploaded.
 */
export function isUrl(source: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(source);
}

export function isHttpsUrl(source: string): boolean {
  return /^https:\/\/[^\s/?#]+(?:[/?#]\S*)?$/i.test(source);
}
