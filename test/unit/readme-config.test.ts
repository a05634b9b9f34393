/** The README's configuration table cannot drift from the schema: every variable is documented. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_VARIABLES } from "../../lib/config.ts";

const README = readFileSync(join(import.meta.dir, "..", "..", "README.md"), "utf8");

test.each(CONFIG_VARIABLES.map((v) => [v.name]))("README documents %s", (name) => {
  expect(README).toContain(`\`${name}\``);
});

test("every variable has a description in the schema", () => {
  expect(CONFIG_VARIABLES.filter((v) => v.description === "").map((v) => v.name)).toEqual([]);
});
