import { expect, test } from "bun:test";
import { childEnv } from "../../lib/child-env.ts";

const GATEWAY_ENV = {
  PATH: "/usr/bin",
  HOME: "/home/g",
  EMPTY: "",
  JWT_SECRET: "s3cret",
  DATABASE_URL: "postgres://x",
  ANTHROPIC_API_KEY: "sk-test",
};

test.each([
  ["passes only the listed variables", ["PATH", "ANTHROPIC_API_KEY"], { PATH: "/usr/bin", ANTHROPIC_API_KEY: "sk-test" }],
  ["skips listed variables that are absent", ["PATH", "LANG", "TMPDIR"], { PATH: "/usr/bin" }],
  ["keeps a listed variable set to the empty string", ["EMPTY"], { EMPTY: "" }],
  ["gives an empty environment for an empty list", [], {}],
  ["matches names exactly, case included", ["path", "Home"], {}],
] as const)("childEnv %s", (_, passthrough, expected) => {
  expect(childEnv(passthrough, GATEWAY_ENV)).toEqual(expected);
});

test("childEnv never hands on a secret that is not listed", () => {
  const env = childEnv(["PATH", "HOME"], GATEWAY_ENV);
  expect(Object.keys(env)).not.toContain("JWT_SECRET");
  expect(Object.keys(env)).not.toContain("DATABASE_URL");
});

test("childEnv reads the gateway's own environment by default", () => {
  expect(childEnv(["PATH"])).toEqual({ PATH: process.env.PATH! });
});
