/**
 * An error that retrying cannot fix, such as invalid input: the controller records it and does
 * not requeue the key. The object changing (a new event) still triggers a fresh reconcile.
 */
export class TerminalError extends Error {
  readonly terminal = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }

  /** Marks an existing error as terminal, keeping its message and the error itself as cause. */
  static wrap(err: unknown): TerminalError {
    const message = err instanceof Error ? err.message : String(err);
    return new TerminalError(message, { cause: err });
  }
}

/**
 * True when retrying cannot help: a TerminalError, or any error (an MtlsError subclass, say)
 * that carries `terminal: true`.
 */
export function isTerminalError(err: unknown): boolean {
  return (
    typeof err === 'object' && err !== null && (err as { terminal?: unknown }).terminal === true
  );
}
