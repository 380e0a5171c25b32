/**
 * Demo mode (`npm start -- --demo` or ZUMIK_DEMO=1): try Zumik with no provider key at all. The
 * provider emulators (the same servers the tests use, speaking each provider's wire format) start on
 * loopback ports, the managed providers point at them with a demo key, and an example alias
 * `demo.chat` (OpenAI's emulator, Anthropic's as its failover standby) is installed as a shared alias.
 * Nothing here is a real model: answers are canned, and /v1/models and the logs say so.
 */
import type { Config } from '../config';
import type { InstallReleaseInput } from '../domain/model-alias';
import { AnthropicEmulator } from './emulators/anthropic-emulator';
import type { EmulatorServer } from './emulators/emulator-kit';
import { GeminiEmulator } from './emulators/gemini-emulator';
import { OpenAICompatibleEmulator } from './emulators/openai-compatible-emulator';

/** The key the demo's emulators accept (not a secret: they run on loopback and answer canned text). */
export const DEMO_API_KEY = 'sk-zumik-demo';
export const DEMO_ALIAS = 'demo.chat';
/** `owned_by` of /v1/models entries in demo mode. */
export const DEMO_OWNER = 'zumik-demo';

export const DEMO_RELEASE: InstallReleaseInput = {
  targets: [
    { execution_profile: 'managed_provider', provider: 'openai', model: 'gpt-4o-mini', model_revision: 'demo', weight: 1 },
    { execution_profile: 'managed_provider', provider: 'anthropic', model: 'claude-haiku-4-5', model_revision: 'demo', weight: 0 },
  ],
} as InstallReleaseInput;

export interface DemoProviders {
  /** The managed providers, every one pointed at its loopback emulator with the demo key. */
  providers: Config['providers'];
  close(): Promise<void>;
}

/** Start every provider's emulator on a free loopback port. */
export async function startDemoProviders(): Promise<DemoProviders> {
  const options = { apiKey: DEMO_API_KEY, eventIntervalMs: 20 };
  const started: EmulatorServer[] = [];
  const start = async <T extends EmulatorServer>(server: T): Promise<T> => { started.push(await server.start()); return server; };
  try {
    const openai = await start(new OpenAICompatibleEmulator({ flavour: 'openai', ...options }));
    const xai = await start(new OpenAICompatibleEmulator({ flavour: 'xai', ...options }));
    const fireworks = await start(new OpenAICompatibleEmulator({ flavour: 'fireworks', ...options }));
    const openrouter = await start(new OpenAICompatibleEmulator({ flavour: 'openrouter', ...options }));
    const anthropic = await start(new AnthropicEmulator(options));
    const gemini = await start(new GeminiEmulator(options));
    const at = (baseUrl: string) => ({ apiKey: DEMO_API_KEY, baseUrl });
    return {
      providers: {
        openai: at(openai.baseUrl), xai: at(xai.baseUrl), fireworks: at(fireworks.baseUrl), openrouter: at(openrouter.baseUrl),
        anthropic: at(anthropic.url), gemini: at(gemini.url),
      },
      close: async () => { await Promise.all(started.map((server) => server.close())); },
    };
  } catch (error) {
    await Promise.all(started.map((server) => server.close().catch(() => undefined)));
    throw error;
  }
}
