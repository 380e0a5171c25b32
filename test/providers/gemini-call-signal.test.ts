import { startCallSignal } from '../../src/providers/gemini/gemini-call-signal';
import { ProviderError } from '../../src/providers/provider-error';

describe('startCallSignal', () => {
  it('turns a deadline abort into a total timeout', async () => {
    const call = startCallSignal(undefined, 5);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(call.signal.aborted).toBe(true);
    expect(call.translate(new ProviderError('x', { kind: 'cancelled', provider: 'gemini' }))).toMatchObject({ kind: 'timeout', phase: 'total' });
    call.dispose();
  });

  it('leaves a caller abort as it is', () => {
    const controller = new AbortController();
    const call = startCallSignal(controller.signal, 10_000);
    controller.abort();
    const cancelled = new ProviderError('x', { kind: 'cancelled', provider: 'gemini' });
    expect(call.signal.aborted).toBe(true);
    expect(call.translate(cancelled)).toBe(cancelled);
    call.dispose();
  });
});
