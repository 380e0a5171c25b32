/**
 * Fidelity of the Gemini emulator's batch mode: the official `@google/genai` SDK creates an inline
 * batch job, reads it back (its Operation parsed into a BatchJob with state and inlined responses),
 * and cancels one.
 */
import { Agent, setGlobalDispatcher, type Dispatcher } from 'undici';
import { GeminiEmulator } from '../../emulators/gemini-emulator';

/** The SDK is an ES module; this CommonJS test loads it with a dynamic import. */
const loadGenAI = () => import('@google/genai');
type GenAI = Awaited<ReturnType<typeof loadGenAI>>;

const API_KEY = 'test-gemini-batch-fidelity-AIzaFAKE';
const MODEL = 'gemini-2.5-flash';

describe('GeminiEmulator batch mode', () => {
  let emulator: GeminiEmulator;
  let genai: GenAI;
  let client: InstanceType<GenAI['GoogleGenAI']>;
  let sdkDispatcher: Dispatcher;
  const src = (...keys: string[]) => keys.map((key) => ({ contents: [{ role: 'user', parts: [{ text: key }] }], metadata: { key } }));

  beforeAll(async () => {
    genai = await loadGenAI();
    // The SDK uses the undici global dispatcher of the global it runs in: install one in jest's sandbox.
    sdkDispatcher = new Agent();
    setGlobalDispatcher(sdkDispatcher);
    emulator = await new GeminiEmulator({ apiKey: API_KEY, batchClock: { processingMs: 30 } }).start();
    client = new genai.GoogleGenAI({ apiKey: API_KEY, httpOptions: { baseUrl: emulator.url } });
  });
  afterEach(() => { emulator.reset(); emulator.setReply({}); emulator.batches.reset(); emulator.batches.clock.processingMs = 30; });
  afterAll(async () => { await emulator.close(); await sdkDispatcher.close(); });

  it('creates an inline batch job and serves its inlined responses, which the SDK parses', async () => {
    emulator.setReply({ text: 'SDK batch.' });
    emulator.batches.failCustomIds.add('k2');

    const created = await client.batches.create({ model: MODEL, src: src('k1', 'k2'), config: { displayName: 'sdk-job' } });
    let job = await client.batches.get({ name: created.name! });
    for (let attempt = 0; attempt < 200 && job.state !== genai.JobState.JOB_STATE_SUCCEEDED; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      job = await client.batches.get({ name: created.name! });
    }

    expect(created).toMatchObject({ name: expect.stringMatching(/^batches\//), displayName: 'sdk-job', state: genai.JobState.JOB_STATE_PENDING, model: `models/${MODEL}` });
    expect(job.state).toBe(genai.JobState.JOB_STATE_SUCCEEDED);
    expect(job.endTime).toEqual(expect.any(String));
    const responses = job.dest?.inlinedResponses ?? [];
    expect(responses).toHaveLength(2);
    expect(responses[0]?.metadata).toEqual({ key: 'k1' });
    expect(responses[0]?.response?.candidates?.[0]?.content?.parts?.[0]?.text).toBe('SDK batch.');
    expect(responses[1]).toMatchObject({ metadata: { key: 'k2' }, error: { code: 13 } });
  });

  it('cancels a job the SDK then reads as cancelled', async () => {
    emulator.batches.clock.processingMs = 60_000;
    const created = await client.batches.create({ model: MODEL, src: src('only') });

    await client.batches.cancel({ name: created.name! });
    const job = await client.batches.get({ name: created.name! });

    expect(job.state).toBe(genai.JobState.JOB_STATE_CANCELLED);
  });
});
