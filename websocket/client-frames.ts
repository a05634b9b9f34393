/**
 * Turns one raw client message into a validated frame, or a GatewayError saying what was wrong.
 * Nothing a client sends reaches a process without passing through here.
 */
import { GatewayError } from "../lib/errors.ts";
import {
  authFrameSchema,
  interruptFrameSchema,
  permissionFrameSchema,
  promptFrameSchema,
  userFrameSchema,
  type ClientFrame,
  type FrameLimits,
} from "./schemas.ts";

export interface ClientFrameLimits extends FrameLimits {
  maxFrameBytes: number;
}

export type ClientFrameParser = (message: string | Buffer) => ClientFrame;

export function createClientFrameParser(limits: ClientFrameLimits): ClientFrameParser {
  const promptSchema = promptFrameSchema(limits);
  const schemas = {
    auth: authFrameSchema,
    user: userFrameSchema(limits),
    interrupt: interruptFrameSchema,
    permission: permissionFrameSchema,
  } as const;
  return (message) => {
    if (typeof message !== "string") {
      throw new GatewayError("unsupported_data", "Binary frames are not accepted; send a JSON text frame.");
    }
    if (message.length * 3 > limits.maxFrameBytes && Buffer.byteLength(message, "utf8") > limits.maxFrameBytes) {
      throw new GatewayError("message_too_big", `Frames are limited to ${limits.maxFrameBytes} bytes.`);
    }
    let value: unknown;
    try {
      value = JSON.parse(message);
    } catch {
      throw new GatewayError("invalid_json", "The frame is not valid JSON.");
    }
    const type = typeof value === "object" && value !== null ? (value as { type?: unknown }).type : undefined;
    const schema = typeof type === "string" && Object.hasOwn(schemas, type) ? schemas[type as keyof typeof schemas] : promptSchema;
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data as ClientFrame;
    const issue = parsed.error.issues[0]!;
    if (issue.code === "custom" && issue.params?.gatewayCode === "prompt_too_large") {
      throw new GatewayError("prompt_too_large", issue.message);
    }
    const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    throw new GatewayError("invalid_message", `${where}${issue.message}`);
  };
}
