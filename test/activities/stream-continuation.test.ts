import type { StreamPart } from '../../src/contract/chat';
import { ContinuationFilter, prefillBody } from '../../activities/stream-continuation';

const text = (value: string): StreamPart => ({ type: 'text-delta', choiceIndex: 0, text: value });
const finish: StreamPart = { type: 'finish', choiceIndex: 0, finishReason: 'stop' };

/** The text a filter sends on for these deltas. */
function sent(filter: ContinuationFilter, deltas: string[]): string {
  return deltas.map((delta) => filter.map(text(delta))).map((part) => (part?.type === 'text-delta' ? part.text : '')).join('');
}

describe('ContinuationFilter', () => {
  describe('prefill', () => {
    it('drops the whitespace the prefill left off when the continuation starts with it', () => {
      expect(sent(new ContinuationFilter('prefill', 'one two ', 'anthropic'), [' thr', 'ee four'])).toBe('three four');
    });

    it('sends everything when the continuation goes on without it', () => {
      expect(sent(new ContinuationFilter('prefill', 'one two ', 'anthropic'), ['three'])).toBe('three');
    });

    it('leaves the prefill body without trailing whitespace, after the conversation', () => {
      const body = prefillBody({ model: 'a', messages: [{ role: 'user', content: 'Say hi' }] }, 'Hello there \n');
      expect(body.messages).toEqual([{ role: 'user', content: 'Say hi' }, { role: 'assistant', content: 'Hello there' }]);
    });
  });

  describe('regenerate', () => {
    it('holds the new answer back until it has the whole delivered prefix, then sends only the rest', () => {
      const filter = new ContinuationFilter('regenerate', 'one two ', 'openai');
      expect(sent(filter, ['one ', 'tw'])).toBe('');
      expect(sent(filter, ['o three', ' four'])).toBe('three four');
      expect(filter.map(finish)).toEqual(finish);
    });

    it('fails with resume_mismatch as soon as the new answer leaves the delivered prefix', () => {
      const filter = new ContinuationFilter('regenerate', 'one two ', 'openai');
      expect(() => sent(filter, ['one', ' six'])).toThrow(expect.objectContaining({ kind: 'resume_mismatch', afterFirstToken: true }));
    });

    it('fails with resume_mismatch when the new answer ends before reaching the delivered text', () => {
      const filter = new ContinuationFilter('regenerate', 'one two three ', 'openai');
      sent(filter, ['one two']);
      expect(() => filter.map(finish)).toThrow(expect.objectContaining({ kind: 'resume_mismatch' }));
    });
  });

  it('drops reasoning (the client has the first attempt\'s) and refuses a tool call or a refusal', () => {
    const filter = new ContinuationFilter('prefill', 'Hello', 'anthropic');
    expect(filter.map({ type: 'reasoning-delta', choiceIndex: 0, text: 'thinking' })).toBeUndefined();
    expect(() => filter.map({ type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 0, argumentsDelta: '{' }))
      .toThrow(expect.objectContaining({ kind: 'resume_mismatch' }));
    expect(() => filter.map({ type: 'refusal-delta', choiceIndex: 0, text: 'no' })).toThrow(expect.objectContaining({ kind: 'resume_mismatch' }));
  });
});
