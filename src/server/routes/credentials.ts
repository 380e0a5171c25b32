/**
 * `/v2/credentials` (admin): a tenant's BYOK keys, write-only. A key goes in with PUT and is sealed
 * at once; no route ever returns it, lists show a hint (`…abcd`). A tenant admin manages its own
 * tenant's; the operator any tenant's with `?tenant=`.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { PROVIDER_NAMES, type ProviderName } from '../../config';
import type { CredentialRecord, CredentialRepository } from '../../store/credential-repository';
import { badRequest, notFound } from '../errors';
import { requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';
import { actingTenant } from '../middleware/tenant-scope';

/** A provider key as providers issue them: printable ASCII without spaces (it travels in a header). */
export const apiKeySchema = z.string({ error: (issue) => (issue.input === undefined ? 'api_key is required' : 'api_key must be a string') })
  .trim().min(1, 'api_key must not be empty').max(4096, 'api_key must be at most 4096 characters')
  .regex(/^[\x21-\x7e]+$/, 'api_key must be printable ASCII without spaces');

export const putCredentialSchema = z.strictObject({ api_key: apiKeySchema });

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

function toCredentialObject(record: CredentialRecord) {
  return {
    object: 'credential', provider: record.provider, tenant: record.tenantId, hint: record.hint,
    created_at: seconds(record.createdAt), updated_at: seconds(record.updatedAt),
  };
}

function providerParam(request: Request): ProviderName {
  const provider = String(request.params.provider);
  if (!(PROVIDER_NAMES as readonly string[]).includes(provider)) {
    throw badRequest(`provider must be one of ${PROVIDER_NAMES.join(', ')}`, 'provider');
  }
  return provider as ProviderName;
}

export function credentialRoutes(credentials: CredentialRepository): Router {
  const router = Router();
  const admin = requireScope('admin');

  router.get('/credentials', admin, async (request, response) => {
    response.json({ object: 'list', data: (await credentials.list(actingTenant(request))).map(toCredentialObject) });
  });

  router.get('/credentials/:provider', admin, async (request, response) => {
    const tenantId = actingTenant(request);
    const provider = providerParam(request);
    const record = await credentials.find(tenantId, provider);
    if (!record) throw notFound(`Tenant '${tenantId}' has no credential for ${provider}.`, 'provider');
    response.json(toCredentialObject(record));
  });

  router.put('/credentials/:provider', admin, async (request, response) => {
    const tenantId = actingTenant(request);
    const provider = providerParam(request);
    const input = parseBody(putCredentialSchema, request.body);
    response.json(toCredentialObject(await credentials.put({ tenantId, provider, apiKey: input.api_key })));
  });

  router.delete('/credentials/:provider', admin, async (request, response) => {
    const tenantId = actingTenant(request);
    const provider = providerParam(request);
    if (!(await credentials.delete(tenantId, provider))) throw notFound(`Tenant '${tenantId}' has no credential for ${provider}.`, 'provider');
    response.json({ object: 'credential', provider, tenant: tenantId, deleted: true });
  });

  return router;
}
