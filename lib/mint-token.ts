/**
 * Minting tokens the gateway accepts — for development and tests, the way Laravel would.
 *
 *   npm run token -- --sub 42 --ttl 300 [--claims '{"scopes":["claude"]}'] [--key private.pem]
 *
 * Uses the configured key: JWT_SECRET (with JWT_SECRET_ENCODING), or in development the secret
 * the running gateway generated in STATE_DIR. For RS/PS/ES/EdDSA pass the private key with
 * `--key` (PKCS#8 PEM). JWT_ISSUER and the first JWT_AUDIENCE are added when set.
 */
import { importPKCS8, SignJWT, type CryptoKey, type JWTPayload } from "jose";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { decodeSecret, devSecretIn, devSecretPath } from "./auth/keys.ts";
import { loadConfig } from "./config.ts";
import { ConfigError } from "./errors.ts";

export interface MintOptions {
  secret?: Uint8Array;
  privateKey?: CryptoKey;
  alg?: string;
  sub: string;
  ttlS: number;
  claims?: JWTPayload;
  issuer?: string;
  audience?: string;
}

export async function mintToken(o: MintOptions): Promise<string> {
  const jwt = new SignJWT({ ...o.claims })
    .setProtectedHeader({ alg: o.alg ?? "HS256", typ: "JWT" })
    .setSubject(o.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + o.ttlS);
  if (o.issuer !== undefined) jwt.setIssuer(o.issuer);
  if (o.audience !== undefined) jwt.setAudience(o.audience);
  const key = o.privateKey ?? o.secret;
  if (key === undefined) throw new Error("mintToken needs a secret or a private key");
  return jwt.sign(key);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sub: { type: "string" },
      ttl: { type: "string", default: "300" },
      claims: { type: "string" },
      key: { type: "string" },
      alg: { type: "string" },
    },
  });
  if (values.sub === undefined || values.sub === "") throw new Error("--sub is required (the user id the token speaks for)");
  const ttlS = Number(values.ttl);
  if (!Number.isInteger(ttlS) || ttlS <= 0) throw new Error("--ttl must be a positive whole number of seconds");
  const claims = values.claims === undefined ? undefined : (JSON.parse(values.claims) as JWTPayload);
  const config = loadConfig(process.env);
  const { auth } = config;
  const alg = values.alg ?? auth.algorithms[0]!;
  let secret: Uint8Array | undefined;
  let privateKey: CryptoKey | undefined;
  if (values.key !== undefined) {
    privateKey = await importPKCS8(readFileSync(values.key, "utf8"), alg);
  } else if (auth.secret !== undefined) {
    secret = decodeSecret(auth.secret.value, auth.secret.encoding);
  } else if (!auth.production && existsSync(devSecretPath(config.stateDir))) {
    secret = devSecretIn(config.stateDir, false);
  } else {
    throw new Error("no signing key: set JWT_SECRET, pass --key private.pem, or start the gateway in development first");
  }
  const token = await mintToken({ secret, privateKey, alg, sub: values.sub, ttlS, claims, issuer: auth.issuer, audience: auth.audience?.[0] });
  process.stdout.write(token + "\n");
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(`token: ${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  });
}
