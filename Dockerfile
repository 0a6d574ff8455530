# langgraph-ts-server: the server image. Build it from this repository:
#   podman build --format docker -t langgraph-ts-server .      (or docker build -t langgraph-ts-server .)
# BASE_IMAGE is any Debian-like image with Node.js 20+ and npm (the default is the official one;
# `npm run test:image` builds a local one where no registry is reachable).
# The graphs served are the langgraph.json project in /project: the examples by default; mount
# yours there (-v ./my-agent:/project:ro) or build an image FROM this one that copies it in
# (README, "Deploy").
ARG BASE_IMAGE=node:20-bookworm-slim

# Production dependencies only, installed apart so the final image holds no npm cache or dev tools.
FROM ${BASE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${BASE_IMAGE}
ARG PROJECT=examples
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY generated ./generated
# The server's build (bin/server-build.js: src/ bundled, what bin/lgts.js runs), made here since
# the server's user cannot write /app.
RUN node bin/server-build.js
COPY ${PROJECT} /project
# A project copied or mounted without node_modules of its own resolves @langchain/langgraph and
# the other packages the server has from here (Node looks in /node_modules last).
# The data directory of the embedded store belongs to the unprivileged user the server runs as;
# a numeric user, so Kubernetes' runAsNonRoot can check it.
RUN ln -s /app/node_modules /node_modules \
  && mkdir -p /data \
  && chown 10001:10001 /data
USER 10001:10001
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=2024 \
    LGTS_CONFIG=/project/langgraph.json \
    LGTS_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 2024
# Liveness: the process answers. (Readiness for a load balancer: GET /ok?check_db=1.)
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/ok`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/lgts.js"]
CMD ["serve"]
