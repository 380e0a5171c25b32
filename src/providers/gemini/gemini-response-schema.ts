/**
 * Lenient zod schemas of what Gemini sends back (`GenerateContentResponse`, PROVIDERS.md §3.2). Only
 * the fields Zumik reads are declared; unknown fields are ignored so that new provider fields never
 * break parsing. Used for both the JSON answer and every SSE chunk (each chunk is a full response).
 */
import { z } from 'zod';

/** One streamed piece of a function call's arguments (Vertex `streamFunctionCallArguments`). */
export const geminiPartialArgSchema = z.object({
  jsonPath: z.string().optional(),
  stringValue: z.string().optional(),
  numberValue: z.number().optional(),
  boolValue: z.boolean().optional(),
  nullValue: z.unknown().optional(),
  willContinue: z.boolean().optional(),
});

export const geminiFunctionCallSchema = z.object({
  id: z.string().optional(),
  name: z.string().optional(),
  args: z.record(z.string(), z.unknown()).nullish(),
  partialArgs: z.array(geminiPartialArgSchema).optional(),
  willContinue: z.boolean().optional(),
});

export const geminiResponsePartSchema = z.object({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  thoughtSignature: z.string().optional(),
  functionCall: geminiFunctionCallSchema.optional(),
});

export const geminiUsageMetadataSchema = z.object({
  promptTokenCount: z.number().optional(),
  candidatesTokenCount: z.number().optional(),
  totalTokenCount: z.number().optional(),
  cachedContentTokenCount: z.number().optional(),
  thoughtsTokenCount: z.number().optional(),
  toolUsePromptTokenCount: z.number().optional(),
  /** Gemini-API-only echo of the served tier (PROVIDERS.md §3.2 marks the body echo unconfirmed). */
  serviceTier: z.string().optional(),
});

export const geminiCandidateSchema = z.object({
  content: z.object({ role: z.string().optional(), parts: z.array(geminiResponsePartSchema).nullish() }).nullish(),
  finishReason: z.string().optional(),
  index: z.number().optional(),
  finishMessage: z.string().optional(),
});

export const geminiResponseSchema = z.object({
  candidates: z.array(geminiCandidateSchema).nullish(),
  promptFeedback: z.object({ blockReason: z.string().optional() }).nullish(),
  usageMetadata: geminiUsageMetadataSchema.nullish(),
  modelVersion: z.string().optional(),
  responseId: z.string().optional(),
});

export type GeminiResponse = z.infer<typeof geminiResponseSchema>;
export type GeminiCandidate = z.infer<typeof geminiCandidateSchema>;
export type GeminiUsageMetadata = z.infer<typeof geminiUsageMetadataSchema>;
export type GeminiResponseFunctionCall = z.infer<typeof geminiFunctionCallSchema>;
export type GeminiPartialArg = z.infer<typeof geminiPartialArgSchema>;
