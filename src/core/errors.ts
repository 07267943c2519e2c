// Errors the engine reports to people: each names the bad value and says what to do.

/** Bad input from a user or a caller. `field` names the input that was wrong. */
export class ValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** A request about an action that does not exist (any more). */
export class NotFoundError extends Error {
  constructor(readonly id: string) {
    super(`no action with id or name "${id}"; list actions with "sdlc-orchestrator list"`);
    this.name = 'NotFoundError';
  }
}
