/** Failure types the request workflow matches when recording (by `type` string, never `instanceof`, across the sandbox). */

/** Thrown (non-retryable) by recordOutcome when Postgres refuses the record's data (SQLSTATE class 22): retrying cannot help. */
export const RECORD_INVALID_DATA = 'Record.invalid_data';
