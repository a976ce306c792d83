// DNS rebinding: a page on attacker.example points its name at 127.0.0.1 and
// talks to this server as a same-origin page (its Origin matches its Host).
// What gives it away is the Host header, which names the attacker's domain.
// IP literals cannot be rebound, and localhost never leaves the machine.

/** The host part of a Host header or an allow-list entry: lower case, no port, no final dot. */
export function hostName(value: string): string {
  const host = value.trim().toLowerCase();
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    return end < 0 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(":");
  // More than one colon: a bare IPv6 address (not valid in a Host header, kept whole).
  const name = colon >= 0 && host.indexOf(":", colon + 1) < 0 ? host.slice(0, colon) : host;
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** True for an IPv4 address in dotted decimal, or an IPv6 address in brackets. */
export function isIpLiteral(host: string): boolean {
  if (IPV4.test(host)) return true;
  if (!host.startsWith("[") || !host.endsWith("]")) return false;
  try {
    return new URL(`http://${host}/`).hostname.startsWith("[");
  } catch {
    return false;
  }
}

/**
 * A predicate for Host headers: localhost and its subdomains, IP literals,
 * and `extra` (names, `*.domain` for a domain's subdomains, or `*` for any).
 */
export function hostAllowList(extra: readonly string[]): (host: string | undefined) => boolean {
  if (extra.includes("*")) return () => true;
  const names = new Set<string>(["localhost"]);
  const suffixes: string[] = [".localhost"];
  for (const entry of extra) {
    const name = hostName(entry);
    if (name.startsWith("*.")) suffixes.push(name.slice(1));
    else if (name !== "") names.add(name);
  }
  return (header) => {
    // No Host header at all: not a browser, so not a rebinding page.
    if (header === undefined) return true;
    const host = hostName(header);
    return names.has(host) || isIpLiteral(host) || suffixes.some((suffix) => host.endsWith(suffix));
  };
}

/** The host names of `origins` (`https://chat.example` gives `chat.example`). */
export function originHosts(origins: readonly string[]): string[] {
  const hosts: string[] = [];
  for (const origin of origins) {
    try {
      hosts.push(new URL(origin).hostname);
    } catch { /* "*" or not a URL: nothing to add */ }
  }
  return hosts;
}

/** A host name safe to repeat in a message: printable, short. */
export function shownHost(host: string): string {
  const name = hostName(host);
  return /^[\w.\-\[\]:]{1,253}$/.test(name) ? name : "(unprintable)";
}
