// The audit minimum's only workflow (see server.mjs): the attempt as a local activity with its summary
// on the marker, a second local activity that writes the record, one upsert of four outcome attributes.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { proxyLocalActivities, upsertSearchAttributes } from '@temporalio/workflow';

const local = proxyLocalActivities({ startToCloseTimeout: '60s', retry: { maximumAttempts: 1 } });
const keyword = (name) => defineSearchAttributeKey(name, SearchAttributeType.KEYWORD);

export async function chat(input) {
  const attempt = await local.callUpstream.executeWithOptions(
    { startToCloseTimeout: '60s', retry: { maximumAttempts: 1 }, summary: `attempt 1: openai/${input.model} @default (primary)` }, [input]);
  await local.record({ id: input.id, tenant: input.tenant, alias: input.model, attempt });
  upsertSearchAttributes([
    { key: keyword('ZumikCompletion'), value: attempt.status < 400 ? 'completed' : 'failed' },
    { key: keyword('ZumikReasonCode'), value: attempt.status < 400 ? 'ok' : 'provider_error' },
    { key: keyword('ZumikProvider'), value: 'openai' },
    { key: defineSearchAttributeKey('ZumikFallbackUsed', SearchAttributeType.BOOL), value: false },
  ]);
  return { status: attempt.status };
}
