import { describe, expect, test } from "bun:test";
import { originAllowed } from "../../lib/auth/origin.ts";
import { authConfig } from "./auth-fixtures.ts";

const APP = ["https://app.example.com"];

/** [what, Origin header, Host header, ALLOWED_ORIGINS, allowed?] */
const CASES: Array<[string, string | null, string | null, readonly string[] | undefined, boolean]> = [
  ["a request without Origin (wscat, server-side callers), no list", null, "localhost:3000", undefined, true],
  ["a request without Origin, with a list", null, "gateway.example.com", APP, true],
  ["a request without Origin and without Host", null, null, undefined, true],
  ['the literal origin "null", same-origin mode', "null", "localhost:3000", undefined, false],
  ['the literal origin "null", even when the list names it', "null", "gateway.example.com", ["null"], false],
  ["an exact listed origin", "https://app.example.com", "gateway.example.com", APP, true],
  ["a listed origin among several", "https://admin.example.com", "gateway.example.com", ["https://app.example.com", "https://admin.example.com"], true],
  ["the listed host with another scheme", "http://app.example.com", "gateway.example.com", APP, false],
  ["the listed host with a port the entry does not have", "https://app.example.com:8443", "gateway.example.com", APP, false],
  ["the listed host without the port the entry has", "https://app.example.com", "gateway.example.com", ["https://app.example.com:8443"], false],
  ["the listed host with the port the entry has", "https://app.example.com:8443", "gateway.example.com", ["https://app.example.com:8443"], true],
  ["the listed origin with a trailing slash", "https://app.example.com/", "gateway.example.com", APP, false],
  ["the listed origin with a path", "https://app.example.com/dashboard", "gateway.example.com", APP, false],
  ["a subdomain of the listed host", "https://evil.app.example.com", "gateway.example.com", APP, false],
  ["a host that merely starts with the listed one", "https://app.example.com.evil.net", "gateway.example.com", APP, false],
  ["the listed origin in other letter case (exact match only)", "HTTPS://APP.EXAMPLE.COM", "gateway.example.com", APP, false],
  ["a same-origin request that the list leaves out", "https://gateway.example.com", "gateway.example.com", APP, false],
  ["any origin when the list is empty", "https://app.example.com", "gateway.example.com", [], false],
  ["the same origin as Host when no list is set", "http://localhost:3000", "localhost:3000", undefined, true],
  ["the same host over https when no list is set", "https://gateway.example.com", "gateway.example.com", undefined, true],
  ["another port than Host when no list is set", "http://localhost:3001", "localhost:3000", undefined, false],
  ["Host without the port the origin has", "http://localhost:3000", "localhost", undefined, false],
  ["another host when no list is set", "https://evil.example.com", "localhost:3000", undefined, false],
  ["an origin when Host is missing and no list is set", "http://localhost:3000", null, undefined, false],
  ["an origin that is not a URL when no list is set", "not a url", "localhost:3000", undefined, false],
  ["an origin carrying credentials for the Host when no list is set", "http://localhost:3000@evil.example.com", "localhost:3000", undefined, false],
];

describe("originAllowed", () => {
  for (const [what, origin, host, allowed, expected] of CASES) {
    test(`${expected ? "allows" : "refuses"} ${what}`, () => {
      expect(originAllowed(origin, host, allowed)).toBe(expected);
    });
  }
});

describe("ALLOWED_ORIGINS as configured", () => {
  test("is read as an exact, trimmed list, and unset means same origin only", () => {
    const listed = authConfig({ ALLOWED_ORIGINS: " https://app.example.com , http://localhost:5173 " }).allowedOrigins;
    expect(listed).toEqual(["https://app.example.com", "http://localhost:5173"]);
    expect(originAllowed("http://localhost:5173", "gateway.example.com", listed)).toBe(true);
    expect(authConfig({}).allowedOrigins).toBeUndefined();
  });
});
