import { describe, expect, test } from "bun:test";
import { GatewayError } from "../../lib/errors.ts";
import { answerProtocol, tokenFromRequest, type HandshakeToken } from "../../websocket/handshake-token.ts";

const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl";
const OTHER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.b3RoZXI";

interface Handshake {
  protocols?: string;
  authorization?: string;
  query?: string;
}

function request({ protocols, authorization, query }: Handshake): Request {
  const headers = new Headers({ upgrade: "websocket" });
  if (protocols !== undefined) headers.set("sec-websocket-protocol", protocols);
  if (authorization !== undefined) headers.set("authorization", authorization);
  return new Request(`http://localhost:3000/ws${query ?? ""}`, { headers });
}

function read(h: Handshake, allowQuery = true): HandshakeToken {
  const req = request(h);
  return tokenFromRequest(req, new URL(req.url), allowQuery);
}

/** The GatewayError `read` throws; fails the test if it returns. */
function refusal(h: Handshake, allowQuery = true): GatewayError {
  try {
    read(h, allowQuery);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error(`accepted ${JSON.stringify(h)}`);
}

describe("tokenFromRequest finds one token", () => {
  const FOUND: Array<[string, Handshake, HandshakeToken]> = [
    ["in the bearer. subprotocol next to claude.v1", { protocols: `claude.v1, bearer.${JWT}` }, { token: JWT, via: "subprotocol" }],
    ["in the bearer. subprotocol offered first", { protocols: `bearer.${JWT},claude.v1` }, { token: JWT, via: "subprotocol" }],
    ["in the subprotocol whatever the prefix's letter case", { protocols: `claude.v1, Bearer.${JWT}` }, { token: JWT, via: "subprotocol" }],
    ["in Authorization: Bearer", { authorization: `Bearer ${JWT}` }, { token: JWT, via: "header" }],
    ["in Authorization with a lower-case scheme and extra spaces", { authorization: `bearer    ${JWT}` }, { token: JWT, via: "header" }],
    ["in ?token= when query tokens are allowed", { query: `?token=${JWT}` }, { token: JWT, via: "query" }],
    ["in ?token= among other parameters", { query: `?session=abc&token=${JWT}` }, { token: JWT, via: "query" }],
  ];
  for (const [where, h, expected] of FOUND) {
    test(where, () => {
      expect(read(h)).toEqual(expected);
    });
  }

  test("returns no token when none is sent (it may come in the first message)", () => {
    expect(read({})).toEqual({ token: null, via: null });
    expect(read({ protocols: "claude.v1" }, false)).toEqual({ token: null, via: null });
    expect(read({ query: "?session=abc" }, false)).toEqual({ token: null, via: null });
  });
});

describe("tokenFromRequest refuses", () => {
  test("a query token when query tokens are not allowed, as token_invalid", () => {
    expect(refusal({ query: `?token=${JWT}` }, false).code).toBe("token_invalid");
  });

  test.each(["Basic dXNlcjpwYXNzd29yZA==", "Bearer", `Bearer ${JWT} extra`, JWT, `Token ${JWT}`, `Bearer,${JWT}`])(
    "a malformed Authorization header %p as token_invalid",
    (authorization) => {
      expect(refusal({ authorization }).code).toBe("token_invalid");
    },
  );

  const PAIRS: Array<[string, Handshake]> = [
    ["subprotocol and Authorization", { protocols: `claude.v1, bearer.${JWT}`, authorization: `Bearer ${OTHER}` }],
    ["subprotocol and query", { protocols: `claude.v1, bearer.${JWT}`, query: `?token=${OTHER}` }],
    ["Authorization and query", { authorization: `Bearer ${JWT}`, query: `?token=${OTHER}` }],
    ["two bearer subprotocols", { protocols: `bearer.${JWT}, claude.v1, bearer.${OTHER}` }],
    ["the same token twice", { protocols: `claude.v1, bearer.${JWT}`, authorization: `Bearer ${JWT}` }],
    ["all three", { protocols: `bearer.${JWT}`, authorization: `Bearer ${JWT}`, query: `?token=${JWT}` }],
  ];
  for (const [pair, h] of PAIRS) {
    test(`two tokens at once (${pair}) as bad_request, without echoing them`, () => {
      const err = refusal(h);
      expect(err.code).toBe("bad_request");
      expect(err.message).not.toContain(JWT);
      expect(err.message).not.toContain(OTHER);
    });
  }
});

describe("answerProtocol", () => {
  const ANSWERS: Array<[string | undefined, string]> = [
    ["claude.v1", "claude.v1"],
    [`claude.v1, bearer.${JWT}`, "claude.v1"],
    [`bearer.${JWT}, claude.v1`, "claude.v1"],
    [`bearer.${JWT}`, ""],
    [undefined, ""],
    ["", ""],
    ["claude.v2", ""],
    ["chat, superchat", ""],
  ];
  for (const [offered, answer] of ANSWERS) {
    test(`answers ${JSON.stringify(answer)} to ${offered === undefined ? "no subprotocol" : JSON.stringify(offered.replace(JWT, "<jwt>"))}`, () => {
      expect(answerProtocol(request({ protocols: offered }))).toBe(answer);
    });
  }

  test("never answers with the bearer entry, so the token is not echoed back", () => {
    for (const offered of [`bearer.${JWT}`, `bearer.${JWT}, claude.v1`, `claude.v1, bearer.${JWT}`]) {
      expect(answerProtocol(request({ protocols: offered }))).not.toContain("bearer");
    }
  });
});
