/**
 * The batch benchmark's upstream, in a process of its own: Zumik's OpenAI emulator on 127.0.0.1 with
 * an optional fixed latency, plus `GET /__bench/stats` — how many chat completions it answered, the
 * most in flight at once, and how many times each batch line reached it (a line is recognised by the
 * `line-<n>` its prompt starts with), so the bench can tell duplicate upstream calls from duplicate
 * output lines. The emulator's request log is drained every 250 ms so memory stays flat.
 * Prints one JSON line when ready; exits on SIGTERM/SIGINT or when its parent goes away.
 *   env: BENCH_EMULATOR_KEY, BENCH_EMULATOR_LATENCY_MS (0), BENCH_BATCH_LINES (line count, for the per-line tally)
 */
import { sendJson } from '../../test/emulators/emulator-kit';
import { OpenAICompatibleEmulator } from '../../test/emulators/openai-compatible-emulator';

const LINE = /^line-(\d+)\b/;

async function main(): Promise<void> {
  const lines = Math.max(0, Number(process.env.BENCH_BATCH_LINES ?? 0) || 0);
  const emulator = new OpenAICompatibleEmulator({
    flavour: 'openai', apiKey: process.env.BENCH_EMULATOR_KEY ?? 'sk-bench-batch', latencyMs: Number(process.env.BENCH_EMULATOR_LATENCY_MS ?? 0) || 0,
    models: ['gpt-4o-mini'],
  });
  const callsPerLine = new Uint16Array(lines);
  let chatCompletions = 0;
  let otherRequests = 0;
  let unknownLines = 0;
  const drain = () => {
    for (const request of emulator.requests) {
      if (request.path.startsWith('/__bench/')) continue;
      if (!request.path.endsWith('/chat/completions')) { otherRequests += 1; continue; }
      chatCompletions += 1;
      const content = (request.body as { messages?: Array<{ content?: unknown }> } | undefined)?.messages?.[0]?.content;
      const match = typeof content === 'string' ? LINE.exec(content) : null;
      const index = match ? Number(match[1]) : -1;
      if (index >= 0 && index < lines) callsPerLine[index] = Math.min(65_535, callsPerLine[index]! + 1);
      else unknownLines += 1;
    }
    emulator.requests.length = 0;
  };
  emulator.route('GET', '/__bench/stats', ({ response }) => {
    drain();
    const histogram: Record<string, number> = {};
    for (const calls of callsPerLine) histogram[String(calls)] = (histogram[String(calls)] ?? 0) + 1;
    const duplicated: number[] = [];
    for (let index = 0; index < lines && duplicated.length < 20; index++) if (callsPerLine[index]! > 1) duplicated.push(index);
    sendJson(response, 200, {
      chatCompletions, otherRequests, unknownLines, maxInFlight: emulator.maxInFlight,
      callsPerLineHistogram: histogram, firstDuplicatedLines: duplicated,
    });
  });
  await emulator.start(0);
  const parent = process.ppid;
  const housekeeping = setInterval(() => {
    drain();
    if (process.ppid !== parent) void emulator.close().finally(() => process.exit(0));
  }, 250);
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
