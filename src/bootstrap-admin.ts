/**
 * The bootstrap admin key, the deployment's operator (scope `operator`: every tenant, shared aliases,
 * tenant-admin keys): ZUMIK_ADMIN_KEY is created on first start and kept; without it, an operator key
 * is generated the first time Zumik starts with none, and printed once (only its hash is kept).
 */
import type { Logger } from 'pino';
import { hashApiKey } from './ids';
import { DEFAULT_TENANT, type ApiKeyRepository } from './store/api-key-repository';

export async function bootstrapAdminKey(keys: ApiKeyRepository, adminKey: string | undefined, logger: Logger,
  print: (text: string) => void = (text) => process.stdout.write(text)): Promise<void> {
  await keys.ensureTenant(DEFAULT_TENANT);
  if (adminKey) {
    if (await keys.findLiveByHash(hashApiKey(adminKey))) return;
    try {
      await keys.create({ tenantId: DEFAULT_TENANT, name: 'bootstrap admin (ZUMIK_ADMIN_KEY)', scopes: ['operator'], secret: adminKey });
      logger.info('bootstrap admin key from ZUMIK_ADMIN_KEY installed');
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error;
      logger.error('ZUMIK_ADMIN_KEY names a key that was revoked: it stays revoked; set a new ZUMIK_ADMIN_KEY');
    }
    return;
  }
  if (await keys.hasLiveOperatorKey()) return;
  const { record, secret } = await keys.create({ tenantId: DEFAULT_TENANT, name: 'bootstrap admin (generated)', scopes: ['operator'] });
  logger.info({ keyId: record.id }, 'generated the bootstrap admin key');
  print([
    '',
    '  Zumik generated the operator API key. It is shown this once; only its hash is stored:',
    '',
    `      ${secret}`,
    '',
    '  Use it as `Authorization: Bearer <key>`; create tenant admin and inference keys with POST /v2/api-keys.',
    '',
    '',
  ].join('\n'));
}
