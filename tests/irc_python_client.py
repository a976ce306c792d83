"""A real IRC client for tests/irc_client_test.ts: Python's `irc` library
(Debian's python3-irc), which nobody here wrote, driven through stdin.

Usage: irc_python_client.py HOST PORT NICK

It prints one line per thing it saw (WELCOME, JOINED, PUBMSG, PRIVMSG,
ACTION, NICK, NICKINUSE, NAMES, DISCONNECTED) and obeys lines on stdin:
`say TARGET TEXT`, `me TARGET TEXT`, `nick NEW`, `join CHANNEL`, `quit TEXT`.
It gives up after 60 seconds, whatever happens.
"""

import queue
import sys
import threading
import time

import irc.client

DEADLINE_SECONDS = 60


def out(*words):
    print(" ".join(str(word) for word in words), flush=True)


def main():
    host, port, nick = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    commands = queue.Queue()
    done = threading.Event()

    def read_stdin():
        for line in sys.stdin:
            commands.put(line.rstrip("\n"))
        commands.put("quit stdin closed")

    threading.Thread(target=read_stdin, daemon=True).start()

    # Reactor since python-irc 12; IRC before (Debian 12 has 8.5).
    reactor = (getattr(irc.client, "Reactor", None) or irc.client.IRC)()
    connection = reactor.server().connect(host, port, nick, username=nick, ircname="Py Thon")

    def on_welcome(conn, event):
        out("WELCOME", event.target)
        conn.join("#lobby")

    def on_join(conn, event):
        if event.source.nick == conn.get_nickname():
            out("JOINED", event.target)
        else:
            out("OTHERJOINED", event.source.nick, event.target)

    def on_namreply(conn, event):
        out("NAMES", event.arguments[1], event.arguments[2])

    def on_pubmsg(conn, event):
        out("PUBMSG", event.source.nick, event.target, event.arguments[0])

    def on_privmsg(conn, event):
        out("PRIVMSG", event.source.nick, event.target, event.arguments[0])

    def on_action(conn, event):
        out("ACTION", irc.client.NickMask(event.source).nick, event.target, event.arguments[0])

    def on_pubnotice(conn, event):
        out("NOTICE", event.source.nick, event.target, event.arguments[0])

    def on_nick(conn, event):
        out("NICK", event.source.nick, event.target)

    def on_nicknameinuse(conn, event):
        out("NICKINUSE", event.arguments[0])
        conn.nick(event.arguments[0] + "_")

    def on_disconnect(conn, event):
        out("DISCONNECTED")
        done.set()

    for name, handler in [
        ("welcome", on_welcome),
        ("join", on_join),
        ("namreply", on_namreply),
        ("pubmsg", on_pubmsg),
        ("privmsg", on_privmsg),
        ("action", on_action),
        ("pubnotice", on_pubnotice),
        ("nick", on_nick),
        ("nicknameinuse", on_nicknameinuse),
        ("disconnect", on_disconnect),
    ]:
        connection.add_global_handler(name, handler)

    deadline = time.monotonic() + DEADLINE_SECONDS
    while not done.is_set():
        if time.monotonic() > deadline:
            out("TIMEOUT")
            return 2
        reactor.process_once(0.05)
        while not commands.empty():
            verb, _, rest = commands.get().partition(" ")
            if verb == "say":
                target, _, text = rest.partition(" ")
                connection.privmsg(target, text)
            elif verb == "me":
                target, _, text = rest.partition(" ")
                connection.action(target, text)
            elif verb == "nick":
                connection.nick(rest)
            elif verb == "join":
                connection.join(rest)
            elif verb == "quit":
                connection.quit(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
