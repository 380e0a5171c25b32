import { AnthropicBatchAdapter } from '../../../src/providers/batch/anthropic-batch-adapter';
import { GeminiBatchAdapter } from '../../../src/providers/batch/gemini-batch-adapter';
import { OpenAIBatchAdapter } from '../../../src/providers/batch/openai-batch-adapter';
import { XaiBatchAdapter } from '../../../src/providers/batch/xai-batch-adapter';
import { ProviderDirectory, UnknownProviderError } from '../../../src/providers/provider-directory';
import { OpenAICompatibleEmulator } from '../../emulators/openai-compatible-emulator';
import { pollUntilDone } from './batch-test-helpers';

const API_KEY = 'sk-directory-batch-0001';

describe('ProviderDirectory', () => {
  describe('batchAdapter', () => {
    let emulator: OpenAICompatibleEmulator;
    let directory: ProviderDirectory;

    beforeAll(async () => {
      emulator = await new OpenAICompatibleEmulator({ flavour: 'openai', apiKey: API_KEY, batchClock: { processingMs: 0 } }).start();
      directory = new ProviderDirectory({
        providers: { openai: { baseUrl: emulator.baseUrl } },
        file: { providers: { anthropic: { regions: [{ region: 'eu', baseUrl: 'https://eu.anthropic.test' }] } }, byocEndpoints: {} },
      });
    });
    afterAll(async () => { await directory.close(); await emulator.close(); });

    it('has a batch adapter for OpenAI, Anthropic, Gemini and xAI only, built once per region', () => {
      expect(directory.batchAdapter('openai')).toBeInstanceOf(OpenAIBatchAdapter);
      expect(directory.batchAdapter('anthropic')).toBeInstanceOf(AnthropicBatchAdapter);
      expect(directory.batchAdapter('anthropic', 'eu')).toBeInstanceOf(AnthropicBatchAdapter);
      expect(directory.batchAdapter('anthropic', 'eu')).not.toBe(directory.batchAdapter('anthropic'));
      expect(directory.batchAdapter('gemini')).toBeInstanceOf(GeminiBatchAdapter);
      expect(directory.batchAdapter('openai')).toBe(directory.batchAdapter('openai'));
      expect(directory.batchAdapter('xai')).toBeInstanceOf(XaiBatchAdapter);
      // Fireworks' batch inference (datasets + batchInferenceJobs) is not driven yet; OpenRouter has none.
      for (const provider of ['fireworks', 'openrouter']) expect(directory.batchAdapter(provider)).toBeUndefined();
    });

    it('throws for an unknown provider or region, as `adapter` does', () => {
      expect(() => directory.batchAdapter('nope')).toThrow(UnknownProviderError);
      expect(() => directory.batchAdapter('openai', 'mars')).toThrow(UnknownProviderError);
    });

    it('reaches the configured base URL', async () => {
      const adapter = directory.batchAdapter('openai')!;
      const credential = { apiKey: API_KEY };

      const submission = await adapter.submit([{ customId: 'a', body: { messages: [{ role: 'user', content: 'hi' }] } }], { model: 'gpt-4.1-nano', credential });

      expect(await pollUntilDone(adapter, submission.id, { credential })).toMatchObject({ status: 'completed' });
    });
  });
});
