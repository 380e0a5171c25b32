/**
 * Reads a whole (non-streamed) Gemini answer within `firstTokenMs`. undici's own body timeout runs on
 * its coarse timer wheel (about one-second resolution), so a short first-token budget is enforced
 * here with a precise timer, as the SSE reader does for streams.
 */
import { ProviderError } from '../provider-error';
import { DEFAULT_TIMEOUTS, readBodyText, type UpstreamResponse } from '../upstream-http';
import { GEMINI_PROVIDER } from './gemini-error';

export async function readGeminiBody(response: UpstreamResponse, firstTokenMs = DEFAULT_TIMEOUTS.firstTokenMs, signal?: AbortSignal): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      response.body.destroy();
      reject(new ProviderError(`${GEMINI_PROVIDER}: no answer body within ${firstTokenMs} ms`, { kind: 'timeout', provider: GEMINI_PROVIDER, phase: 'first_token' }));
    }, firstTokenMs);
  });
  const body = readBodyText(response, GEMINI_PROVIDER, signal);
  body.catch(() => undefined); // settled by the race below; a late rejection after a timeout is expected
  try {
    return await Promise.race([body, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
