/** Errors the CLI turns into a message and exit status 2. */

/** Bad arguments: the message says which and what was expected. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * A path given on the command line that cannot be used as it is (missing, of the wrong kind, an
 * output directory already in use): exit 2 like a {@link UsageError}, but the options are not
 * the problem, so the CLI does not point at `--help`.
 */
export class InputError extends UsageError {
  override name = "InputError";
}

/** Something outside spicecap is missing or unusable; the message says how to fix it. */
export class EnvironmentError extends Error {
  override name = "EnvironmentError";
}
