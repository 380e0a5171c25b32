import { StreamResultAssembler } from '../../src/providers/stream-result-assembler';

describe('StreamResultAssembler', () => {
  it('assembles Anthropic thinking blocks in order: a signature closes a block, redacted thinking is one block', () => {
    const assembler = new StreamResultAssembler('m', 1);
    assembler.add({ type: 'redacted-reasoning', choiceIndex: 0, data: 'D' });
    assembler.add({ type: 'reasoning-delta', choiceIndex: 0, text: 'fir' });
    assembler.add({ type: 'reasoning-delta', choiceIndex: 0, text: 'st' });
    assembler.add({ type: 'reasoning-signature', choiceIndex: 0, signature: 'S1' });
    assembler.add({ type: 'reasoning-delta', choiceIndex: 0, text: 'second' });
    assembler.add({ type: 'reasoning-signature', choiceIndex: 0, signature: 'S2' });
    assembler.add({ type: 'text-delta', choiceIndex: 0, text: 'answer' });
    assembler.add({ type: 'finish', choiceIndex: 0, finishReason: 'stop' });
    expect(assembler.result().choices[0]!.message).toEqual({ role: 'assistant', content: 'answer', reasoning_content: 'firstsecond',
      thinking_blocks: [{ type: 'redacted_thinking', data: 'D' }, { type: 'thinking', thinking: 'first', signature: 'S1' }, { type: 'thinking', thinking: 'second', signature: 'S2' }] });
  });

  it('keeps unsigned reasoning (other providers) as reasoning_content only', () => {
    const assembler = new StreamResultAssembler('m', 1);
    assembler.add({ type: 'reasoning-delta', choiceIndex: 0, text: 'hmm' });
    assembler.add({ type: 'text-delta', choiceIndex: 0, text: 'ok' });
    expect(assembler.result().choices[0]!.message).toEqual({ role: 'assistant', content: 'ok', reasoning_content: 'hmm' });
  });
});
