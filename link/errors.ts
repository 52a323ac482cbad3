/**
 * Something the user must fix (a flag, an input file, the state of a cluster), raised by the
 * library modules of link/. The commands turn it into a usage error; the message alone must
 * say what was wrong and how to fix it.
 */
export class LinkInputError extends Error {
  override readonly name = 'LinkInputError';
}
