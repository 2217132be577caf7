/**
 * The one error type of the firewalld layer. Callers (the CLI) switch on
 * `code`; tests assert the code, not the wording.
 *
 * @module
 */

/** What went wrong, as data. */
export type FirewalldErrorCode =
  /** direct.xml is not well-formed XML, or its root is not `<direct>`. Nothing was written. */
  | "malformed_direct_xml"
  /** Neither a running firewalld nor its config directory exists. */
  | "not_installed"
  /** An operation needs a running firewalld, and it is not (or is INIT/FAILED). */
  | "not_running"
  /** `iptables-restore --test` refused the entries before they reached firewalld. */
  | "invalid_rules"
  /** One of our entries would not be recognisable as ours later (comments disabled, custom chain names). */
  | "unidentifiable_entry"
  /** A D-Bus call failed. */
  | "bus"
  /** A D-Bus call got no reply in time (a bus or firewalld that hangs). */
  | "bus_timeout"
  /** firewalld refused our entries; its previous direct config was restored. */
  | "rejected"
  /** firewalld refused our entries and restoring its previous direct config failed too. */
  | "rollback_failed"
  /** Dual stack on a host whose firewalld rejects IPv6 redirected to ::1. */
  | "rfc3964_ipv4"
  /** Inbound redirection on a host whose firewalld (StrictForwardPorts=yes) rejects it. */
  | "strict_forward_ports"
  /** direct.xml is a symbolic link: refused before anything changed (see direct_xml_file.ts). */
  | "symlink"
  /** DBUS_SYSTEM_BUS_ADDRESS names a bus the binary may not connect to (see bus.ts). */
  | "bus_address"
  /**
   * firewalld left the bus in the middle of a store: the permanent config
   * was restored by writing direct.xml; the message says what is where.
   */
  | "firewalld_gone"
  /**
   * A direct rule that is not ours jumps to one of our chains
   * (foreign_jump.ts): install and uninstall refuse and name it.
   */
  | "foreign_jump"
  /** Reading or writing direct.xml failed. */
  | "io";

/** Optional evidence kept with a {@link FirewalldError}. */
export interface FirewalldErrorDetails {
  /** The file involved (direct.xml, firewalld.conf). */
  path?: string;
  /** The D-Bus method or command that failed. */
  operation?: string;
  /** firewalld's own error name from the D-Bus error text, e.g. `COMMAND_FAILED`. */
  firewalldCode?: string;
  /** stderr of a failed command, as it was. */
  stderr?: string;
  /** Where in `path` the problem is (malformed_direct_xml), counting from 1. */
  line?: number;
  column?: number;
  cause?: unknown;
}

/**
 * A failure of the firewalld layer.
 *
 * @example
 * ```ts
 * import { FirewalldError } from "./errors.ts";
 * const e = new FirewalldError("not_running", "firewalld is not running");
 * if (e.code !== "not_running") throw new Error();
 * ```
 */
export class FirewalldError extends Error {
  readonly code: FirewalldErrorCode;
  readonly path?: string;
  readonly operation?: string;
  readonly firewalldCode?: string;
  readonly stderr?: string;
  readonly line?: number;
  readonly column?: number;

  constructor(code: FirewalldErrorCode, message: string, details: FirewalldErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "FirewalldError";
    this.code = code;
    this.path = details.path;
    this.operation = details.operation;
    this.firewalldCode = details.firewalldCode;
    this.stderr = details.stderr;
    this.line = details.line;
    this.column = details.column;
  }
}
