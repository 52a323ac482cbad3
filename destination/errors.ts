// Why a request cannot be served. server.ts maps each class to its gRPC status; nothing
// else looks at them, so the wording is what the proxy's log shows.

/** The path is not `<service name>:<port>`. */
export class InvalidPathError extends Error {
  override readonly name = 'InvalidPathError';
}

/** No such Service in the local cluster. */
export class UnknownServiceError extends Error {
  override readonly name = 'UnknownServiceError';
}

/** The Service exists but has no port with the requested number. */
export class UnknownPortError extends Error {
  override readonly name = 'UnknownPortError';
}

/** A remote-discovery mirror names a cluster whose credentials are not in the store. */
export class UnknownClusterError extends Error {
  override readonly name = 'UnknownClusterError';
}

/** The local API server has not answered a list yet, so nothing can be resolved. */
export class NotSyncedError extends Error {
  override readonly name = 'NotSyncedError';
}

/** `promise`, or `err` thrown after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, err: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(err()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
