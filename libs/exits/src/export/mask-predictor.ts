import { type Logger } from "@exits/base";
import type { ObjectCrop } from "@exits/dataset";
import { input } from "@exits/graph";
import { type CompiledGraph, compileGraph, type HostTensor, type RuntimeConfig } from "@exits/runtime";
import { gridOf, type MethodConfig } from "../config/method-config.js";
import { writeNormalisedChw } from "../data/crop-tensors.js";
import { frozenWeights } from "../model/frozen-weights.js";
import { generatorForward } from "../model/generator-model.js";

/**
 * The generator's inference pass over a fixed batch of crops, weights baked in: crops →
 * probabilities [B, R, R]. A short batch is padded with its last crop and the padding dropped.
 */
export class MaskPredictor {
  private constructor(
    private readonly graph: CompiledGraph,
    readonly config: MethodConfig,
    readonly batch: number,
  ) {}

  static async create(
    c: MethodConfig,
    parameters: ReadonlyMap<string, HostTensor>,
    batch: number,
    options: { runtime?: Partial<RuntimeConfig>; logger?: Logger } = {},
  ): Promise<MaskPredictor> {
    const S = c.crop.size;
    const { mask } = generatorForward(input("images", [batch, 3, S, S]), c);
    const graph = await compileGraph(
      { mask },
      {
        config: options.runtime,
        logger: options.logger,
        name: "generator",
        lower: frozenWeights(parameters),
      },
    );
    return new MaskPredictor(graph, c, batch);
  }

  /** Probabilities per crop, R × R row-major in crop orientation. */
  async predict(crops: readonly ObjectCrop[]): Promise<Float32Array[]> {
    const S = this.config.crop.size;
    const { maskSize: R } = gridOf(this.config);
    const out: Float32Array[] = [];
    for (let start = 0; start < crops.length; start += this.batch) {
      const part = crops.slice(start, start + this.batch);
      const images = new Float32Array(this.batch * 3 * S * S);
      for (let k = 0; k < this.batch; k++)
        writeNormalisedChw(part[Math.min(k, part.length - 1)]!.image, images, k * 3 * S * S);
      const result = await this.graph.run({ images: { dtype: "float32", shape: [this.batch, 3, S, S], data: images } });
      const probs = result.mask!.data as Float32Array;
      for (let k = 0; k < part.length; k++) out.push(probs.slice(k * R * R, (k + 1) * R * R));
    }
    return out;
  }

  /** The execution provider the session actually runs on (CUDA may have fallen back to CPU). */
  get provider(): "cpu" | "cuda" {
    return this.graph.session.provider;
  }

  release(): Promise<void> {
    return this.graph.release();
  }
}
