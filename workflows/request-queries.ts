/** The queries of chatRequestWorkflow (both shapes): what `GET /v2/requests/{id}` shows while a request runs. */
import { defineQuery } from '@temporalio/workflow';
import type { RequestOutcome } from '../src/domain/request-outcome';

/** The request's outcome so far (null before it ends). */
export const outcomeQuery = defineQuery<RequestOutcome | null>('outcome');
/** Where the request is now: `admitting`, `queued`, `attempt 2: openai/gpt-5.4`, `recording`, `done`. */
export const stateQuery = defineQuery<string>('state');
