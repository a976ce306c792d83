// Why a port could not be bound, in one vocabulary for every runtime: Deno
// throws its own error classes (`Deno.errors.AddrInUse`, with a `code` too),
// node:net and Bun throw plain errors with a `code`. The shared listeners
// throw a ListenError; the CLI reads any of them through listenFailure().

/** What went wrong binding a port. */
export type ListenFailure =
  | "addr_in_use"
  | "addr_not_available"
  | "host_not_found"
  | "permission_denied";

/** Which of the server's ports a failure is about. */
export interface ListenPort {
  /** `HTTP` (the WebSocket and page port), `TCP` (telnet) or `IRC` (the IRC-only port). */
  transport: "HTTP" | "TCP" | "IRC";
  /** The port asked for. */
  port: number;
}

/** A port that could not be bound, whichever runtime said so. */
export class ListenError extends Error {
  override name = "ListenError";
  /** Why. */
  readonly failure: ListenFailure;
  /** Which port, when the server knows (so a message can name it). */
  readonly where: ListenPort | undefined;

  constructor(
    failure: ListenFailure,
    message: string,
    options?: { cause?: unknown; where?: ListenPort },
  ) {
    super(message, options);
    this.failure = failure;
    this.where = options?.where;
  }
}

/**
 * A bind failure of one of the server's ports as a ListenError that names
 * the port; other errors as they are.
 */
export function onPort(error: unknown, where: ListenPort): unknown {
  const failure = listenFailure(error);
  if (failure === undefined) return error;
  const cause = error instanceof ListenError ? error.cause : error;
  return new ListenError(failure, (error as Error).message, { cause, where });
}

/** The port a bind failure is about, from {@link onPort}'s error or one made from it. */
export function failedPort(error: unknown): ListenPort | undefined {
  return (error as { where?: ListenPort } | undefined)?.where;
}

const BY_CODE: ReadonlyMap<unknown, ListenFailure> = new Map([
  ["EADDRINUSE", "addr_in_use"],
  ["EADDRNOTAVAIL", "addr_not_available"],
  // node:http reports an address of another machine as EINVAL on some systems.
  ["EINVAL", "addr_not_available"],
  ["EACCES", "permission_denied"],
  ["EPERM", "permission_denied"],
  ["ENOTFOUND", "host_not_found"],
  ["EAI_NONAME", "host_not_found"],
  ["EAI_AGAIN", "host_not_found"],
]);

// Deno's own classes, by name: a Deno.errors.NotFound made by hand has no code.
const BY_NAME: ReadonlyMap<string, ListenFailure> = new Map([
  ["AddrInUse", "addr_in_use"],
  ["AddrNotAvailable", "addr_not_available"],
  ["NotFound", "host_not_found"],
  ["PermissionDenied", "permission_denied"],
]);

/** Classifies an error thrown while binding a port; undefined when it is something else. */
export function listenFailure(error: unknown): ListenFailure | undefined {
  if (error instanceof ListenError) return error.failure;
  if (!(error instanceof Error)) return undefined;
  return BY_NAME.get(error.name) ?? BY_CODE.get((error as { code?: unknown }).code);
}

/** A node:net (or Bun) bind error as a ListenError; other errors as they are. */
export function asListenError(error: unknown, hostname: string, port: number): unknown {
  const failure = error instanceof Error
    ? BY_CODE.get((error as { code?: unknown }).code)
    : undefined;
  if (failure === undefined) return error;
  const where = `${hostname}:${port}`;
  const message = {
    addr_in_use: `address in use: ${where}`,
    addr_not_available: `no such local address: ${where}`,
    host_not_found: `cannot resolve host "${hostname}"`,
    permission_denied: `not allowed to listen on ${where}`,
  }[failure];
  return new ListenError(failure, message, { cause: error });
}
