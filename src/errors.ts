/**
 * A mistake the user can fix (bad flag, unreadable file, spec without markers, missing token,
 * Docker not running). The CLI prints `message` as one line and exits with code 2, without a stack.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  readonly exitCode = 2;
}

/**
 * A fault of the machinery around the candidates (engine gone, image missing, harness protocol
 * broken). A failing candidate is never one of these: it is an Outcome.
 */
export class InfrastructureError extends Error {
  override readonly name = 'InfrastructureError';
}

/**
 * Thrown by commands to ask the CLI for a specific exit code; the CLI prints `message` as one line
 * when `print` is set (otherwise the command printed its own output).
 */
export class ExitError extends Error {
  override readonly name = 'ExitError';
  constructor(
    readonly exitCode: number,
    message = `exit ${exitCode}`,
    readonly print = false,
  ) {
    super(message);
  }
}
