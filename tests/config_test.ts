// The --config file: room rules in JSON with comments, every field checked,
// and a bad file stopping the CLI with one line that names the field.

import assert from "node:assert/strict";
import { parseConfig, readConfig } from "../cli/config.ts";
import { CliError } from "../cli/errors.ts";
import { policyFor } from "../core/mod.ts";

/** The message of the CliError that `parse` throws. */
function mistake(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof CliError, `a CliError, not ${error}`);
    assert.ok(!error.message.includes("\n"), `one line: ${error.message}`);
    return error.message;
  }
  assert.fail("the file was accepted");
}

const bad = (text: string) => mistake(() => parseConfig(text, "crosswire.json"));

Deno.test("parseConfig() reads rules by name and pattern, with comments and trailing commas", () => {
  const { rooms } = parseConfig(
    `// the rules
    {
      "$schema": "./schema.json", /* ignored */
      "rooms": {
        "announcements": { "readOnly": true, "history": 500, },
        "#staff-*": { "private": true, "maxMembers": 50 },
        "support-*": { "history": 0 },
        "open": {},
      },
    }`,
    "crosswire.json",
  );
  assert.deepEqual(rooms, {
    announcements: { readOnly: true, history: 500 },
    "staff-*": { private: true, maxMembers: 50 },
    "support-*": { history: 0 },
    open: {},
  });
  // The order of the file is the order patterns are tried in.
  assert.deepEqual(Object.keys(rooms), ["announcements", "staff-*", "support-*", "open"]);
  assert.equal(policyFor(rooms, "staff-eu")?.maxMembers, 50);
  assert.equal(policyFor(rooms, "lobby"), undefined);
});

Deno.test("parseConfig() takes an empty object, and room names as NFC and as themselves", () => {
  assert.deepEqual(parseConfig("{}", "c.json").rooms, {});
  // A room called __proto__ is a room, not the object's prototype.
  const { rooms } = parseConfig(
    '{"rooms": {"__proto__": {"private": true}, "cafe\u0301": {}}}',
    "c",
  );
  assert.ok(Object.hasOwn(rooms, "__proto__"));
  assert.equal(policyFor(rooms, "__proto__")?.private, true);
  assert.equal(Object.getPrototypeOf(rooms), Object.prototype);
  assert.ok(Object.hasOwn(rooms, "caf\u00e9"), "the name in NFC, as the relay compares it");
});

Deno.test("parseConfig() names the field of each kind of bad value", () => {
  const cases: [string, string][] = [
    [
      '{"rooms": {"staff-*": {"maxMembers": "ten"}}}',
      'crosswire.json: rooms["staff-*"].maxMembers must be a whole number of 1 or more, not "ten"',
    ],
    [
      '{"rooms": {"a": {"maxMembers": 0}}}',
      'crosswire.json: rooms["a"].maxMembers must be a whole number of 1 or more, not 0',
    ],
    [
      '{"rooms": {"a": {"maxMembers": 2.5}}}',
      'crosswire.json: rooms["a"].maxMembers must be a whole number of 1 or more, not 2.5',
    ],
    [
      '{"rooms": {"a": {"history": 10001}}}',
      'crosswire.json: rooms["a"].history must be a whole number from 0 to 10000, not 10001',
    ],
    [
      '{"rooms": {"a": {"history": -1}}}',
      'crosswire.json: rooms["a"].history must be a whole number from 0 to 10000, not -1',
    ],
    [
      '{"rooms": {"a": {"readOnly": "yes"}}}',
      'crosswire.json: rooms["a"].readOnly must be true or false, not "yes"',
    ],
    [
      '{"rooms": {"a": {"private": 1}}}',
      'crosswire.json: rooms["a"].private must be true or false, not 1',
    ],
    [
      '{"rooms": {"a": {"readonly": true}}}',
      'crosswire.json: rooms["a"].readonly is not a room rule; did you mean readOnly?',
    ],
    [
      '{"rooms": {"a": {"colour": "red"}}}',
      'crosswire.json: rooms["a"].colour is not a room rule ' +
      "(the rules are readOnly, private, maxMembers, history)",
    ],
    [
      '{"rooms": {"a": true}}',
      'crosswire.json: rooms["a"] must be an object of rules ' +
      "(readOnly, private, maxMembers, history), not true",
    ],
    [
      '{"rooms": ["a"]}',
      'crosswire.json: rooms must be an object of room names to rules, not ["a"]',
    ],
    [
      '{"room": {}}',
      'crosswire.json: "room" is not a setting (the settings are rooms, $schema)',
    ],
    ['{"$schema": 1}', 'crosswire.json: "$schema" must be a string, not 1'],
    [
      "[]",
      'crosswire.json: the top level must be an object ({ "rooms": ... }), not []',
    ],
    [
      '{"rooms": {"two words": {}}}',
      'crosswire.json: rooms["two words"] is not a room name or pattern: ' +
      "a room name must be 1-32 visible characters with no spaces",
    ],
    [
      '{"rooms": {"": {}}}',
      'crosswire.json: rooms[""] is not a room name or pattern: ' +
      "a room name must be 1-32 visible characters with no spaces",
    ],
    [
      '{"rooms": {"#games": {}, "games": {"private": true}}}',
      'crosswire.json: rooms["games"] names the same rooms as rooms["#games"]',
    ],
    ['{"rooms": {"a": {}, "a": {}}}', 'crosswire.json: rooms has "a" twice'],
    ['{"rooms": {}, "rooms": {}}', 'crosswire.json: the top level has "rooms" twice'],
  ];
  for (const [text, expected] of cases) assert.equal(bad(text), expected, text);
});

Deno.test("parseConfig() gives the line and column of a syntax error", () => {
  assert.equal(
    bad('{\n  "rooms": {\n    "a": {},\n    b: {}\n  }\n}'),
    "crosswire.json:4:5: the JSON is malformed " +
      "(unexpected character; property names and strings need double quotes)",
  );
  assert.equal(
    bad('{\n  "rooms": {\n    "a": {}\n    "b": {}\n  }\n}'),
    "crosswire.json:4:5: the JSON is malformed (comma expected)",
  );
  assert.equal(
    bad('{"rooms": {1: {}}}'),
    "crosswire.json:1:12: the JSON is malformed (property name expected)",
  );
  assert.equal(
    bad('{"rooms": {}'),
    "crosswire.json:1:13: the JSON is malformed (close brace expected)",
  );
  assert.equal(
    bad("{} {}"),
    "crosswire.json:1:4: the JSON is malformed (end of file expected: one object only)",
  );
  assert.equal(
    bad("  \n"),
    'crosswire.json: the file is empty; it should hold { "rooms": { ... } }',
  );
});

Deno.test("readConfig() names a file it cannot read, and the example file is valid", () => {
  const missing = mistake(() => readConfig("nope.json", (path) => Deno.readTextFileSync(path)));
  assert.equal(missing, "cannot read --config nope.json: No such file or directory");
  const example = new URL("../crosswire.example.jsonc", import.meta.url).pathname;
  const { rooms } = readConfig(example, (path) => Deno.readTextFileSync(path));
  assert.deepEqual(rooms.announcements, { readOnly: true, history: 500 });
  assert.ok(Object.keys(rooms).length >= 3);
});

Deno.test("main.ts: a bad --config file is one line on stderr and exit code 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "crosswire-config-" });
  try {
    const file = `${dir}/crosswire.json`;
    await Deno.writeTextFile(
      file,
      '{\n  "rooms": {\n    "staff-*": { "maxMembers": "ten" }\n  }\n}\n',
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts", "--host", "127.0.0.1", "--port", "0", "--tcp-port", "0"]
        .concat(["--config", file]),
      cwd: new URL("../", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 1, stderr);
    assert.equal(
      stderr,
      `crosswire: ${file}: rooms["staff-*"].maxMembers must be a whole number of 1 or more, ` +
        'not "ten"\n',
    );
    assert.equal(new TextDecoder().decode(output.stdout), "", "nothing started");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
