/**
 * What the command line gets from the process and the host: the orchestration
 * layer's `OpsIo` (src/ops/io.ts), the one interface both layers share, so
 * that cli() hands it down as it is. Only src/main.ts builds the real one.
 */
export type { OpsIo as CliIo } from "../ops/io.ts";
