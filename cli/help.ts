// The CLI's --help text, the same on every runtime but for how it is started.

/** The help for a server started with `command` (e.g. "deno task start"). */
export function helpText(command: string): string {
  return `crosswire: a real-time relay for telnet, terminal and WebSocket clients

Usage: ${command} [flags]

  --host HOST              interface to bind (default 0.0.0.0); --hostname HOST too
  --port PORT              HTTP/WebSocket port (default $PORT or 8080)
  --tcp-port PORT          raw TCP port for telnet/netcat (default 4040)
  --no-tcp                 do not listen on TCP
  --irc-port PORT          also a port for IRC clients only, e.g. 6667 (default off; IRC
                           clients work on the TCP port too)
  --motd TEXT              message shown to every user at login
  --announce-every SECONDS broadcast the server time this often (default off)

A cluster (several processes on one Redis act as one relay):
  --redis URL              redis:// or rediss:// URL, with user and password if needed
                           (default $REDIS_URL; without either, one node in memory)
  --redis-prefix PREFIX    prefix of every Redis key and channel (default crosswire:)
  --node-timeout SECONDS   a node that stops renewing its lease is dead this long after:
                           its users leave the other nodes' rooms (default 15, at least 5)
  --redis-wait SECONDS     how long to retry an unreachable Redis at startup (default 10)

TLS and browsers:
  --cert FILE --key FILE   PEM certificate chain and key: HTTPS/WSS, and TLS on TCP
  --allow-origin ORIGIN    let pages from ORIGIN open WebSockets (repeatable; * for any)
  --allowed-host HOST      answer requests for HOST too, besides localhost, IP addresses,
                           --host and the --allow-origin hosts (repeatable; *.DOMAIN; * for any)

Who may do what (anyone may log in, join and talk until you set these):
  --config FILE            room rules (read-only, private, member limits, history) from a
                           JSON file with comments; see crosswire.example.jsonc
  --jwt-secret SECRET      check login tokens signed with this HS256 secret (at least 32
                           bytes); better as $CROSSWIRE_JWT_SECRET, which ps does not show
  --jwt-public-key FILE    check tokens against this PEM public key: RS256, ES256 or EdDSA,
                           as the key's type says
  --jwks FILE              check tokens against the keys of this JWKS file (by their kid)
                           (give at most one of --jwt-secret, --jwt-public-key, --jwks)
  --jwt-audience AUD       tokens must have this aud (default: not checked)
  --jwt-issuer ISS         tokens must have this iss (default: not checked)
  --require-auth           refuse users without a token (or CROSSWIRE_REQUIRE_AUTH=1;
                           default: anonymous users may log in)
  --token-grace SECONDS    how long a client whose token expired has to send a new one
                           before it is closed (default 30)
  --admin-password PASSWORD
                           the password for /oper, which makes a user an admin (default:
                           none, only tokens make admins); or $CROSSWIRE_ADMIN_PASSWORD
  --api-key KEY            turn on the server API (/api/...) for backends and lock /metrics:
                           both need "Authorization: Bearer KEY" (at least 16 characters;
                           or $CROSSWIRE_API_KEY; default: no API, /metrics open)

Limits (every one finite by default):
  --max-connections N      open connections in total, both ports (default 10000; fewer
                           when the open-files limit is lower)
  --max-per-address N      open connections from one address (default 100)
  --max-pending-per-address N
                           connections from one address not logged in yet (default 16)
  --login-timeout SECONDS  close connections not logged in by then (default 30)
  --max-login-bytes N      bytes a connection may send before it logs in (default 16384)
  --idle-timeout SECONDS   close clients silent this long; 0 = never (default 300)
  --keepalive SECONDS      WebSocket ping interval; 0 = off (default 30)
  --headers-timeout SECONDS
                           time to send an HTTP request head (default 10)
  --request-timeout SECONDS
                           time to send a whole HTTP request (default 30)
  --http-idle-timeout SECONDS
                           idle time between requests on one HTTP connection (default 5)
  --max-line-bytes N       longest text-mode TCP line (default 8192)
  --max-text-bytes N       longest chat message (default 8192)
  --max-file-bytes N       largest shared file (default 1048576)
  --max-queued-bytes N     output queued for one client before it counts as behind
                           (default 8388608)
  --slow-consumer-seconds SECONDS
                           how long a client may stay behind before it is dropped (default 10)
  --rate N                 messages per second per client, sustained (default 20)
  --rate-burst N           messages per client in a burst (default 50)
  --rate-bytes N           bytes per second per client, sustained (default 1048576)
  --direct-rate N          private messages one user may receive per second (default 20)
  --direct-rate-bytes N    bytes of private messages one user may receive per second
                           (default 1048576)
  --room-rate-bytes N      bytes per second said in one room, by everyone (default 2097152)
  --max-rooms-per-user N   rooms one user may be in (default 32)
  --max-rooms-per-address N
                           rooms that users from one address may have created (default 100)
  --quiet-room-size N      rooms bigger than this stop announcing joins and leaves (default 500)
  --name-grace SECONDS     how long a dropped user's name stays reserved for them;
                           0 = not at all (default 60)
  --history N              messages each room keeps for late and returning users;
                           0 = none (default 100)
  --history-ttl SECONDS    how long a kept message stays (default 600)
  --history-bytes N        bytes each room keeps, files included (default 2097152)
  --history-on-join N      lines a telnet user is shown on /join; 0 = none (default 10)
  --resume-window SECONDS  how long a dropped client's session (name, rooms, missed
                           messages) waits for it to come back; 0 = off (default 120)

  --help                   show this help
`;
}
