/**
 * `GET /v2/circuits` (admin): the circuit breakers of the deployment, as every process shares them
 * through Postgres — per `provider|region|model` (and, for a tenant's own key or endpoint, per tenant:
 * `tenant` says whose) that has seen a counted failure: its state (`closed`, `open`, `half_open`), outage
 * failures since the last success, the current (or latest) opening, the last failure, and the half-open
 * probes in flight against the allowed number. The operator sees every circuit; a tenant admin those of
 * the built-in providers' shared accounts and its own, never another tenant's.
 */
import { Router } from 'express';
import type { CircuitRecord } from '../../store/circuit-breaker-store';
import { PROVIDER_NAMES } from '../../config';
import { TENANT_CIRCUIT_PREFIX } from '../../domain/attempt-plan';
import { isOperator, requireScope } from '../middleware/authenticate';

export interface CircuitRouteDeps {
  list(): Promise<CircuitRecord[]>;
  settings: { maxProbes: number };
}

export function circuitRoutes(circuits: CircuitRouteDeps): Router {
  const router = Router();
  router.get('/circuits', requireScope('admin'), async (request, response) => {
    const principal = request.principal!;
    const visible = (circuit: ReturnType<typeof toCircuitObject>) => isOperator(principal)
      || (circuit.tenant === null ? (PROVIDER_NAMES as readonly string[]).includes(circuit.provider) : circuit.tenant === principal.tenantId);
    const records = (await circuits.list()).map((record) => toCircuitObject(record, circuits.settings.maxProbes)).filter(visible);
    response.json({ object: 'list', data: records });
  });
  return router;
}

function toCircuitObject(record: CircuitRecord, maxProbes: number) {
  // circuitKey() joins [tenant:<id>,] provider, region and model with `|`; a model id may itself contain one.
  const parts = record.key.split('|');
  const tenant = parts[0]!.startsWith(TENANT_CIRCUIT_PREFIX) ? parts.shift()!.slice(TENANT_CIRCUIT_PREFIX.length) : null;
  const [provider = '', region = '', ...model] = parts;
  const time = (date: Date | null) => (date ? date.toISOString() : null);
  return {
    object: 'circuit', key: record.key, tenant, provider, region, model: model.join('|'),
    state: record.state, failures: record.failures,
    opened_at: time(record.openedAt), open_until: time(record.openUntil),
    last_failure_at: time(record.lastFailureAt), last_failure_kind: record.lastFailureKind,
    probes_in_flight: record.probesInFlight, max_probes: maxProbes,
  };
}
