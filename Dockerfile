# entra-sync as a container: the `run` daemon (schedule, health, metrics, admin API) on Node 24 LTS.
#   docker build -t entra-sync .
#   docker run -d --name entra-sync \
#     -v $PWD/entra-sync.yaml:/config/entra-sync.yaml:ro -v entra-sync-data:/data \
#     -v $PWD/secrets:/run/secrets:ro -p 127.0.0.1:9400:9400 entra-sync
# docs/operations.md has compose, Kubernetes, the health check's needs and backups.
# .ci/run performs the build stage's steps on Node 24 and starts `run` from the pruned tree (no Docker there).

# ── build: compile TypeScript with the dev dependencies, then drop them ──────────────────────────────────
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Two SQLite drivers are installed (src/state/db.ts): better-sqlite3 12 for Node 20, and 13 (the alias
# better-sqlite3-napi, Node-API, prebuilt binaries inside the package) for Node 22+. On this Node 24 image only
# 13 is ever loaded, and 12's compile is the only install script in the dependency tree: skipping scripts
# spares a compiler toolchain and minutes of build. (Add a dependency with an install script, revisit this.)
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY config ./config
# bench/ is not copied, so only src/ is compiled (tsconfig.build.json includes both). The last line fails
# the build on a platform with no prebuilt driver binary, rather than the container at its first start.
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && node -e "const D = require('better-sqlite3-napi'); new D(':memory:').prepare('select 1').get()"

# ── runtime: production dependencies and the compiled code, nothing else ───────────────────────────────
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    ENTRA_SYNC_CONFIG=/config/entra-sync.yaml
WORKDIR /app
# package.json is needed at run time: it makes dist/ ES modules ("type": "module") and gives --version.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/config ./config
# /data holds the state files (entra-sync.db, entra-sync.source.db and the lock, entra-sync.lock.db). It is
# also the working directory, so the default `state.path: ./entra-sync.db` lands on the volume.
# `entra-sync` on PATH, for `docker exec <container> entra-sync status` and the like.
RUN mkdir -p /data /config && chown node:node /data \
 && chmod +x /app/dist/src/cli/main.js && ln -s /app/dist/src/cli/main.js /usr/local/bin/entra-sync
WORKDIR /data
VOLUME ["/data"]
USER node
# http.port's default. The listener is off unless the config has an `http:` section; in a container set
# `http.host: 0.0.0.0` to reach it from outside (the health check below runs inside and needs only `http:`).
EXPOSE 9400
# Slim images have no curl: Node's fetch does it. Without an `http:` section there is nothing to ask, so the
# container shows as unhealthy: configure `http:` or run with --no-healthcheck. ENTRA_SYNC_HEALTH_URL
# overrides the address (another port, say).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.ENTRA_SYNC_HEALTH_URL||'http://127.0.0.1:9400/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form, no shell: Node is PID 1 and receives SIGTERM itself. `run` installs its own SIGTERM/SIGINT
# handlers (PID 1 gets no default ones) and starts no child processes (the Graph read is a worker thread),
# so there are no zombies to reap and no init (tini) is needed. One-shot commands (`sync`, `status` …) run
# as PID 1 too: give them `docker run --init` if you want Ctrl-C to stop them.
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["run"]
