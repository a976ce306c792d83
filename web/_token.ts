// A sign-in token in the page's address: an app links to the chat with
// `#token=...` (a fragment never reaches the server or its logs) or
// `?token=...`. The page takes it out of the address bar at once, so it is
// not bookmarked, shared with the link or left in the tab's history.

/** What {@link takeToken} found. */
export interface TakenToken {
  /** The token, when the address had one (the fragment's wins). */
  token: string | undefined;
  /** The address without it, when it had to change; else undefined. */
  address: string | undefined;
}

/**
 * The token in `href`, and `href` without any `token` parameter in its
 * fragment or its query (other parameters stay as they were).
 */
export function takeToken(href: string): TakenToken {
  const url = new URL(href);
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ""));
  const query = url.searchParams;
  const found = fragment.get("token") || query.get("token") || undefined;
  if (!fragment.has("token") && !query.has("token")) {
    return { token: undefined, address: undefined };
  }
  fragment.delete("token");
  query.delete("token");
  const rest = fragment.toString();
  url.hash = rest === "" ? "" : `#${rest}`;
  return { token: found, address: url.href };
}
