/**
 * A problem the user can fix (a bad argument, an unknown name, a service that
 * cannot be reached): commands print its message as one line, without a
 * stack trace.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
