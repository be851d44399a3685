// Stable exit codes, documented in the README.
export const EXIT = {
  ok: 0,
  /** Invalid manifests, a failed resource, a refused change. */
  failed: 1,
  /** `plan --detailed-exitcode`: there are changes. */
  changes: 2,
  /** Bad command-line usage. */
  usage: 64,
  /** `apply --wait` ran out of time. */
  timeout: 124,
} as const;
