# One image for both containers of the stack: the monitor and the
# development container's proxy. Build the JavaScript on the host first
# (`npm ci && npm run build`); no step here needs a package manager, so the
# build also works offline from a local base image:
#   docker build --build-arg NODE_IMAGE=local/node:20 -t mount-core:dev .
ARG NODE_IMAGE=node:22-alpine
FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
# A 1 MiB young generation (V8's default grows to 16 MiB per semi-space)
# keeps both servers' memory flat: over 1,000 applies RSS grew by 6 MiB
# with it against 32 MiB without, at the same speed (docs/benchmarks.md).
ENV NODE_OPTIONS=--max-semi-space-size=1
COPY package.json ./
COPY node_modules/yaml ./node_modules/yaml
COPY dist/lib ./dist/lib
COPY dist/servers ./dist/servers
CMD ["node", "dist/servers/monitor/main.js"]
