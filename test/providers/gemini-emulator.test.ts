/**
 * Fidelity of the Gemini emulator: Google's own SDK (@google/genai) must be able to talk to it and
 * parse what it answers, so the adapter tests exercise the wire format the real API speaks.
 */
import { Agent, setGlobalDispatcher, type Dispatcher } from 'undici';
import { DEFAULT_GEMINI_TEXT } from '../emulators/gemini-emulator-bodies';
import { GeminiEmulator } from '../emulators/gemini-emulator';

/** The SDK is an ES module; this CommonJS test loads it with a dynamic import. */
const loadGenAI = () => import('@google/genai');
type GenAI = Awaited<ReturnType<typeof loadGenAI>>;
type GenerateContentResponse = InstanceType<GenAI['GenerateContentResponse']>;
type ApiError = InstanceType<GenAI['ApiError']>;

const API_KEY = 'sdk-test-key';
const MODEL = 'gemini-3.5-flash';

let genai: GenAI;
let emulator: GeminiEmulator;
let sdkDispatcher: Dispatcher;
beforeAll(async () => {
  genai = await loadGenAI();
  // The SDK delegates to the undici global dispatcher it finds on globalThis, which Node creates lazily on
  // its own global, not on jest's sandbox global: install one in the sandbox for this file.
  sdkDispatcher = new Agent();
  setGlobalDispatcher(sdkDispatcher);
  emulator = await new GeminiEmulator({ apiKey: API_KEY }).start();
});
afterAll(async () => { await emulator.close(); await sdkDispatcher.close(); });
afterEach(() => { emulator.reset(); emulator.setReply({}); });

const client = (apiKey = API_KEY, baseUrl = emulator.url) => new genai.GoogleGenAI({ apiKey, httpOptions: { baseUrl } });

async function collect(stream: AsyncGenerator<GenerateContentResponse>): Promise<GenerateContentResponse[]> {
  const chunks: GenerateContentResponse[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('GeminiEmulator', () => {
  describe('with the @google/genai SDK', () => {
    it('answers models.generateContent with text, usage and model version the SDK parses', async () => {
      emulator.setReply({ usage: { promptTokenCount: 4200, cachedContentTokenCount: 4096, candidatesTokenCount: 6 } });
      const response = await client().models.generateContent({ model: MODEL, contents: 'Hello?', config: { systemInstruction: 'Be brief.', temperature: 0.1 } });
      expect(response.text).toBe(DEFAULT_GEMINI_TEXT);
      expect(response.candidates?.[0]?.finishReason).toBe('STOP');
      expect(response.usageMetadata).toMatchObject({ promptTokenCount: 4200, cachedContentTokenCount: 4096, candidatesTokenCount: 6 });
      expect(response.modelVersion).toBe(MODEL);
      const [request] = emulator.requests;
      expect(request).toMatchObject({ path: `/v1beta/models/${MODEL}:generateContent` });
      expect(request!.headers['x-goog-api-key']).toBe(API_KEY);
    });

    it('streams models.generateContentStream with a function call the SDK parses', async () => {
      emulator.setReply({ functionCalls: [{ name: 'get_weather', args: { city: 'Paris' } }] });
      const chunks = await collect(await client().models.generateContentStream({
        model: MODEL, contents: 'Weather in Paris?',
        config: { tools: [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } } } }] }] },
      }));
      expect(chunks.flatMap((chunk) => chunk.functionCalls ?? [])).toEqual([{ name: 'get_weather', args: { city: 'Paris' } }]);
      expect(chunks.at(-1)?.candidates?.[0]?.finishReason).toBe('STOP');
      expect(emulator.requests[0]!.query.get('alt')).toBe('sse');
    });

    it('streams text in several chunks with LF framing too', async () => {
      const lf = await new GeminiEmulator({ apiKey: API_KEY, lineEnding: '\n' }).start();
      try {
        const chunks = await collect(await client(API_KEY, lf.url).models.generateContentStream({ model: MODEL, contents: 'Hello?' }));
        expect(chunks.length).toBeGreaterThan(2);
        expect(chunks.map((chunk) => chunk.text ?? '').join('')).toBe(DEFAULT_GEMINI_TEXT);
      } finally {
        await lf.close();
      }
    });

    it('gives the SDK Google\'s 400 for a wrong key', async () => {
      const error = await client('wrong-key').models.generateContent({ model: MODEL, contents: 'Hello?' }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(genai.ApiError);
      expect((error as ApiError).status).toBe(400);
      expect((error as ApiError).message).toContain('API_KEY_INVALID');
    });

    it('gives the SDK a 429 RESOURCE_EXHAUSTED with RetryInfo on a status fault', async () => {
      emulator.inject({ kind: 'status', status: 429, retryAfterSeconds: 27 });
      const error = await client().models.generateContentStream({ model: MODEL, contents: 'Hello?' }).catch((caught: unknown) => caught);
      expect((error as ApiError).status).toBe(429);
      expect((error as ApiError).message).toContain('"retryDelay":"27s"');
    });

    it('lists models with GET /v1beta/models', async () => {
      const pager = await client().models.list();
      expect(pager.page.map((model) => model.name)).toContain(`models/${MODEL}`);
    });
  });
});
