import { GeminiFunctionCallAssembler, parseJsonPath } from '../../src/providers/gemini/gemini-function-call-assembler';
import { geminiResponseSchema, type GeminiResponseFunctionCall } from '../../src/providers/gemini/gemini-response-schema';
import { loadGeminiChunks } from './gemini-fixtures';

describe('GeminiFunctionCallAssembler', () => {
  it('emits a whole function call at once', () => {
    const assembler = new GeminiFunctionCallAssembler();
    expect(assembler.accept(0, { name: 'weather', args: { location: 'Paris' } }, 'r1')).toEqual([
      { toolCallIndex: 0, id: 'call_r1_0_0', name: 'weather', arguments: '{"location":"Paris"}' },
    ]);
    expect(assembler.count(0)).toBe(1);
  });

  it('assembles the recorded streamed arguments into two complete calls, each emitted once', () => {
    const assembler = new GeminiFunctionCallAssembler();
    const calls = loadGeminiChunks('google-stream-tool-call-arguments').flatMap((chunk) => {
      const parsed = geminiResponseSchema.parse(chunk);
      return (parsed.candidates?.[0]?.content?.parts ?? []).flatMap((part) => part.functionCall ? assembler.accept(0, part.functionCall, parsed.responseId) : []);
    });
    expect(calls).toEqual([
      { toolCallIndex: 0, id: 'call_dqHOab6xGLzWodAPkPuViA4_0_0', name: 'getWeather', arguments: '{"location":"Boston"}' },
      { toolCallIndex: 1, id: 'call_dqHOab6xGLzWodAPkPuViA4_0_1', name: 'getWeather', arguments: '{"location":"San Francisco"}' },
    ]);
  });

  it('builds nested paths and typed values, and flushes an open call when the candidate finishes', () => {
    const assembler = new GeminiFunctionCallAssembler();
    const pieces: GeminiResponseFunctionCall[] = [
      { name: 'plan', willContinue: true },
      { partialArgs: [{ jsonPath: '$.steps[0].title', stringValue: 'Bo', willContinue: true }], willContinue: true },
      { partialArgs: [{ jsonPath: '$.steps[0].title', stringValue: 'il' }, { jsonPath: '$.steps[0].minutes', numberValue: 9 }], willContinue: true },
      { partialArgs: [{ jsonPath: "$['done']", boolValue: false }, { jsonPath: '$.note', nullValue: 'NULL_VALUE' }], willContinue: true },
    ];
    for (const piece of pieces) expect(assembler.accept(1, piece, undefined)).toEqual([]);
    expect(assembler.flush(1, undefined)).toEqual([
      { toolCallIndex: 0, id: 'call_gemini_1_0', name: 'plan', arguments: '{"steps":[{"title":"Boil","minutes":9}],"done":false,"note":null}' },
    ]);
    expect(assembler.flush(1, undefined)).toEqual([]);
  });

  it('ignores paths that would reach the object prototype', () => {
    const assembler = new GeminiFunctionCallAssembler();
    assembler.accept(0, { name: 'f', willContinue: true }, 'r');
    assembler.accept(0, { partialArgs: [{ jsonPath: '$.__proto__.polluted', stringValue: 'x' }] }, 'r');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseJsonPath', () => {
  it('reads dotted, indexed and quoted segments', () => {
    expect(parseJsonPath("$.a.b[2]['c d'][\"e\"]")).toEqual(['a', 'b', 2, 'c d', 'e']);
  });
});
