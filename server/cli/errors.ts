// How the CLI reports an operator's mistake: one line, no stack trace.
/** The command line itself is wrong (exit code 2). */
export class UsageError extends Error {}
/** The command was understood but cannot be done (exit code 1). */
export class CommandError extends Error {}
