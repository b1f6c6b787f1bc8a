# tollgate's image: `docker build -t tollgate .` (docker-compose.yml builds it).
# The same image runs the mock LLM backend: `node dist/src/mock-llm/main.js`.

# Build stage: dev dependencies, TypeScript, and the compilers that
# better-sqlite3 needs when no prebuilt binary matches the platform.
FROM node:20-slim AS build
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
# Only src/ is copied, so only the server (and the mock backend) is compiled.
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

# Runtime stage: the compiled code, production dependencies and the bundled
# config, owned by root and run as the unprivileged `node` user.
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config ./config
# The bundled config keeps its budget store in ../data (beside config/): a
# folder the unprivileged user can write; docker-compose.yml mounts a volume
# on it so that usage survives a new container.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
# gRPC (ext_proc, ext_authz, EDS, health) and the admin port.
EXPOSE 50051 9464
# Inside a container tollgate must listen beyond loopback for Envoy to reach
# it; the admin port is published to the host's loopback by docker-compose.yml.
# Node runs as PID 1 and handles SIGTERM itself (graceful drain).
CMD ["node", "dist/src/main.js", "--grpc-address", "0.0.0.0:50051", "--admin-address", "0.0.0.0:9464"]
