# syntax=docker/dockerfile:1
# One image for every Hippo function. Each Knative Service picks its function with
# `command: [node, dist/functions/<name>/main.js]` (knative/services.yaml): plain Node on
# compiled JavaScript, no TypeScript loader, no install or download when a pod starts.
# Build: `docker build -t registry.example.com/hippo:0.1.0 .` (or Skaffold, skaffold.yaml).
ARG NODE_VERSION=20.20

# Dependencies with a toolchain: zstd-napi compiles its binding when no prebuilt one fits.
FROM node:${NODE_VERSION}-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The build: each function bundled into one ES module, dist/functions/<name>/main.js (scripts/build.mjs, esbuild).
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY scripts/build.mjs scripts/
COPY shared shared
COPY eventing eventing
COPY functions functions
RUN npm run build

# The image: slim Debian (glibc, as DuckDB's and zstd's binaries need), production modules
# only, files owned by root and run as an unprivileged numeric user (so Kubernetes'
# runAsNonRoot can verify it).
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
USER 1000:1000
EXPOSE 8080
CMD ["node", "dist/functions/runs/main.js"]
