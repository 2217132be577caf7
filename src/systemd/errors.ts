/**
 * Errors of boot persistence, with a code tests can assert.
 *
 * @module
 */

export type SystemdErrorCode =
  /** The unit cannot run that command (relative path, unquotable word). */
  | "bad_command"
  /** A file or symlink at one of our paths that we did not write. */
  | "foreign_file"
  /** Reading, writing, renaming or removing failed. */
  | "io"
  /** systemctl failed. */
  | "systemctl";

/** A boot-persistence failure; `path` names the file when there is one. */
export class SystemdError extends Error {
  override name = "SystemdError";
  constructor(
    readonly code: SystemdErrorCode,
    message: string,
    readonly path?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
