/** An error caused by the operator's input: shown as one line, exit 2, never a stack trace. */
export class UserError extends Error {
  override readonly name = 'UserError';
}
