// Reconcile failures. The work queue decides what to do from the type alone: retryable
// errors go back with backoff, permanent ones are surfaced in the Link status and wait for
// the next change of their object.

/** A transient failure (API unreachable, conflict, throttling): try again later. */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
}

/** The failure will not go away by retrying; the object's next change re-queues it. */
export abstract class PermanentError extends Error {
  /** Link status condition reason. */
  abstract readonly reason: 'InvalidService' | 'Error' | 'MissingNamespace' | 'NameCollision';
}

/** A local object already has the mirror's name but is not this Link's mirror. */
export class NameCollisionError extends PermanentError {
  override readonly name = 'NameCollisionError';
  readonly reason = 'NameCollision';
}

export class MissingNamespaceError extends PermanentError {
  override readonly name = 'MissingNamespaceError';
  readonly reason = 'MissingNamespace';
}

export class InvalidServiceError extends PermanentError {
  override readonly name = 'InvalidServiceError';
  readonly reason = 'InvalidService';
}

/** The API rejected what we wrote (422, 400): retrying the same write cannot help. */
export class RejectedWriteError extends PermanentError {
  override readonly name = 'RejectedWriteError';
  readonly reason = 'Error';
}
