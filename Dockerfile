# syntax=docker/dockerfile:1

# The conversions subgraph: compiled in a build stage, run from dist/ with production
# dependencies only, as the non-root `node` user. Migrations are applied by main at start.

# --- toolchain: what compiling better-sqlite3 from source needs when no prebuilt binary is reachable
FROM node:20-bookworm-slim AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp uses the headers shipped in the image instead of downloading them from nodejs.org.
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json ./

# --- build: all dependencies, then tsc -p tsconfig.build.json -> dist/src, dist/migrations, and
#     vite (web/vite.config.mts) -> dist/web/analytics, the page served at /analytics
FROM toolchain AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY web ./web
RUN npm run build

# --- prod-deps: production dependencies only, native modules compiled for this base image
FROM toolchain AS prod-deps
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- runtime: no toolchain, no dev dependencies; code owned by root, only data/ writable
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=4001
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Where the embedded SQLite file goes when DATABASE_URL is unset (SQLITE_PATH=./data/conversions.sqlite).
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 4001
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4001)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The command line of `npm start` (see "Memory" in the README): a heap limit under 2 GB makes V8
# grow the heap by at most about 1.8x the live data between full collections instead of 4x.
CMD ["node", "--max-old-space-size=1536", "dist/src/main.js"]
