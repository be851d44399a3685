# syntax=docker/dockerfile:1
# The image runs the same compiled JavaScript the npm package ships (dist/, built by
# tsconfig.build.json as `npm run build` does); no TypeScript source or compiler at run time.

# Compile: every dependency, install scripts off (the `node` devDependency would fetch a second
# Node.js; the image's own runs tsc).
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY controller ./controller
COPY providers ./providers
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json

# Production dependencies only, as `npm install virtkeeper` installs them.
FROM node:26-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# The package's layout (package.json "files"): bin picks dist/ since no source is here.
FROM node:26-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY --from=build /app/dist ./dist
COPY crds ./crds
COPY examples/quickstart ./examples/quickstart
USER node
ENTRYPOINT ["node", "bin/virtkeeper.js"]
CMD ["run", "--leader-elect"]
