import { prepareAnthropicTools } from '../../src/providers/anthropic/prepare-anthropic-tools';
import type { ChatTool } from '../../src/contract/chat';

const weather: ChatTool = { type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: true } };

describe('prepareAnthropicTools', () => {
  it('maps function tools to Anthropic tools with input_schema', () => {
    expect(prepareAnthropicTools({ tools: [weather] }).tools).toEqual([{
      name: 'get_weather', description: 'Current weather', strict: true,
      input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    }]);
  });

  it('gives a parameterless function an empty object schema', () => {
    const settings = prepareAnthropicTools({ tools: [{ type: 'function', function: { name: 'now' } }] });
    expect(settings.tools).toEqual([{ name: 'now', input_schema: { type: 'object', properties: {} } }]);
  });

  it.each([
    ['auto', { type: 'auto' }],
    ['none', { type: 'none' }],
    ['required', { type: 'any' }],
  ] as const)('maps tool_choice %s', (choice, expected) => {
    expect(prepareAnthropicTools({ tools: [weather], tool_choice: choice }).toolChoice).toEqual(expected);
  });

  it('maps a named function choice to a tool choice', () => {
    expect(prepareAnthropicTools({ tools: [weather], tool_choice: { type: 'function', function: { name: 'get_weather' } } }).toolChoice)
      .toEqual({ type: 'tool', name: 'get_weather' });
  });

  it('maps parallel_tool_calls: false to disable_parallel_tool_use, even without a tool_choice', () => {
    expect(prepareAnthropicTools({ tools: [weather], tool_choice: 'required', parallel_tool_calls: false }).toolChoice)
      .toEqual({ type: 'any', disable_parallel_tool_use: true });
    expect(prepareAnthropicTools({ tools: [weather], parallel_tool_calls: false }).toolChoice)
      .toEqual({ type: 'auto', disable_parallel_tool_use: true });
  });

  it('drops a forcing tool_choice when there is no tool, with a warning', () => {
    const settings = prepareAnthropicTools({ tool_choice: 'required' });
    expect(settings.tools).toBeUndefined();
    expect(settings.toolChoice).toBeUndefined();
    expect(settings.warnings).toEqual([expect.objectContaining({ setting: 'tool_choice' })]);
  });

  it('drops non-function tools with a warning', () => {
    const settings = prepareAnthropicTools({ tools: [{ type: 'custom', custom: { name: 'grammar' } } as unknown as ChatTool, weather] });
    expect(settings.tools?.map((tool) => tool.name)).toEqual(['get_weather']);
    expect(settings.warnings).toEqual([expect.objectContaining({ type: 'unsupported-setting', setting: 'tools' })]);
  });
});
