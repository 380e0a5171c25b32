/**
 * `npm run emulators`: every provider emulator on fixed local ports, so a user can try Zumik with no
 * provider keys. Prints the environment that points Zumik at them. Ctrl-C stops them.
 */
import { AnthropicEmulator } from './anthropic-emulator';
import type { EmulatorServer } from './emulator-kit';
import { GeminiEmulator } from './gemini-emulator';
import { OpenAICompatibleEmulator } from './openai-compatible-emulator';

const BASE_PORT = Number(process.env.EMULATOR_BASE_PORT ?? 9100);
const KEY = process.env.EMULATOR_API_KEY ?? 'sk-emulator';

async function main(): Promise<void> {
  const emulators: Array<{ name: string; server: EmulatorServer; baseUrl: () => string }> = [];
  const add = async (name: string, server: EmulatorServer, port: number, baseUrl: (url: string) => string) => {
    await server.start(port);
    emulators.push({ name, server, baseUrl: () => baseUrl(server.url) });
  };
  await add('OPENAI', new OpenAICompatibleEmulator({ flavour: 'openai', apiKey: KEY, eventIntervalMs: 20 }), BASE_PORT, (url) => `${url}/v1`);
  await add('ANTHROPIC', new AnthropicEmulator({ apiKey: KEY, eventIntervalMs: 20 }), BASE_PORT + 1, (url) => url);
  await add('GEMINI', new GeminiEmulator({ apiKey: KEY, eventIntervalMs: 20 }), BASE_PORT + 2, (url) => url);
  await add('XAI', new OpenAICompatibleEmulator({ flavour: 'xai', apiKey: KEY, eventIntervalMs: 20 }), BASE_PORT + 3, (url) => `${url}/v1`);
  await add('FIREWORKS', new OpenAICompatibleEmulator({ flavour: 'fireworks', apiKey: KEY, eventIntervalMs: 20 }), BASE_PORT + 4, (url) => `${url}/inference/v1`);
  await add('OPENROUTER', new OpenAICompatibleEmulator({ flavour: 'openrouter', apiKey: KEY, eventIntervalMs: 20 }), BASE_PORT + 5, (url) => `${url}/api/v1`);

  console.log('Provider emulators are running. Start Zumik against them with:\n');
  for (const { name, baseUrl } of emulators) console.log(`  export ${name}_API_KEY=${KEY} ${name}_BASE_URL=${baseUrl()}`);
  console.log('\nCtrl-C stops them.');
  const stop = () => {
    void Promise.all(emulators.map(({ server }) => server.close())).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
