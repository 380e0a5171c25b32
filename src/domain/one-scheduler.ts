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

/**
 * Which rule a release breaks: a target under another profile than its endpoint's (`profile`), a target on a
 * picker's replica (`replica`), one scheduler listed twice for a model (`same_scheduler`); `param` is the field at fault.
 */
export interface SchedulerProblem {
  rule: 'profile' | 'replica' | 'same_scheduler';
  param: string;
  message: string;
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
  SchedulerProblem | undefined {
  const seen = new Map<string, number>();
  for (const [index, target] of targets.entries()) {
    const endpoint = endpointOf(target.provider);
    if (!endpoint) continue;
    const at = `targets[${index}]`;
    if (PICKER_PROFILES.has(endpoint.profile) || PICKER_PROFILES.has(target.execution_profile)) {
      if (endpoint.profile !== target.execution_profile) {
        return {
          rule: 'profile', param: `${at}.execution_profile`,
          message: `${at}.execution_profile: endpoint '${endpoint.id}' is registered as ${endpoint.profile}, not ${target.execution_profile}; a target uses its endpoint's profile.`,
        };
      }
    }
    if (endpoint.replicaOf !== undefined) {
      const picker = endpointOf(endpoint.replicaOf);
      return {
        rule: 'replica', param: `${at}.provider`,
        message: `${at}.provider: endpoint '${endpoint.id}' is a replica behind ${picker ? `the ${picker.profile} endpoint '${picker.id}'` : `'${endpoint.replicaOf}'`}; `
          + 'send to the picker as one target: its own scheduler picks the replica, Zumik never stacks a second routing layer on it.',
      };
    }
    if (!PICKER_PROFILES.has(endpoint.profile)) continue;
    const key = `${schedulerUrl(endpoint.baseUrl)}|${target.model}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      return {
        rule: 'same_scheduler', param: `${at}.provider`,
        message: `${at}.provider: targets[${earlier}] and ${at} reach the same ${endpoint.profile} scheduler (${schedulerUrl(endpoint.baseUrl)}) for model '${target.model}'; `
          + 'list it once: its own scheduler picks the replica, Zumik never splits traffic across it as a second routing layer.',
      };
    }
    seen.set(key, index);
  }
  return undefined;
}

/** A release as the endpoint-change check sees it. */
export interface ReleaseNamingEndpoint {
  id: string;
  alias: string;
  targets: readonly ReleaseTarget[];
}

/**
 * Re-registering an endpoint (issue 12): the releases already installed that name it are checked again with
 * the endpoint as it would become (`proposed`); the first that the change would make break a one-scheduler
 * rule is answered with its problem. A release that already broke a rule before the change (installed before
 * the rules existed) does not block it. `current` answers the endpoints as registered now (a deleted one: undefined).
 */
export function endpointChangeProblem(releases: readonly ReleaseNamingEndpoint[], current: (provider: string) => EndpointFacts | undefined,
  proposed: EndpointFacts): { release: ReleaseNamingEndpoint; problem: SchedulerProblem } | undefined {
  const after = (provider: string) => (provider === proposed.id ? proposed : current(provider));
  for (const release of releases) {
    const problem = schedulerProblem(release.targets, after);
    if (problem && !schedulerProblem(release.targets, current)) return { release, problem };
  }
  return undefined;
}
