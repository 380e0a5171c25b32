import type { AnthropicMessagesRequest } from '../../src/providers/anthropic/anthropic-api';
import { applyAnthropicCacheBreakpoints, markableBlocks } from '../../src/providers/anthropic/anthropic-cache-control';

type Prompt = Pick<AnthropicMessagesRequest, 'tools' | 'system' | 'messages'>;

const long = (label: string): string => `${label} ${'lorem ipsum '.repeat(500)}`; // ≈1,500 estimated tokens
const tool = (name: string) => ({ name, input_schema: { type: 'object', properties: {} } });
const user = (text: string) => ({ role: 'user' as const, content: [{ type: 'text' as const, text }] });
const assistant = (text: string) => ({ role: 'assistant' as const, content: [{ type: 'text' as const, text }] });

function markers(prompt: Prompt): unknown[] {
  return markableBlocks(prompt).filter((block) => block.cache_control).map((block) => block.cache_control);
}

describe('applyAnthropicCacheBreakpoints', () => {
  it('marks the last tool and the last system block', () => {
    const prompt: Prompt = { tools: [tool('a'), tool('b')], system: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }], messages: [user('Hi')] };
    applyAnthropicCacheBreakpoints(prompt);
    expect(prompt.tools![0]!.cache_control).toBeUndefined();
    expect(prompt.tools![1]!.cache_control).toEqual({ type: 'ephemeral' });
    expect(prompt.system![0]!.cache_control).toBeUndefined();
    expect(prompt.system![1]!.cache_control).toEqual({ type: 'ephemeral' });
    expect(prompt.messages[0]!.content[0]!.cache_control).toBeUndefined();
  });

  it('marks the end of a long conversation history, but not the newest message', () => {
    const prompt: Prompt = { messages: [user(long('doc')), assistant('Read it.'), user('Summarise')] };
    applyAnthropicCacheBreakpoints(prompt);
    expect(prompt.messages[1]!.content[0]!.cache_control).toEqual({ type: 'ephemeral' });
    expect(prompt.messages[2]!.content[0]!.cache_control).toBeUndefined();
  });

  it('leaves a short history unmarked (below the cacheable minimum)', () => {
    const prompt: Prompt = { messages: [user('Hi'), assistant('Hello'), user('How are you?')] };
    applyAnthropicCacheBreakpoints(prompt);
    expect(markers(prompt)).toEqual([]);
  });

  it('marks earlier long turns too, and never more than four breakpoints in total', () => {
    const prompt: Prompt = {
      tools: [tool('a')], system: [{ type: 'text', text: 'rules' }],
      messages: [user(long('one')), assistant('ok'), user(long('two')), assistant('ok'), user(long('three')), assistant('ok'), user('question')],
    };
    applyAnthropicCacheBreakpoints(prompt);
    expect(markers(prompt)).toHaveLength(4);
    expect(prompt.tools![0]!.cache_control).toBeDefined();
    expect(prompt.system![0]!.cache_control).toBeDefined();
    expect(prompt.messages[5]!.content[0]!.cache_control).toBeDefined(); // end of history
    expect(prompt.messages[4]!.content[0]!.cache_control).toBeDefined(); // newest long turn
    expect(prompt.messages[0]!.content[0]!.cache_control).toBeUndefined();
  });

  it("keeps the caller's markers and fills only the slots left", () => {
    const prompt: Prompt = {
      tools: [tool('a')], system: [{ type: 'text', text: 'rules' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'a', cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'b', cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'c', cache_control: { type: 'ephemeral' } }] },
      ],
    };
    applyAnthropicCacheBreakpoints(prompt);
    expect(markers(prompt)).toHaveLength(4);
    expect(prompt.tools![0]!.cache_control).toEqual({ type: 'ephemeral' });
    expect(prompt.system![0]!.cache_control).toBeUndefined();
  });

  it("adds nothing when the caller's markers take all four slots, and does not double a marked candidate", () => {
    const marked = { type: 'ephemeral' as const, ttl: '1h' as const };
    const prompt: Prompt = {
      tools: [{ ...tool('a'), cache_control: marked }], system: [{ type: 'text', text: 'rules', cache_control: marked }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'x', cache_control: marked }, { type: 'text', text: 'y', cache_control: marked }] }],
    };
    applyAnthropicCacheBreakpoints(prompt);
    expect(markers(prompt)).toEqual([marked, marked, marked, marked]);
  });

  it('keeps only the last four of more caller markers, with a warning', () => {
    const blocks = ['a', 'b', 'c', 'd', 'e', 'f'].map((text) => ({ type: 'text' as const, text, cache_control: { type: 'ephemeral' as const } }));
    const prompt: Prompt = { tools: [tool('t')], messages: [{ role: 'user', content: blocks }] };
    const warnings = applyAnthropicCacheBreakpoints(prompt);
    expect(blocks.map((block) => block.cache_control !== undefined)).toEqual([false, false, true, true, true, true]);
    expect(prompt.tools![0]!.cache_control).toBeUndefined();
    expect(warnings).toEqual([expect.objectContaining({ type: 'approximated-setting', setting: 'cache_control' })]);
  });

  it("gives automatic breakpoints the 1-hour TTL when a caller's 1-hour breakpoint follows them", () => {
    const prompt: Prompt = { tools: [tool('a')], messages: [{ role: 'user', content: [{ type: 'text', text: 'doc', cache_control: { type: 'ephemeral', ttl: '1h' } }] }] };
    applyAnthropicCacheBreakpoints(prompt);
    expect(prompt.tools![0]!.cache_control).toEqual({ type: 'ephemeral', ttl: '1h' });
  });

  it('adds no automatic breakpoint in explicit-only mode', () => {
    const prompt: Prompt = { tools: [tool('a')], system: [{ type: 'text', text: 'rules' }], messages: [user('Hi')] };
    applyAnthropicCacheBreakpoints(prompt, { explicitOnly: true });
    expect(markers(prompt)).toEqual([]);
  });
});
