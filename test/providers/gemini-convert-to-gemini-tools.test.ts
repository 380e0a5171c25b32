import { convertToGeminiTools } from '../../src/providers/gemini/convert-to-gemini-tools';
import type { ChatTool } from '../../src/contract/chat';

const weather: ChatTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather', strict: true,
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } },
};
const ping: ChatTool = { type: 'function', function: { name: 'ping', parameters: { type: 'object', properties: {} } } };

describe('convertToGeminiTools', () => {
  it('declares functions with cleaned schemas and no parameters for parameter-less tools', () => {
    expect(convertToGeminiTools({ tools: [weather, ping] })).toEqual({
      tools: [{ functionDeclarations: [
        { name: 'get_weather', description: 'Weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] } },
        { name: 'ping' },
      ] }],
      warnings: [],
    });
  });

  it.each([
    ['auto', { mode: 'AUTO' }], ['none', { mode: 'NONE' }], ['required', { mode: 'ANY' }],
    [{ type: 'function', function: { name: 'get_weather' } }, { mode: 'ANY', allowedFunctionNames: ['get_weather'] }],
  ] as const)('maps tool_choice %j', (toolChoice, expected) => {
    expect(convertToGeminiTools({ tools: [weather], tool_choice: toolChoice }).toolConfig).toEqual({ functionCallingConfig: expected });
  });

  it('leaves tool_choice out without tools, and warns for parallel_tool_calls=false', () => {
    expect(convertToGeminiTools({ tool_choice: 'required' })).toEqual({ warnings: [] });
    expect(convertToGeminiTools({ tools: [weather], parallel_tool_calls: false }).warnings).toEqual([expect.objectContaining({ setting: 'parallel_tool_calls' })]);
  });

  it('reports schema keywords it had to drop', () => {
    const tool: ChatTool = { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { n: { type: 'number', multipleOf: 5 } } } } };
    expect(convertToGeminiTools({ tools: [tool] }).warnings).toEqual([expect.objectContaining({ setting: 'tools[0].function.parameters', message: expect.stringContaining('multipleOf') })]);
  });
});
