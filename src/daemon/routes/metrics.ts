// GET /metrics: Prometheus text exposition from prom-client (the runtime's registry). No token: bind the
// listener to an address only the scraper reaches (http.host, 127.0.0.1 by default).
import type { Route } from './route.js';

export const metricsRoutes: Route[] = [
  {
    method: 'GET',
    path: '/metrics',
    handle: async ({ api }) => {
      const { contentType, body } = await api.metrics();
      return { status: 200, body, contentType };
    },
  },
];
