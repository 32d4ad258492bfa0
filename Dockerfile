# exits service image. Two targets:
#   docker build --target cpu  -t exits:cpu  .
#   docker build --target cuda -t exits:cuda .   (ONNX Runtime's CUDA provider, CUDA 12 + cuDNN 9)
# One image runs every service: the container command picks it (`exits serve mask`, ...).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs ./libs
COPY services ./services
COPY proto ./proto
COPY tools ./tools
# allowScripts in package.json keeps onnxruntime-node from downloading CUDA binaries here.
RUN npm ci --no-audit --no-fund && node tools/build.mjs && npm prune --omit=dev

FROM node:20-bookworm-slim AS cpu
WORKDIR /app
ENV NODE_ENV=production EXITS_DATA_DIR=/data EXITS_EXECUTION_PROVIDER=cpu
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data
USER node
ENTRYPOINT ["node", "libs/cli/dist/main.js"]
CMD ["serve", "mask"]

FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 AS cuda
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
  && curl -fsSL https://deb.nodesource.com/setup_20.x | bash - \
  && apt-get install -y --no-install-recommends nodejs && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production EXITS_DATA_DIR=/data EXITS_EXECUTION_PROVIDER=cuda
COPY --from=build /app /app
# The CUDA execution provider's libraries are not bundled in the npm package: fetch them now.
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js && mkdir -p /data
ENTRYPOINT ["node", "libs/cli/dist/main.js"]
CMD ["serve", "mask"]
