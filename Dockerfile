# entra-sync container: Node 24 LTS, built in one stage, run as a non-root user with state on /data.
# Build:  docker build -t entra-sync .
# Run:    docker run -v $PWD/entra-sync.yaml:/config/entra-sync.yaml:ro -v entra-sync-data:/data entra-sync sync
FROM node:24-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source where no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
COPY config ./config
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/config ./config
COPY package.json ./
RUN mkdir -p /data /config && chown node:node /data
USER node
VOLUME ["/data"]
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["sync", "--config", "/config/entra-sync.yaml"]
