/**
 * The activities' side of the claim check (src/domain/payload-ref.ts): a reference coming in is read
 * back here, so the workflow never holds the bytes; a large value going out is kept and referenced.
 */
import type { ChatRequest } from '../src/contract/chat';
import type { PayloadRef } from '../src/domain/payload-ref';
import type { PayloadStore } from '../src/store/payload-store';

export { overThreshold } from '../src/store/payload-store';

/** The store the activities keep and read large payloads in. */
export type PayloadRefs = Pick<PayloadStore, 'put' | 'get' | 'keepBody'>;

/**
 * A carrier (workflow input, attempt request, batch line) with its real body: read back when it went
 * by reference. The stub's own fields (model, stream, service tier: the workflow may have set them,
 * as a batch sets `stream: false`) win over the stored ones.
 */
export async function withFullBody<T extends { body: ChatRequest; bodyRef?: PayloadRef }>(payloads: PayloadRefs | undefined, tenantId: string,
  carrier: T): Promise<T> {
  if (!carrier.bodyRef) return carrier;
  if (!payloads) throw new Error('a body passed by reference needs the payload store in this worker');
  const { bodyRef, ...rest } = carrier;
  const stored = await payloads.get<ChatRequest>(tenantId, bodyRef);
  return { ...rest, body: { ...stored, ...carrier.body, messages: stored.messages } } as T;
}
