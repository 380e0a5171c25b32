/**
 * The benchmark's upstream, in a process of its own (so that the load generator and the emulator do
 * not share an event loop): Zumik's OpenAI emulator on 127.0.0.1, zero latency, the default short
 * answer, streams with a fixed gap between events. Prints one JSON line when ready; exits on SIGTERM
 * or when its parent (the bench) goes away.
 *   env: BENCH_EMULATOR_KEY, BENCH_EVENT_INTERVAL_MS
 */
import { OpenAICompatibleEmulator } from '../test/emulators/openai-compatible-emulator';

async function main(): Promise<void> {
  const emulator = await new OpenAICompatibleEmulator({
    flavour: 'openai', apiKey: process.env.BENCH_EMULATOR_KEY ?? 'sk-perf-floor', latencyMs: 0,
    eventIntervalMs: Number(process.env.BENCH_EVENT_INTERVAL_MS ?? 10), models: ['gpt-4o-mini'],
  }).start(0);
  const parent = process.ppid;
  // The emulator logs every request it receives: drop the log so memory stays flat under load.
  const housekeeping = setInterval(() => {
    emulator.requests.length = 0;
    if (process.ppid !== parent) void emulator.close().finally(() => process.exit(0));
  }, 500);
  const stop = () => {
    clearInterval(housekeeping);
    void emulator.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  console.log(JSON.stringify({ ready: true, url: emulator.url, baseUrl: emulator.baseUrl }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
