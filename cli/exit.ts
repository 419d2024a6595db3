/**
 * A service command ends the process once its last line is out: Temporal's
 * native runtime and HTTP keep-alive timers may hold the event loop open
 * after everything has been closed.
 */
export function exitWhenFlushed(code: number): void {
  process.stdout.write('', () => process.exit(code));
}
