/**
 * OpenAI `tools`, `tool_choice` and `parallel_tool_calls` → Anthropic `tools` (with `input_schema`) and
 * `tool_choice` (auto / none / required→any / function→tool, PROVIDERS.md §2.1).
 */
import type { ChatRequest, ProviderWarning } from '../../contract/chat';
import type { AnthropicTool, AnthropicToolChoice } from './anthropic-api';

export interface AnthropicToolSettings {
  tools?: AnthropicTool[];
  toolChoice?: AnthropicToolChoice;
  warnings: ProviderWarning[];
}

/** Schema sent for a function declared without parameters: Anthropic requires an object schema. */
const EMPTY_INPUT_SCHEMA = { type: 'object', properties: {} };

/**
 * Convert tool settings. `parallel_tool_calls: false` becomes `disable_parallel_tool_use`; a tool
 * choice without any tool is dropped (Anthropic rejects it), with a warning unless it was `none`/`auto`.
 */
export function prepareAnthropicTools(request: Pick<ChatRequest, 'tools' | 'tool_choice' | 'parallel_tool_calls'>): AnthropicToolSettings {
  const warnings: ProviderWarning[] = [];
  const tools: AnthropicTool[] = [];
  for (const tool of request.tools ?? []) {
    if (tool.type !== 'function' || !tool.function?.name) {
      warnings.push({ type: 'unsupported-setting', setting: 'tools', message: `A '${String(tool.type)}' tool is not supported by Anthropic and was dropped.` });
      continue;
    }
    tools.push({
      name: tool.function.name,
      ...(tool.function.description ? { description: tool.function.description } : {}),
      input_schema: tool.function.parameters ?? EMPTY_INPUT_SCHEMA,
      ...(tool.function.strict !== undefined ? { strict: tool.function.strict } : {}),
    });
  }
  const choice = request.tool_choice;
  if (tools.length === 0) {
    if (choice !== undefined && choice !== 'none' && choice !== 'auto') {
      warnings.push({ type: 'unsupported-setting', setting: 'tool_choice', message: 'tool_choice was dropped: the request declares no tool Anthropic can use.' });
    }
    return { warnings };
  }
  return { tools, toolChoice: convertToolChoice(request, warnings), warnings };
}

function convertToolChoice(request: Pick<ChatRequest, 'tool_choice' | 'parallel_tool_calls'>, warnings: ProviderWarning[]): AnthropicToolChoice | undefined {
  const parallel = request.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  const choice = request.tool_choice;
  if (choice === undefined) return request.parallel_tool_calls === false ? { type: 'auto', ...parallel } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...parallel };
  if (choice === 'required') return { type: 'any', ...parallel };
  if (typeof choice === 'object' && choice.type === 'function' && typeof choice.function?.name === 'string') {
    return { type: 'tool', name: choice.function.name, ...parallel };
  }
  warnings.push({ type: 'unsupported-setting', setting: 'tool_choice', message: 'This tool_choice form has no Anthropic equivalent; Anthropic chooses tools itself.' });
  return request.parallel_tool_calls === false ? { type: 'auto', ...parallel } : undefined;
}
