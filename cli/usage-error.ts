/**
 * A problem with what the user asked for (flags, input files, cluster state they must fix).
 * The CLI prints only the message, which must say what was wrong and how to fix it.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
