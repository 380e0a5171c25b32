/**
 * Bearer API-key authentication and scope checks (the scopes: src/store/api-key-repository.ts).
 * Lookups are cached per process so the hot path does one hash and no query; a revocation reaches
 * other processes at once over the `zumik_config` feed, and within the TTL (10 s) while the feed is down.
 */
import type { RequestHandler } from 'express';
import { hashApiKey } from '../../ids';
import type { ApiKeyRepository, KeyAllowList, Scope } from '../../store/api-key-repository';
import { forbidden, unauthorized } from '../errors';

export interface Principal {
  keyId: string;
  tenantId: string;
  scopes: Scope[];
  /** The key's own allow-lists (absent: none), checked with the tenant's before any workflow. */
  allowList?: KeyAllowList;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, { principal: Principal | undefined; expiresAt: number }>();

  constructor(private readonly keys: ApiKeyRepository, private readonly ttlMs = 10_000, private readonly maxEntries = 10_000) {}

  async authenticate(secret: string): Promise<Principal | undefined> {
    const keyHash = hashApiKey(secret);
    const cached = this.cache.get(keyHash);
    if (cached && cached.expiresAt > Date.now()) return cached.principal;
    const record = await this.keys.findLiveByHash(keyHash);
    const principal = record && { keyId: record.id, tenantId: record.tenantId, scopes: record.scopes, allowList: record.allowList };
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(keyHash, { principal, expiresAt: Date.now() + this.ttlMs });
    if (record) void this.keys.touch(record.id).catch(() => undefined);
    return principal;
  }

  /** Forget every cached key (the change feed was lost: anything may have changed). */
  forgetAll(): void {
    this.cache.clear();
  }

  /** Forget a revoked key at once in this process. */
  forget(keyId: string): void {
    for (const [hash, entry] of this.cache) if (entry.principal?.keyId === keyId) this.cache.delete(hash);
  }
}

export function authenticate(authenticator: ApiKeyAuthenticator): RequestHandler {
  return async (request, _response, next) => {
    const header = request.get('authorization');
    if (!header) {
      throw unauthorized("You didn't provide an API key. Provide it in the Authorization header as `Authorization: Bearer YOUR_KEY`.");
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized('The Authorization header must have the form `Bearer YOUR_KEY`.');
    const principal = await authenticator.authenticate(match[1]!);
    if (!principal) throw unauthorized('Incorrect API key provided. You can find and create API keys with an admin key at /v2/api-keys.');
    request.principal = principal;
    next();
  };
}

/** Each scope holds the ones after it: an operator may do what a tenant admin may, a tenant admin what an inference key may. */
const IMPLIED: Record<Scope, readonly Scope[]> = { operator: ['operator', 'admin', 'inference'], admin: ['admin', 'inference'], inference: ['inference'] };

export function hasScope(principal: Pick<Principal, 'scopes'> | undefined, scope: Scope): boolean {
  return (principal?.scopes ?? []).some((held) => IMPLIED[held]?.includes(scope));
}

export function isOperator(principal: Pick<Principal, 'scopes'> | undefined): boolean {
  return hasScope(principal, 'operator');
}

/** Require a scope (or one that holds it). */
export function requireScope(scope: Scope): RequestHandler {
  return (request, _response, next) => {
    if (!hasScope(request.principal, scope)) {
      throw forbidden(`This API key lacks the \`${scope}\` scope required for ${request.method} ${request.baseUrl}${request.path}.`);
    }
    next();
  };
}
