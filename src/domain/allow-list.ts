/**
 * Allow-lists of aliases and providers (issue 17): one in the tenant's policy (set by the operator),
 * one on each API key (set by whoever creates the key). A request must pass both: its alias must be
 * on every list that names aliases, and only release targets whose provider is on every list that
 * names providers are planned (the others are never called, not even as failover or through the
 * bridge). Checked before any workflow, in memory, from the cached policy and key. Pure.
 */
import { z } from 'zod';
import { ALIAS_PATTERN } from './model-alias';

/** `null` or absent: no restriction. An empty list allows nothing. */
export interface AllowList {
  aliases?: readonly string[] | null;
  providers?: readonly string[] | null;
}

/** A built-in provider name or a BYOC endpoint id (what a release target names as its `provider`). */
export const PROVIDER_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

const unique = (values: string[]) => [...new Set(values)];

export const allowedAliasesSchema = z.array(z.string().regex(ALIAS_PATTERN, 'each allowed alias must be a valid alias name'))
  .max(1000, 'at most 1000 allowed aliases').transform(unique);
export const allowedProvidersSchema = z.array(z.string().regex(PROVIDER_NAME_PATTERN, 'each allowed provider must be a provider name or a BYOC endpoint id'))
  .max(1000, 'at most 1000 allowed providers').transform(unique);

export function aliasAllowed(lists: ReadonlyArray<AllowList | undefined>, alias: string): boolean {
  return lists.every((list) => !list?.aliases || list.aliases.includes(alias));
}

export function providerAllowed(lists: ReadonlyArray<AllowList | undefined>, provider: string): boolean {
  return lists.every((list) => !list?.providers || list.providers.includes(provider));
}

/** True when some list restricts providers (only then does planning filter targets). */
export function restrictsProviders(lists: ReadonlyArray<AllowList | undefined>): boolean {
  return lists.some((list) => Boolean(list?.providers));
}
