import { Rng } from "@exits/graph";
import type { RgbImage } from "../image/rgb-image.js";
import { componentSizes, countComponents } from "../mask/connected-components.js";
import type { BinaryMask } from "../mask/mask-types.js";
import { popcount } from "../mask/rle-dense.js";
import { mixSeed } from "./mix-seed.js";
import { makeShape, rasterBar, rasterShape, SHAPE_FAMILIES, type Shape, type ShapeFamily } from "./shapes.js";
import { type Colour, distinctColour, makeTexture, TEXTURE_KINDS, type Texture } from "./textures.js";

/** Knobs of one synthetic scene; every field has a default (see `DEFAULT_SCENE_OPTIONS`). */
export interface SceneOptions {
  width: number;
  height: number;
  minObjects: number;
  maxObjects: number;
  /** Probability that an object gets an occluding bar on top that cuts it into ≥ 2 visible parts. */
  splitShare: number;
  /** Probability that an object is placed touching an earlier one (masks adjacent, not overlapping). */
  touchShare: number;
  /** Probability that an object is placed overlapping an earlier one (above or below it). */
  overlapShare: number;
  /** Object outer radius range as fractions of min(width, height). */
  minRadius: number;
  maxRadius: number;
  /** Objects whose visible mask is smaller are painted but not annotated. */
  minVisibleArea: number;
  /** Standard deviation of the per-pixel Gaussian noise added last (0–255 scale). */
  pixelNoise: number;
  families: readonly ShapeFamily[];
}

export const DEFAULT_SCENE_OPTIONS: SceneOptions = {
  width: 256,
  height: 256,
  minObjects: 2,
  maxObjects: 6,
  splitShare: 0.3,
  touchShare: 0.2,
  overlapShare: 0.25,
  minRadius: 0.08,
  maxRadius: 0.22,
  minVisibleArea: 40,
  pixelNoise: 4,
  families: SHAPE_FAMILIES,
};

export type PlacementMode = "free" | "touching" | "overlapping";

/** One annotated object of a scene. `mask` is the VISIBLE mask: what occluders leave of it. */
export interface SceneObject {
  family: ShapeFamily;
  mask: BinaryMask;
  /** Pixel count of the visible mask and of the whole shape before occlusion. */
  area: number;
  fullArea: number;
  /** Connected parts (8-connectivity) of the visible mask. */
  parts: number;
  /** An occluding bar was placed to split it and the visible mask does have ≥ 2 parts. */
  splitByOccluder: boolean;
  placement: PlacementMode;
}

export interface Scene {
  image: RgbImage;
  objects: SceneObject[];
}

interface Layer {
  kind: "object" | "bar";
  mask: BinaryMask;
  texture: Texture;
  family?: ShapeFamily;
  placement?: PlacementMode;
  cx: number;
  cy: number;
  radius: number;
  colour: Colour;
  /** For objects: whether a bar was placed to split it. */
  split?: boolean;
}

function overlaps(a: BinaryMask, b: BinaryMask): boolean {
  for (let i = 0; i < a.data.length; i++) if (a.data[i] && b.data[i]) return true;
  return false;
}

function minus(a: BinaryMask, b: BinaryMask): BinaryMask {
  const data = new Uint8Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = a.data[i] && !b.data[i] ? 1 : 0;
  return { width: a.width, height: a.height, data };
}

function objectTexture(rng: Rng, colour: Colour, scale: number): Texture {
  const jitter = (v: number) => Math.min(255, Math.max(0, v + rng.uniform(-45, 45)));
  const second: Colour = [jitter(colour[0]), jitter(colour[1]), jitter(colour[2])];
  return makeTexture(rng, rng.pick(TEXTURE_KINDS), colour, second, scale);
}

/**
 * Places one object: free, touching an earlier object (the nearest non-overlapping position along
 * a random direction, found by bisection on the distance) or overlapping one.
 */
function placeObject(rng: Rng, o: SceneOptions, shape: Shape, layers: Layer[]) {
  const { width: W, height: H } = o;
  const objects = layers.filter((l) => l.kind === "object");
  const angle = rng.uniform(0, 2 * Math.PI);
  const roll = rng.next();
  if (objects.length > 0 && roll < o.touchShare + o.overlapShare) {
    const anchor = rng.pick(objects);
    const dir = rng.uniform(0, 2 * Math.PI);
    const at = (d: number) => ({ cx: anchor.cx + d * Math.cos(dir), cy: anchor.cy + d * Math.sin(dir), angle });
    const far = anchor.radius + shape.radius + 2;
    if (roll < o.touchShare) {
      // Smallest distance at which the shapes do not overlap: then they touch (within a pixel).
      let lo = 0;
      let hi = far;
      for (let k = 0; k < 10; k++) {
        const mid = (lo + hi) / 2;
        if (overlaps(rasterShape(shape, at(mid), W, H), anchor.mask)) lo = mid;
        else hi = mid;
      }
      const p = at(hi);
      return { ...p, mask: rasterShape(shape, p, W, H), placement: "touching" as const, below: undefined };
    }
    const p = at(rng.uniform(0.35, 0.8) * (anchor.radius + shape.radius));
    const below = rng.chance(0.5) ? anchor : undefined;
    return { ...p, mask: rasterShape(shape, p, W, H), placement: "overlapping" as const, below };
  }
  const margin = shape.radius * 0.4;
  const p = { cx: rng.uniform(margin, W - margin), cy: rng.uniform(margin, H - margin), angle };
  return { ...p, mask: rasterShape(shape, p, W, H), placement: "free" as const, below: undefined };
}

/**
 * A bar on top of `target` that cuts it into two or more visible parts, each at least 3 % of the
 * object (so no one-pixel crumbs count as a split); undefined when no tried angle splits it.
 */
function splittingBar(rng: Rng, o: SceneOptions, target: Layer): BinaryMask | undefined {
  const full = popcount(target.mask);
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < target.mask.data.length; i++) {
    if (!target.mask.data[i]) continue;
    sx += i % o.width;
    sy += Math.floor(i / o.width);
  }
  const cx = sx / full + 0.5;
  const cy = sy / full + 0.5;
  for (let attempt = 0; attempt < 8; attempt++) {
    const halfWidth = Math.max(1.5, target.radius * rng.uniform(0.08, 0.2));
    const bar = rasterBar(cx, cy, rng.uniform(0, Math.PI), halfWidth, o.width, o.height);
    const sizes = componentSizes(minus(target.mask, bar)).sort((a, b) => b - a);
    if (sizes.length >= 2 && sizes[1]! >= Math.max(12, 0.03 * full)) return bar;
  }
  return undefined;
}

/** Generates one scene from a seed: deterministic, no global state. */
export function generateScene(seed: number, options: Partial<SceneOptions> = {}): Scene {
  const o: SceneOptions = { ...DEFAULT_SCENE_OPTIONS, ...options };
  const { width: W, height: H } = o;
  // Mixed first: any integer seed (above 2³² too) gives a well-spread generator state.
  const rng = new Rng(mixSeed(seed));
  const side = Math.min(W, H);

  const bgA: Colour = [rng.int(256), rng.int(256), rng.int(256)];
  const bgB = distinctColour(rng, [bgA], 60);
  const background = makeTexture(rng, rng.pick(TEXTURE_KINDS), bgA, bgB, rng.uniform(4, 24));

  const layers: Layer[] = [];
  const count = o.minObjects + rng.int(o.maxObjects - o.minObjects + 1);
  for (let k = 0; k < count; k++) {
    const family = rng.pick(o.families);
    const shape = makeShape(rng, family, rng.uniform(o.minRadius, o.maxRadius) * side);
    const placed = placeObject(rng, o, shape, layers);
    if (popcount(placed.mask) < o.minVisibleArea) continue;
    const colour = distinctColour(rng, [bgA, bgB, ...layers.map((l) => l.colour)]);
    const layer: Layer = {
      kind: "object",
      mask: placed.mask,
      texture: objectTexture(rng, colour, rng.uniform(3, 12)),
      family,
      placement: placed.placement,
      cx: placed.cx,
      cy: placed.cy,
      radius: shape.radius,
      colour,
    };
    const belowIndex = placed.below ? layers.indexOf(placed.below) : -1;
    if (belowIndex >= 0) layers.splice(belowIndex, 0, layer);
    else layers.push(layer);
    if (belowIndex < 0 && rng.chance(o.splitShare)) {
      const bar = splittingBar(rng, o, layer);
      if (bar) {
        layer.split = true;
        const barColour = distinctColour(rng, [colour, bgA, bgB]);
        const texture = makeTexture(rng, rng.pick(TEXTURE_KINDS), barColour, distinctColour(rng, [colour]), 6);
        layers.push({ kind: "bar", mask: bar, texture, cx: 0, cy: 0, radius: 0, colour: barColour });
      }
    }
  }

  // Visible masks: walk from the top layer down, removing what is already covered.
  const covered = new Uint8Array(W * H);
  const visible = new Map<Layer, BinaryMask>();
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    const data = new Uint8Array(W * H);
    for (let p = 0; p < data.length; p++) {
      if (layer.mask.data[p]) {
        if (!covered[p]) data[p] = 1;
        covered[p] = 1;
      }
    }
    visible.set(layer, { width: W, height: H, data });
  }

  // Paint bottom-up, then add sensor-like noise.
  const colours = new Float32Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) background(x, y, colours, (y * W + x) * 3);
  for (const layer of layers) {
    for (let p = 0; p < W * H; p++) {
      if (layer.mask.data[p]) layer.texture(p % W, Math.floor(p / W), colours, p * 3);
    }
  }
  const data = new Uint8Array(W * H * 3);
  for (let i = 0; i < data.length; i++) {
    data[i] = Math.min(255, Math.max(0, Math.round(colours[i]! + o.pixelNoise * rng.normal())));
  }

  const objects: SceneObject[] = [];
  for (const layer of layers) {
    if (layer.kind !== "object") continue;
    const mask = visible.get(layer)!;
    const a = popcount(mask);
    if (a < o.minVisibleArea) continue;
    const parts = countComponents(mask);
    objects.push({
      family: layer.family!,
      mask,
      area: a,
      fullArea: popcount(layer.mask),
      parts,
      splitByOccluder: Boolean(layer.split) && parts >= 2,
      placement: layer.placement!,
    });
  }
  return { image: { width: W, height: H, data }, objects };
}
