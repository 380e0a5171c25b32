/** `/v2/api-keys` (admin): create (the secret is in this response only), list, revoke. */
import { Router } from 'express';
import { z } from 'zod';
import { SCOPES, type ApiKeyRecord, type ApiKeyRepository } from '../../store/api-key-repository';
import { notFound } from '../errors';
import { requireScope, type ApiKeyAuthenticator } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';

const createKeySchema = z.strictObject({
  name: z.string().trim().min(1, 'name must not be empty').max(200).default('unnamed'),
  scopes: z.array(z.enum(SCOPES, { error: () => `scopes may contain only ${SCOPES.join(', ')}` })).min(1).default(['inference']),
  tenant: z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'tenant must be 1-64 letters, digits, . _ -').optional(),
});

function toApiKeyObject(record: ApiKeyRecord) {
  const seconds = (date: Date | null) => (date ? Math.floor(date.getTime() / 1000) : null);
  return {
    id: record.id, object: 'api_key', name: record.name, tenant: record.tenantId, scopes: record.scopes, prefix: record.prefix,
    created_at: seconds(record.createdAt), last_used_at: seconds(record.lastUsedAt), revoked_at: seconds(record.revokedAt),
  };
}

export function apiKeyRoutes(keys: ApiKeyRepository, authenticator: ApiKeyAuthenticator): Router {
  const router = Router();
  router.use('/api-keys', requireScope('admin'));

  router.post('/api-keys', async (request, response) => {
    const input = parseBody(createKeySchema, request.body);
    const { record, secret } = await keys.create({ tenantId: input.tenant ?? request.principal!.tenantId, name: input.name, scopes: input.scopes });
    response.status(201).json({ ...toApiKeyObject(record), key: secret });
  });

  router.get('/api-keys', async (request, response) => {
    const tenant = typeof request.query.tenant === 'string' ? request.query.tenant : undefined;
    response.json({ object: 'list', data: (await keys.list(tenant)).map(toApiKeyObject) });
  });

  router.delete('/api-keys/:id', async (request, response) => {
    const record = await keys.revoke(request.params.id);
    if (!record) throw notFound(`No API key with id '${request.params.id}'.`, 'id');
    authenticator.forget(record.id);
    response.json({ id: record.id, object: 'api_key', deleted: true });
  });

  return router;
}
