# syntax=docker/dockerfile:1
# Build: only production dependencies; Node.js 26 runs the TypeScript sources directly.
FROM node:26-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:26-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY controller ./controller
COPY providers ./providers
COPY crds ./crds
USER node
ENTRYPOINT ["node", "bin/virtkeeper.js"]
CMD ["run", "--leader-elect"]
