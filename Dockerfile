# Samsa as a container image (README "Container image"). Not built in the project's own environment (no
# Docker engine there): test/docker/dockerfile.test.ts checks its structure, that every file it copies
# exists and is not excluded by .dockerignore, and that its SAMSA_* variables name broker properties, and
# replays the runtime stage on the host (its RUN commands must be ones that test knows).
#
#   docker build -t samsa .
#   docker run -p 9092:9092 -p 8080:8080 -p 8081:8081 -v samsa-data:/data samsa
#   docker run -e SAMSA_ADVERTISED_LISTENERS=PLAINTEXT://broker.example:9092 ... samsa
#
# Two stages: the bundle needs esbuild and TypeScript sources (dev dependencies), the image only the
# bundle, the console's files and the runtime dependencies (the native CRC32C addon, loaded at run time).

FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would bundle before the sources are copied.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY scripts/ ./scripts/
COPY src/ ./src/
COPY protocol/ ./protocol/
COPY storage/ ./storage/
RUN node scripts/bundle.mjs

FROM node:20-slim AS runtime
ENV NODE_ENV=production
WORKDIR /opt/samsa
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin/ ./bin/
COPY console/ ./console/
COPY LICENSE README.md ./
COPY --from=build /src/dist/ ./dist/
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
# Broker properties from the environment (SAMSA_<PROPERTY>, src/config.ts envToProperties): listen on every
# interface inside the container; clients outside reach it at the advertised address, which a user sets
# to the host name and port they use (default: localhost:9092, for `-p 9092:9092` on the same machine).
ENV SAMSA_LISTENERS=PLAINTEXT://0.0.0.0:9092 \
    SAMSA_ADVERTISED_LISTENERS=PLAINTEXT://localhost:9092 \
    SAMSA_LOG_DIRS=/data \
    SAMSA_SAMSA_HTTP_LISTENERS=http://0.0.0.0:8080 \
    SAMSA_SCHEMA_REGISTRY_LISTENERS=http://0.0.0.0:8081
# Kafka, the web console with /metrics and /health, the schema registry.
EXPOSE 9092 8080 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
    CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The samsa command; `docker run samsa topic list -b host:9092` runs another subcommand.
ENTRYPOINT ["node", "/opt/samsa/bin/samsa.js"]
CMD ["start"]
