/** Validate a request body with zod, or throw a 400 naming the bad field. */
import type { z } from 'zod';
import { badRequest, fromZodError } from '../errors';

export function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.infer<Schema> {
  if (body === undefined) throw badRequest('The request body must be a JSON object (Content-Type: application/json).');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body must be a JSON object.');
  const result = schema.safeParse(body);
  if (!result.success) throw fromZodError(result.error);
  return result.data;
}
