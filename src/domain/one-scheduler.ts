/**
 * One scheduler per profile (issue 12, DESIGN.md §4 "Execution profiles"): a BYOC target that is a
 * Dynamo frontend (`byoc_dynamo`) or a Gateway API endpoint picker (`byoc_epp`) is one endpoint to
 * Zumik, whose own scheduler picks the replica. A release that would make Zumik a second routing layer
 * on top of it is refused at install. Pure: the route looks the endpoints up, this decides.
 */
import type { ReleaseTarget } from './model-alias';

/** The profiles whose endpoint runs its own replica scheduler. */
export const PICKER_PROFILES: ReadonlySet<string> = new Set(['byoc_dynamo', 'byoc_epp']);

/** What the check needs of a registered endpoint. */
export interface EndpointFacts {
  id: string;
  profile: string;
  baseUrl: string;
  /** `metadata.replica_of`: the endpoint is one replica behind that picker (registered for diagnostics, say). */
  replicaOf?: string;
}

/** A scheduler's identity: its URL without a trailing slash (two ids for one URL are one scheduler). */
const schedulerUrl = (baseUrl: string) => baseUrl.trim().replace(/\/+$/, '').toLowerCase();

/**
 * Why the release's endpoint targets would stack a second routing layer on a picker, as the field at
 * fault and a message, or undefined:
 * - a target whose profile is not the one its endpoint is registered with (a picker is not a plain
 *   endpoint, nor the other kind of picker);
 * - a target on an endpoint registered as a replica behind a picker (`metadata.replica_of`): Zumik
 *   sends to the picker, never to its replicas;
 * - one picker (one endpoint, or one URL under two ids) listed twice for the same model: a weighted
 *   split across replicas of a single scheduler is replica selection done twice.
 */
export function schedulerProblem(targets: readonly ReleaseTarget[], endpointOf: (provider: string) => EndpointFacts | undefined):
  { param: string; message: string } | undefined {
  const seen = new Map<string, number>();
  for (const [index, target] of targets.entries()) {
    const endpoint = endpointOf(target.provider);
    if (!endpoint) continue;
    const at = `targets[${index}]`;
    if (PICKER_PROFILES.has(endpoint.profile) || PICKER_PROFILES.has(target.execution_profile)) {
      if (endpoint.profile !== target.execution_profile) {
        return {
          param: `${at}.execution_profile`,
          message: `${at}.execution_profile: endpoint '${endpoint.id}' is registered as ${endpoint.profile}, not ${target.execution_profile}; a target uses its endpoint's profile.`,
        };
      }
    }
    if (endpoint.replicaOf !== undefined) {
      const picker = endpointOf(endpoint.replicaOf);
      return {
        param: `${at}.provider`,
        message: `${at}.provider: endpoint '${endpoint.id}' is a replica behind ${picker ? `the ${picker.profile} endpoint '${picker.id}'` : `'${endpoint.replicaOf}'`}; `
          + 'send to the picker as one target: its own scheduler picks the replica, Zumik never stacks a second routing layer on it.',
      };
    }
    if (!PICKER_PROFILES.has(endpoint.profile)) continue;
    const key = `${schedulerUrl(endpoint.baseUrl)}|${target.model}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      return {
        param: `${at}.provider`,
        message: `${at}.provider: targets[${earlier}] and ${at} reach the same ${endpoint.profile} scheduler (${schedulerUrl(endpoint.baseUrl)}) for model '${target.model}'; `
          + 'list it once: its own scheduler picks the replica, Zumik never splits traffic across it as a second routing layer.',
      };
    }
    seen.set(key, index);
  }
  return undefined;
}
