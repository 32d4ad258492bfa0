import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type } from "@bufbuild/protobuf/wkt";
import { compileDescriptorSet } from "./codegen/descriptor-set.js";
import { resolveField } from "./codegen/field-lookup.js";
import { codegenPaths, protocUnavailable } from "./codegen/generate.js";
import { undocumentedElements } from "./codegen/undocumented.js";

const paths = codegenPaths();
const skip = protocUnavailable(paths);

/**
 * Every configurable number of ../shared/method.md and where a job sets it. A scalar must be
 * proto3 `optional` (unset → default) and its comment must state the default.
 */
const PARAMETERS: Array<[parameter: string, root: string, path: string]> = [
  ["crop size S (§2)", "GeneratorTrainingConfig", "crop.crop_size"],
  ["patch size (§2)", "GeneratorTrainingConfig", "vit.patch_size"],
  ["inference margin (§2)", "GeneratorTrainingConfig", "crop.inference_margin"],
  ["training margin range low (§2)", "GeneratorTrainingConfig", "crop.training_margin_min"],
  ["training margin range high (§2)", "GeneratorTrainingConfig", "crop.training_margin_max"],
  ["training margin gates (§2)", "GeneratorTrainingConfig", "crop.training_margin_gates"],
  ["outside fill, mirror or wrap (§2)", "GeneratorTrainingConfig", "crop.fill"],
  ["flip (§4)", "GeneratorTrainingConfig", "crop.flip_probability"],
  ["attention layer (§3.1)", "GeneratorTrainingConfig", "similarity.attention_layer"],
  ["Sinkhorn iterations (§3.2)", "GeneratorTrainingConfig", "similarity.sinkhorn.max_iterations"],
  ["Sinkhorn tolerance (§3.2)", "GeneratorTrainingConfig", "similarity.sinkhorn.tolerance"],
  ["Sinkhorn clamp (§3.2)", "GeneratorTrainingConfig", "similarity.sinkhorn.clamp_min"],
  ["δ inward seed shift (§3.3)", "GeneratorTrainingConfig", "retrieval.seed_shift_patches"],
  ["α random-walk steps (§3.3)", "GeneratorTrainingConfig", "retrieval.alpha"],
  ["τ_FG (§3.3)", "GeneratorTrainingConfig", "retrieval.tau_fg"],
  ["τ_BG (§3.3)", "GeneratorTrainingConfig", "retrieval.tau_bg"],
  ["N² scaling of scores (§3.3)", "GeneratorTrainingConfig", "retrieval.score_scale"],
  ["point dropout FG (§3.4)", "GeneratorTrainingConfig", "point_dropout.foreground"],
  ["point dropout BG (§3.4)", "GeneratorTrainingConfig", "point_dropout.background"],
  ["mask resolution R (§3.5)", "GeneratorTrainingConfig", "decoder.mask_resolution"],
  ["λ_point (§3.6)", "GeneratorTrainingConfig", "loss.lambda_point"],
  ["λ_mil (§3.6)", "GeneratorTrainingConfig", "loss.lambda_mil"],
  ["λ_crf (§3.6)", "GeneratorTrainingConfig", "loss.lambda_crf"],
  ["λ_crf warm-up steps (§3.6)", "GeneratorTrainingConfig", "loss.lambda_crf_warmup_steps"],
  ["Dice ε (§3.1)", "GeneratorTrainingConfig", "loss.dice_epsilon"],
  ["EMA momentum (§3.6)", "GeneratorTrainingConfig", "ema_momentum"],
  ["CRF ζ (§3.6)", "GeneratorTrainingConfig", "crf.zeta"],
  ["CRF iterations (§3.6)", "GeneratorTrainingConfig", "crf.iterations"],
  ["CRF clamp low (§3.6)", "GeneratorTrainingConfig", "crf.clamp_min"],
  ["CRF clamp high (§3.6)", "GeneratorTrainingConfig", "crf.clamp_max"],
  ["CRF kernel size (§3.6)", "GeneratorTrainingConfig", "crf.kernel_size"],
  ["CRF binarise threshold (§3.6)", "GeneratorTrainingConfig", "crf.binarize_threshold"],
  ["AdamW lr (§3.6)", "GeneratorTrainingConfig", "optimizer.lr"],
  ["AdamW β₁ (§3.6)", "GeneratorTrainingConfig", "optimizer.beta1"],
  ["AdamW β₂ (§3.6)", "GeneratorTrainingConfig", "optimizer.beta2"],
  ["AdamW weight decay (§3.6)", "GeneratorTrainingConfig", "optimizer.weight_decay"],
  ["AdamW ε (§3.6)", "GeneratorTrainingConfig", "optimizer.eps"],
  ["warm-up epochs (§3.6)", "GeneratorTrainingConfig", "schedule.warmup_epochs"],
  ["cosine floor fraction (§3.6)", "GeneratorTrainingConfig", "schedule.cosine_floor_fraction"],
  ["epochs (§3.6)", "GeneratorTrainingConfig", "schedule.epochs"],
  ["batch size", "GeneratorTrainingConfig", "schedule.batch_size"],
  ["jitter probability (§4)", "GeneratorTrainingConfig", "augmentation.jitter_probability"],
  ["grayscale probability (§4)", "GeneratorTrainingConfig", "augmentation.grayscale_probability"],
  ["blur probability (§4)", "GeneratorTrainingConfig", "augmentation.blur_probability"],
  ["seed", "GeneratorTrainingConfig", "execution.seed"],
  ["execution provider", "GeneratorTrainingConfig", "execution.provider"],
  ["extractor Dice ε (§3.1)", "ExtractorTrainingConfig", "loss.dice_epsilon"],
  ["extractor epochs (§3.1)", "ExtractorTrainingConfig", "schedule.epochs"],
  ["extractor attention layer (§3.1)", "ExtractorTrainingConfig", "similarity.attention_layer"],
  ["sweep α candidates (§3.3)", "RetrievalSweepConfig", "alphas"],
  ["export inference margin (§5)", "ExportConfig", "crop.inference_margin"],
  ["paste threshold (§5)", "ExportConfig", "paste_threshold"],
  ["export seed", "ExportConfig", "execution.seed"],
  ["shard count", "ExportJobSpec", "sharding.shard_count"],
  ["shard index", "ExportJobSpec", "sharding.shard_index"],
  ["Kubernetes Indexed Job", "ExportJobSpec", "sharding.kubernetes_indexed_job"],
  ["skip-invalid policy", "ExportJobSpec", "invalid_policy"],
  ["client paste threshold (§5)", "PredictConfig", "paste_threshold"],
];

describe("proto/ documents and carries the method", { skip }, () => {
  const set = skip ? undefined : compileDescriptorSet(paths);

  test("every message, field, enum value, service and RPC has a comment", () => {
    assert.deepEqual(undocumentedElements(set), []);
  });

  for (const [parameter, root, path] of PARAMETERS) {
    test(`${parameter}: ${root}.${path}`, () => {
      const resolved = resolveField(set!, `exits.v1.${root}`, path);
      assert.ok(resolved, `no field ${path} under exits.v1.${root}`);
      const { field, comment } = resolved;
      const scalar =
        field.type !== FieldDescriptorProto_Type.MESSAGE &&
        field.type !== FieldDescriptorProto_Type.ENUM &&
        field.type !== FieldDescriptorProto_Type.STRING;
      const repeated = field.label === FieldDescriptorProto_Label.REPEATED;
      if (scalar && !repeated) assert.ok(field.proto3Optional, `${path} must be proto3 optional (unset → default)`);
      if (scalar || field.type === FieldDescriptorProto_Type.ENUM) {
        assert.match(comment, /[Dd]efault/, `${path}: the comment must state the default`);
      }
    });
  }

  test("τ thresholds state the N² scaling convention", () => {
    for (const path of ["retrieval.tau_fg", "retrieval.tau_bg", "retrieval.score_scale"]) {
      const resolved = resolveField(set!, "exits.v1.GeneratorTrainingConfig", path);
      assert.ok(resolved);
      assert.match(resolved.comment, /N²|score_scale|scale/, path);
    }
    const scaled = resolveField(set!, "exits.v1.GeneratorTrainingConfig", "retrieval.tau_fg")!;
    assert.match(scaled.comment, /N²·\(π_f − π_b\)/);
  });
});
