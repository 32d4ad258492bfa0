# syntax=docker/dockerfile:1
# exits service image: one image runs every service, the container command picks which one.
#   docker build --target cpu  -t exits:cpu  .    # ONNX Runtime CPU provider (any x86-64/arm64 node)
#   docker build --target cuda -t exits:cuda .    # + CUDA provider: CUDA 12 + cuDNN 9, linux/amd64 only
#   docker run --read-only --tmpfs /tmp -v exits-data:/data -p 50055:50055 exits:cpu serve mask
#
# Stages: manifests (package.json files only, for layer caching) → build (dev dependencies,
# SWC to dist/) and prod-deps (`npm ci --omit=dev`) → cuda-deps (prod-deps + ONNX Runtime's CUDA
# provider libraries). The final targets take node_modules from prod-deps/cuda-deps and only
# dist/ trees from build, so no dev dependency (SWC, TypeScript, Biome) reaches them.
#
# Scripts: npm ci runs with --ignore-scripts. package.json's "allowScripts" does the same for
# npm 11, but the node:20 images ship npm 10, which ignores that key; onnxruntime-node's
# postinstall would otherwise download the CUDA libraries into the CPU image. The cuda-deps stage
# runs that script on purpose.
#
# Runtime writes: only EXITS_DATA_DIR=/data (a volume; a PersistentVolumeClaim in a cluster) and
# /tmp (mount a tmpfs / emptyDir there). Nothing writes under /app: the services run the built
# JavaScript (no SWC cache), and the data directory default (./.exits-data) is overridden.

FROM node:20-bookworm-slim AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs ./libs
COPY services ./services
RUN find libs services -type f ! -name package.json -delete \
  && find libs services -depth -type d -empty -delete

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY --from=manifests /app/ ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY proto ./proto
COPY tools ./tools
COPY libs ./libs
COPY services ./services
# Gather just the compiled trees (libs/<pkg>/dist, services/<pkg>/dist) for the final stages.
RUN node tools/build.mjs \
  && mkdir -p /dist \
  && for d in libs/*/dist services/*/dist; do mkdir -p "/dist/$(dirname "$d")" && cp -R "$d" "/dist/$d"; done

FROM node:20-bookworm-slim AS prod-deps
WORKDIR /app
COPY --from=manifests /app/ ./
# onnxruntime-node ships CPU binaries for every OS (~220 MB for macOS and Windows): keep Linux only.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force \
  && rm -rf node_modules/onnxruntime-node/bin/napi-v6/darwin node_modules/onnxruntime-node/bin/napi-v6/win32

FROM prod-deps AS cuda-deps
# Downloads libonnxruntime_providers_{cuda,shared,tensorrt}.so (NuGet Microsoft.ML.OnnxRuntime.Gpu.Linux,
# the same version as onnxruntime-node) beside the CPU binding: this is its postinstall script.
ENV ONNXRUNTIME_NODE_INSTALL=cuda12
RUN node node_modules/onnxruntime-node/script/install.js \
  && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so

FROM node:20-bookworm-slim AS node-runtime

FROM node:20-bookworm-slim AS cpu
WORKDIR /app
ENV NODE_ENV=production \
  HOME=/tmp \
  EXITS_DATA_DIR=/data \
  EXITS_EXECUTION_PROVIDER=cpu
COPY --from=prod-deps /app/ ./
COPY --from=build /dist/ ./
COPY proto ./proto
RUN mkdir -p /data && chown 10001:10001 /data
VOLUME ["/data"]
# gRPC ports 50051-50056 (similarity, retrieval, trainer, crf, mask, exporter), metrics at +1000.
EXPOSE 50051 50052 50053 50054 50055 50056 51051 51052 51053 51054 51055 51056
USER 10001:10001
# Probes: Kubernetes' native gRPC probes against grpc.health.v1 (see charts/exits); no HEALTHCHECK.
ENTRYPOINT ["node", "/app/libs/cli/dist/main.js"]
CMD ["serve", "mask"]

# ONNX Runtime 1.30.0 (package-lock.json): its CUDA 12 build needs CUDA 12.x and cuDNN 9.x; this
# runtime image carries cuBLAS, cuFFT, cuRAND, cuDNN 9 and the CUDA 12.8 runtime (driver >= 570,
# or >= 525.60.13 on data-centre GPUs through CUDA minor-version compatibility).
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 AS cuda
WORKDIR /app
COPY --from=node-runtime /usr/local/bin/node /usr/local/bin/node
ENV NODE_ENV=production \
  HOME=/tmp \
  EXITS_DATA_DIR=/data \
  EXITS_EXECUTION_PROVIDER=cuda
COPY --from=cuda-deps /app/ ./
COPY --from=build /dist/ ./
COPY proto ./proto
RUN mkdir -p /data && chown 10001:10001 /data
VOLUME ["/data"]
EXPOSE 50051 50052 50053 50054 50055 50056 51051 51052 51053 51054 51055 51056
USER 10001:10001
ENTRYPOINT ["node", "/app/libs/cli/dist/main.js"]
CMD ["serve", "mask"]
