/**
 * `GET /v2/requests/{id}`: a request's full outcome (attempts, usage, cost, the Temporal UI link) from
 * Postgres once recorded; while it still runs, its live state from the workflow. Tenant-scoped: a
 * tenant never sees another's requests (their ids answer 404); the operator reaches them with `?tenant=`.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Router } from 'express';
import type { RequestRepository } from '../../store/request-repository';
import { workflowIdFor } from '../chat-gateway';
import { notFound } from '../errors';
import { actingTenant } from '../middleware/tenant-scope';

export function requestRoutes(deps: { requests: RequestRepository; client: Client }): Router {
  const router = Router();
  router.get('/requests/:id', async (request, response) => {
    const tenantId = actingTenant(request);
    const id = String(request.params.id);
    const stored = await deps.requests.find(tenantId, id);
    if (stored) {
      response.json({ ...stored.outcome, ...(stored.response ? { response: stored.response } : {}) });
      return;
    }
    const handle = deps.client.workflow.getHandle(workflowIdFor(tenantId, id));
    try {
      const description = await handle.describe();
      const running = description.status.name === 'RUNNING';
      const state = running ? await handle.query<string>('state').catch(() => 'running') : description.status.name.toLowerCase();
      // A closed workflow whose record is not (yet) in Postgres: say what Temporal says, never "in progress".
      response.json({
        id, object: 'request_outcome', tenant: tenantId, status: running ? 'in_progress' : state, state, completion: null,
        workflow: { id: description.workflowId, run_id: description.runId },
      });
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw notFound(`No request with id '${id}'.`, 'id');
      throw error;
    }
  });
  return router;
}
