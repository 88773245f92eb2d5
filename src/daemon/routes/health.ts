// GET /healthz (the process answers: a liveness probe) and GET /readyz (every target has synced recently,
// none is quarantined, the state lock is held: a readiness probe and an alert). Neither needs a token.
import type { Route } from './route.js';

export const healthRoutes: Route[] = [
  {
    method: 'GET',
    path: '/healthz',
    handle: () => ({ status: 200, body: { status: 'ok' } }),
  },
  {
    method: 'GET',
    path: '/readyz',
    handle: ({ api }) => {
      const readiness = api.readiness();
      return { status: readiness.ready ? 200 : 503, body: readiness };
    },
  },
];
