/**
 * OpenAI `tools` / `tool_choice` → Gemini `tools[].functionDeclarations` and
 * `toolConfig.functionCallingConfig` (PROVIDERS.md §3.1): `auto` → AUTO, `none` → NONE,
 * `required` → ANY, a named function → ANY restricted by `allowedFunctionNames`.
 */
import type { ChatRequest, ProviderWarning } from '../../contract/chat';
import { convertJsonSchemaToGeminiSchema, isEmptyObjectSchema } from './convert-json-schema-to-gemini-schema';
import type { GeminiFunctionDeclaration, GeminiGenerateContentRequest, GeminiToolConfig } from './gemini-request-types';

export interface ConvertedTools {
  tools?: GeminiGenerateContentRequest['tools'];
  toolConfig?: GeminiToolConfig;
  warnings: ProviderWarning[];
}

/** Convert tools and tool choice; tool choice without tools is meaningless to Gemini and is left out. */
export function convertToGeminiTools(request: Pick<ChatRequest, 'tools' | 'tool_choice' | 'parallel_tool_calls'>): ConvertedTools {
  const warnings: ProviderWarning[] = [];
  const declarations: GeminiFunctionDeclaration[] = [];
  (request.tools ?? []).forEach((tool, index) => {
    if (tool.type !== 'function') {
      warnings.push({ type: 'unsupported-setting', setting: `tools[${index}]`, message: `tool type "${String(tool.type)}" is not supported by Gemini and was dropped` });
      return;
    }
    const declaration: GeminiFunctionDeclaration = { name: tool.function.name };
    if (tool.function.description) declaration.description = tool.function.description;
    if (!isEmptyObjectSchema(tool.function.parameters)) {
      const { schema, dropped } = convertJsonSchemaToGeminiSchema(tool.function.parameters!);
      declaration.parameters = schema;
      if (dropped.length > 0) {
        warnings.push({ type: 'approximated-setting', setting: `tools[${index}].function.parameters`, message: `JSON Schema keywords Gemini cannot express were dropped: ${dropped.join(', ')}` });
      }
    }
    declarations.push(declaration);
  });
  if (request.parallel_tool_calls === false && declarations.length > 0) {
    warnings.push({ type: 'unsupported-setting', setting: 'parallel_tool_calls', message: 'Gemini cannot be told to avoid parallel function calls' });
  }
  if (declarations.length === 0) return { warnings };
  return { tools: [{ functionDeclarations: declarations }], ...convertToolChoice(request.tool_choice), warnings };
}

function convertToolChoice(toolChoice: ChatRequest['tool_choice']): { toolConfig?: GeminiToolConfig } {
  if (toolChoice === undefined) return {};
  if (toolChoice === 'auto') return { toolConfig: { functionCallingConfig: { mode: 'AUTO' } } };
  if (toolChoice === 'none') return { toolConfig: { functionCallingConfig: { mode: 'NONE' } } };
  if (toolChoice === 'required') return { toolConfig: { functionCallingConfig: { mode: 'ANY' } } };
  return { toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [toolChoice.function.name] } } };
}
