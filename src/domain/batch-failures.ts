/** Failure types the batch workflow matches (by `type` string, never `instanceof`, across the sandbox). */

/**
 * Thrown (non-retryable) by a batch activity that reads the input file after it was deleted or
 * expired: the batch stops starting lines, lets the running ones finish, and ends `failed` with an
 * error naming the file. Retrying would wedge the batch: the file does not come back.
 */
export const INPUT_FILE_MISSING = 'Batch.input_file_missing';
