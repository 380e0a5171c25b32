import { mapGeminiBlockReason, mapGeminiFinishReason } from '../../src/providers/gemini/map-gemini-finish-reason';

describe('mapGeminiFinishReason', () => {
  it('maps STOP to stop, or to tool_calls when the candidate called a function', () => {
    expect(mapGeminiFinishReason('STOP', false)).toBe('stop');
    expect(mapGeminiFinishReason('STOP', true)).toBe('tool_calls');
  });

  it('maps MAX_TOKENS to length even when a function call was cut short', () => {
    expect(mapGeminiFinishReason('MAX_TOKENS', false)).toBe('length');
    expect(mapGeminiFinishReason('MAX_TOKENS', true)).toBe('length');
  });

  it.each(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION'])(
    'maps the safety-family reason %s to content_filter', (raw) => {
      expect(mapGeminiFinishReason(raw, false)).toBe('content_filter');
    });

  it.each(['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL', 'TOO_MANY_TOOL_CALLS', 'LANGUAGE', 'OTHER', 'NO_IMAGE', 'FINISH_REASON_UNSPECIFIED', 'SOMETHING_NEW'])(
    'maps %s to stop (gateway policy)', (raw) => {
      expect(mapGeminiFinishReason(raw, false)).toBe('stop');
    });

  it('treats a missing finish reason as stop', () => {
    expect(mapGeminiFinishReason(undefined, false)).toBe('stop');
  });
});

describe('mapGeminiBlockReason', () => {
  it('maps a blocked prompt to content_filter', () => {
    expect(mapGeminiBlockReason('PROHIBITED_CONTENT')).toBe('content_filter');
  });
});
