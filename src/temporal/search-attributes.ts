/**
 * Zumik's typed search attributes: how an operator finds any request in the Temporal UI. Budgeted
 * against SQL visibility's slots (10 Keyword, 3 each of Int/Bool/KeywordList/…; TEMPORAL.md §3.1).
 * Values are plaintext in the visibility store: never secrets or prompt text.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';

export const SearchAttributes = {
  tenant: defineSearchAttributeKey('ZumikTenant', SearchAttributeType.KEYWORD),
  alias: defineSearchAttributeKey('ZumikAlias', SearchAttributeType.KEYWORD),
  release: defineSearchAttributeKey('ZumikRelease', SearchAttributeType.KEYWORD),
  qosClass: defineSearchAttributeKey('ZumikQosClass', SearchAttributeType.KEYWORD),
  admission: defineSearchAttributeKey('ZumikAdmission', SearchAttributeType.KEYWORD),
  completion: defineSearchAttributeKey('ZumikCompletion', SearchAttributeType.KEYWORD),
  reasonCode: defineSearchAttributeKey('ZumikReasonCode', SearchAttributeType.KEYWORD),
  provider: defineSearchAttributeKey('ZumikProvider', SearchAttributeType.KEYWORD),
  kind: defineSearchAttributeKey('ZumikKind', SearchAttributeType.KEYWORD),
  providersTried: defineSearchAttributeKey('ZumikProvidersTried', SearchAttributeType.KEYWORD_LIST),
  attempts: defineSearchAttributeKey('ZumikAttempts', SearchAttributeType.INT),
  fallbackUsed: defineSearchAttributeKey('ZumikFallbackUsed', SearchAttributeType.BOOL),
} as const;

const typeNames: Record<string, string> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.BOOL]: 'Bool',
};

/** `--search-attribute Name=Type` arguments for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  return Object.values(SearchAttributes).flatMap((key) => ['--search-attribute', `${key.name}=${typeNames[key.type]}`]);
}

/** Minimal view of the operator service, so this works with NativeConnection and Connection alike. */
interface OperatorService {
  listSearchAttributes(request: { namespace: string }): Promise<{ customAttributes?: Record<string, unknown> | null }>;
  addSearchAttributes(request: { namespace: string; searchAttributes: Record<string, number> }): Promise<unknown>;
}

/**
 * On an external cluster (TEMPORAL_ADDRESS set), register the attributes Zumik needs that are missing.
 * Idempotent; the dev server gets them on its command line instead.
 */
export async function registerSearchAttributes(operatorService: OperatorService, namespace: string): Promise<string[]> {
  const existing = (await operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  const missing = Object.values(SearchAttributes).filter((key) => !(key.name in existing));
  if (missing.length === 0) return [];
  await operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!])),
  });
  return missing.map((key) => key.name);
}
