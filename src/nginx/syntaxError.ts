/** Broken config: names the file, line and what was expected, like nginx -t does. */
export class NginxSyntaxError extends Error {
  override readonly name = 'NginxSyntaxError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}:${column}: ${detail}`);
  }
}
