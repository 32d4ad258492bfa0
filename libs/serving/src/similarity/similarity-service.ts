import type {
  ExtractSimilarityRequest,
  ExtractSimilarityResponse,
  GetModelInfoRequest,
  ModelInfo,
  ObjectSimilarity,
} from "@exits/contracts";
import { gridOf } from "@exits/exits";
import type { Counter } from "prom-client";
import { similarityConfigToWire } from "../config/similarity-config.js";
import type { ModelDescription, ModelLease } from "../models/model-registry.js";
import { modelInfo } from "./model-info.js";
import { type ModelSource, objectSimilarityToWire, outputsOf, type SimilarityEngine } from "./similarity-engine.js";

export interface ExtractorSource extends ModelSource {
  describe(field: string, model: string): Promise<ModelDescription>;
}

/**
 * SimilarityService's RPCs over a SimilarityEngine and the extractor registry (the NestJS
 * controller only adapts these to gRPC).
 */
export class SimilarityRpc {
  constructor(
    private readonly engine: SimilarityEngine,
    private readonly models: ExtractorSource,
    private readonly objects?: Counter<"outcome">,
  ) {}

  async extract(request: ExtractSimilarityRequest, signal?: AbortSignal): Promise<ExtractSimilarityResponse> {
    const results: ObjectSimilarity[] = [];
    const { model, similarity } = await this.withRun(request, true, signal, (r) => {
      results.push(r);
    });
    return { results, model, similarity };
  }

  /** Streams one ObjectSimilarity per object in request order, batch by batch. */
  async *extractStream(request: ExtractSimilarityRequest, signal?: AbortSignal): AsyncGenerator<ObjectSimilarity> {
    const lease = await this.models.acquire("model", request.model ?? "");
    try {
      const c = this.engine.configFor(lease, request);
      const outputs = outputsOf(request.output);
      const work = await this.engine.prepare(request, c);
      const { grid } = gridOf(c);
      for await (const entry of this.engine.run(lease, c, work, outputs, signal)) {
        this.objects?.inc({ outcome: entry.matrices ? "computed" : "skipped" });
        yield objectSimilarityToWire(entry, grid);
      }
    } finally {
      lease.release();
    }
  }

  private async withRun(
    request: ExtractSimilarityRequest,
    unary: boolean,
    signal: AbortSignal | undefined,
    onResult: (r: ObjectSimilarity) => void,
  ): Promise<{ model: string; similarity: ReturnType<typeof similarityConfigToWire> }> {
    const lease: ModelLease = await this.models.acquire("model", request.model ?? "");
    try {
      const c = this.engine.configFor(lease, request);
      const outputs = outputsOf(request.output);
      const work = await this.engine.prepare(request, c);
      if (unary) this.engine.checkReplySize(work, c, outputs);
      const { grid } = gridOf(c);
      for await (const entry of this.engine.run(lease, c, work, outputs, signal)) {
        this.objects?.inc({ outcome: entry.matrices ? "computed" : "skipped" });
        onResult(objectSimilarityToWire(entry, grid));
      }
      return { model: lease.clientPath, similarity: similarityConfigToWire(c) };
    } finally {
      lease.release();
    }
  }

  /**
   * ModelInfo of the extractor; when it is loaded, its default graph is compiled (and cached for
   * the first request) so `provider` is the one ONNX Runtime actually opened, not the one asked for.
   */
  async modelInfo(request: GetModelInfoRequest): Promise<ModelInfo> {
    const d = await this.models.describe("model", request.model ?? "");
    if (d.ready && !this.engine.provider) {
      const lease = await this.models.acquire("model", request.model ?? "");
      try {
        await this.engine.graph(lease, lease.config, 1, outputsOf(undefined));
      } finally {
        lease.release();
      }
    }
    return modelInfo({ ...d, provider: this.engine.provider });
  }
}
