/**
 * `/v2/api-keys` (admin): create (the secret is in this response only), list, revoke. A tenant admin
 * manages its own tenant's keys (another tenant's key ids answer 404); the operator any tenant's, with
 * `tenant` in the body or `?tenant=`, and only the operator creates or revokes operator keys. A key may
 * carry allow-lists of aliases and providers, narrowing what its tenant's policy allows.
 */
import { Router } from 'express';
import { z } from 'zod';
import { allowedAliasesSchema, allowedProvidersSchema } from '../../domain/allow-list';
import { TENANT_ID_PATTERN } from '../../domain/tenant-policy';
import { SCOPES, type ApiKeyRecord, type ApiKeyRepository } from '../../store/api-key-repository';
import { HttpError, notFound } from '../errors';
import { isOperator, requireScope, type ApiKeyAuthenticator } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';
import { actingTenant } from '../middleware/tenant-scope';

export const createKeySchema = z.strictObject({
  name: z.string().trim().min(1, 'name must not be empty').max(200).default('unnamed'),
  scopes: z.array(z.enum(SCOPES, { error: () => `scopes may contain only ${SCOPES.join(', ')}` })).min(1).default(['inference']),
  tenant: z.string().trim().regex(TENANT_ID_PATTERN, 'tenant must be 1-64 letters, digits, . _ -').optional(),
  allowed_aliases: allowedAliasesSchema.nullish(),
  allowed_providers: allowedProvidersSchema.nullish(),
});

function toApiKeyObject(record: ApiKeyRecord) {
  const seconds = (date: Date | null) => (date ? Math.floor(date.getTime() / 1000) : null);
  return {
    id: record.id, object: 'api_key', name: record.name, tenant: record.tenantId, scopes: record.scopes, prefix: record.prefix,
    allowed_aliases: record.allowList.aliases, allowed_providers: record.allowList.providers,
    created_at: seconds(record.createdAt), last_used_at: seconds(record.lastUsedAt), revoked_at: seconds(record.revokedAt),
  };
}

const operatorOnly = (message: string, param: string) => new HttpError(403, message, 'insufficient_scope', param);

export function apiKeyRoutes(keys: ApiKeyRepository, authenticator: ApiKeyAuthenticator): Router {
  const router = Router();
  router.use('/api-keys', requireScope('admin'));

  router.post('/api-keys', async (request, response) => {
    const input = parseBody(createKeySchema, request.body);
    const operator = isOperator(request.principal);
    const tenantId = input.tenant ?? actingTenant(request);
    if (!operator && tenantId !== request.principal!.tenantId) throw operatorOnly('Only the operator key may create keys for another tenant.', 'tenant');
    if (!operator && input.scopes.includes('operator')) throw operatorOnly('Only the operator key may create operator keys.', 'scopes');
    const { record, secret } = await keys.create({
      tenantId, name: input.name, scopes: input.scopes,
      allowList: { aliases: input.allowed_aliases ?? null, providers: input.allowed_providers ?? null },
    });
    response.status(201).json({ ...toApiKeyObject(record), key: secret });
  });

  router.get('/api-keys', async (request, response) => {
    // The operator without `?tenant=` sees every tenant's keys; anyone else only its own tenant's.
    const everyTenant = isOperator(request.principal) && request.query.tenant === undefined;
    response.json({ object: 'list', data: (await keys.list(everyTenant ? undefined : actingTenant(request))).map(toApiKeyObject) });
  });

  router.delete('/api-keys/:id', async (request, response) => {
    const existing = await keys.findById(request.params.id);
    const operator = isOperator(request.principal);
    if (!existing || (!operator && existing.tenantId !== request.principal!.tenantId)) {
      throw notFound(`No API key with id '${request.params.id}'.`, 'id');
    }
    if (!operator && existing.scopes.includes('operator')) throw operatorOnly('Only the operator key may revoke an operator key.', 'id');
    const record = (await keys.revoke(existing.id))!;
    authenticator.forget(record.id);
    response.json({ id: record.id, object: 'api_key', deleted: true });
  });

  return router;
}
