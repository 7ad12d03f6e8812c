# One image for both containers of the stack: the monitor and the
# development container's proxy. Build the JavaScript on the host first
# (`npm ci && npm run build`); no step here needs a package manager, so the
# build also works offline from a local base image:
#   docker build --build-arg NODE_IMAGE=local/node:20 -t mount-core:dev .
ARG NODE_IMAGE=node:22-alpine
FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY package.json ./
COPY node_modules/yaml ./node_modules/yaml
COPY node_modules/undici ./node_modules/undici
COPY dist/lib ./dist/lib
COPY dist/servers ./dist/servers
CMD ["node", "dist/servers/monitor/main.js"]
