import type { ExecutionProviderChoice } from "@exits/base";
import { DEFAULT_METHOD_CONFIG, type MethodConfig, resolveMethodConfig } from "@exits/exits";

/**
 * The proto's stated defaults (config.proto comments) as a MethodConfig. The library's own
 * defaults are tuned for the 2-core demo; a training job started over gRPC gets what the
 * contract promises (ViT-S at S = 512, MAL's schedule), and its resolved_spec says so.
 */
export const WIRE_TRAINING_DEFAULTS: MethodConfig = resolveMethodConfig(
  {
    crop: { size: 512, patch: 16, maskStride: 4, inferenceMargin: 0.3, trainMarginMax: 1.2 },
    model: { embedDim: 384, depth: 12, numHeads: 6, mlpRatio: 4, decoderChannels: 256 },
    extractor: {
      epochs: 3,
      batch: 16,
      lr: 1.5e-4,
      weightDecay: 5e-4,
      beta1: 0.9,
      beta2: 0.9,
      warmupEpochs: 1,
      minLrFactor: 0.2,
      attentionLayer: -1,
    },
    generator: {
      epochs: 10,
      batch: 16,
      lr: 1.5e-4,
      weightDecay: 5e-4,
      beta1: 0.9,
      beta2: 0.9,
      warmupEpochs: 1,
      minLrFactor: 0.2,
      lambdaPoint: 1,
      lambdaMil: 4,
      lambdaCrf: 0.5,
      crfWarmupSteps: 4000,
      emaMomentum: 0.996,
      supervision: "points",
      useCrf: true,
      usePointDropout: true,
      jitterP: 0.5,
      grayscaleP: 0.2,
      blurP: 0.5,
    },
    // RetrievalConfig's built-in values for an extractor without a recorded sweep.
    retrieval: {
      delta: 1,
      alpha: 4,
      mode: "fixed",
      tauFg: 1,
      tauBg: -1,
      sinkhornIterations: 50,
      sinkhornTolerance: 1e-4,
      dropout: 0.5,
    },
    crf: { iterations: 100, zeta: 0.1, low: 0.1, high: 0.9 },
    seed: 0,
  },
  DEFAULT_METHOD_CONFIG,
);

/** Log a progress event every this many optimiser steps (ScheduleConfig.log_every_steps). */
export const DEFAULT_LOG_EVERY_STEPS = 10;

/** What the library implements where the proto offers a choice (accepted when unset or equal). */
export const IMPLEMENTED = {
  trainingMarginMin: 0,
  trainingMarginGates: true,
  flipProbability: 0.5,
  dropPathRate: 0,
  sinkhornClampMin: 1e-12,
  diceEpsilon: 1e-3,
  adamEps: 1e-8,
  gradClipNorm: 0,
  jitterStrength: 0.4,
  jitterHue: 0,
  blurSigmaMin: 0.1,
  blurSigmaMax: 2,
  crfKernelSize: 3,
  crfBinarizeThreshold: 0.5,
} as const;

/** Where and how the graphs of one job run (ExecutionConfig, resolved). */
export interface JobExecution {
  provider: ExecutionProviderChoice;
  deviceId: number;
  intraOpThreads: number;
}
