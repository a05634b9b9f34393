/**
 * The argv for one CLI run: an array, never a shell string.
 *
 * The prompt goes after `--`, so a prompt that begins with `-` is still the prompt and never a
 * flag; stdin is /dev/null, so the CLI does not wait on it (see shared/CLAUDE-CLI.md).
 */
export function oneShotArgv(bin: string, prompt: string): string[] {
  return [bin, "-p", "--output-format", "stream-json", "--verbose", "--", prompt];
}
