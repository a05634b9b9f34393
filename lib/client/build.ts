/**
 * Server side, not part of the browser client: bundles a browser entry point with Bun.build, in
 * memory, for the gateway to serve (the demo page's script) and for the browser tests' pages.
 * No build step to run and no bundle to commit: the gateway builds at start-up.
 */
export interface BundleOptions {
  /** React and others read process.env.NODE_ENV; "development" keeps StrictMode's double mount. */
  nodeEnv?: "development" | "production";
  minify?: boolean;
}

/** One ES module with everything `entry` imports. Throws with Bun's messages if it does not build. */
export async function bundleBrowserScript(entry: string, options: BundleOptions = {}): Promise<string> {
  const result = await Bun.build({
    entrypoints: [entry],
    target: "browser",
    format: "esm",
    minify: options.minify ?? false,
    define: { "process.env.NODE_ENV": JSON.stringify(options.nodeEnv ?? "production") },
  });
  if (!result.success || result.outputs.length === 0) {
    throw new Error(`bundling ${entry} failed:\n${result.logs.map((l) => String(l)).join("\n")}`);
  }
  return result.outputs[0]!.text();
}
