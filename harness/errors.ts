/** Errors the CLI turns into a message and exit status 2. */

/** Bad arguments: the message says which and what was expected. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Something outside spicecap is missing or unusable; the message says how to fix it. */
export class EnvironmentError extends Error {
  override name = "EnvironmentError";
}
