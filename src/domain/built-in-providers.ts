/** The providers Zumik has adapters and managed-profile settings for (`<NAME>_API_KEY`, `<NAME>_BASE_URL`). */
export const BUILT_IN_PROVIDERS = ['openai', 'anthropic', 'gemini', 'xai', 'fireworks', 'openrouter'] as const;

export type BuiltInProvider = (typeof BUILT_IN_PROVIDERS)[number];

export function isBuiltInProvider(name: string): name is BuiltInProvider {
  return (BUILT_IN_PROVIDERS as readonly string[]).includes(name);
}
