/**
 * `GET /v2/circuits` (admin): the circuit breakers of the deployment, as every process shares them
 * through Postgres — per `provider|region|model` that has seen a counted failure: its state
 * (`closed`, `open`, `half_open`), outage failures since the last success, the current (or latest)
 * opening, the last failure, and the half-open probes in flight against the allowed number. The
 * operator sees every circuit; a tenant admin those of the built-in providers (shared by every tenant),
 * never another tenant's BYOC endpoint ids or models.
 */
import { Router } from 'express';
import type { CircuitRecord } from '../../store/circuit-breaker-store';
import { PROVIDER_NAMES } from '../../config';
import { isOperator, requireScope } from '../middleware/authenticate';

export interface CircuitRouteDeps {
  list(): Promise<CircuitRecord[]>;
  settings: { maxProbes: number };
}

export function circuitRoutes(circuits: CircuitRouteDeps): Router {
  const router = Router();
  router.get('/circuits', requireScope('admin'), async (request, response) => {
    const builtIn = (record: CircuitRecord) => (PROVIDER_NAMES as readonly string[]).includes(record.key.split('|')[0]!);
    const records = (await circuits.list()).filter((record) => isOperator(request.principal) || builtIn(record));
    response.json({ object: 'list', data: records.map((record) => toCircuitObject(record, circuits.settings.maxProbes)) });
  });
  return router;
}

function toCircuitObject(record: CircuitRecord, maxProbes: number) {
  // circuitKey() joins provider, region and model with `|`; a model id may itself contain one.
  const [provider = '', region = '', ...model] = record.key.split('|');
  const time = (date: Date | null) => (date ? date.toISOString() : null);
  return {
    object: 'circuit', key: record.key, provider, region, model: model.join('|'),
    state: record.state, failures: record.failures,
    opened_at: time(record.openedAt), open_until: time(record.openUntil),
    last_failure_at: time(record.lastFailureAt), last_failure_kind: record.lastFailureKind,
    probes_in_flight: record.probesInFlight, max_probes: maxProbes,
  };
}
