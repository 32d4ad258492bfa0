import type { ExtremePoints as WirePoints } from "@exits/contracts";
import type { ExtremePoints } from "@exits/dataset";
import { ObjectInputError } from "./object-issue.js";

const NAMES = ["top", "left", "bottom", "right"] as const;

/** Smallest box side, in pixels, that still gives a crop with a meaningful patch grid. */
export const MIN_BOX_SIDE_PX = 3;

/**
 * The four extreme points of a request (`field` is their path, e.g.
 * "images[0].objects[2].extreme_points") as the method's [x, y] tuples, checked against the
 * contract (geometry.proto): all four present, finite, inside the image (pixel INDEX space, so
 * within [−0.5, width − 0.5]), consistent (top has the smallest y, ...), and spanning a box of
 * more than 2 px each way. Each failure names the point at fault.
 */
export function extremePointsFromWire(
  wire: WirePoints | undefined,
  field: string,
  image?: { width: number; height: number },
): ExtremePoints {
  if (!wire)
    throw new ObjectInputError("missing_extreme_points", field, "is missing; send top, left, bottom and right");
  const points = NAMES.map((name) => {
    const p = wire[name];
    if (!p)
      throw new ObjectInputError(
        "missing_extreme_points",
        `${field}.${name}`,
        "is missing; an object needs exactly four extreme points (top, left, bottom, right)",
      );
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y))
      throw new ObjectInputError(
        "points_not_finite",
        `${field}.${name}`,
        `is (${p.x}, ${p.y}); coordinates must be finite`,
      );
    return [p.x, p.y] as [number, number];
  }) as ExtremePoints;
  if (image) {
    points.forEach(([x, y], i) => {
      if (x < -0.5 || y < -0.5 || x > image.width - 0.5 || y > image.height - 0.5)
        throw new ObjectInputError(
          "points_outside_image",
          `${field}.${NAMES[i]}`,
          `(${x}, ${y}) lies outside the ${image.width}x${image.height} image (pixel index space)`,
        );
    });
  }
  const [top, left, bottom, right] = points;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const check = (ok: boolean, i: number, what: string) => {
    if (!ok) throw new ObjectInputError("inconsistent_extreme_points", `${field}.${NAMES[i]}`, what);
  };
  check(top[1] <= Math.min(...ys), 0, `y = ${top[1]} is not the smallest y of the four points`);
  check(left[0] <= Math.min(...xs), 1, `x = ${left[0]} is not the smallest x of the four points`);
  check(bottom[1] >= Math.max(...ys), 2, `y = ${bottom[1]} is not the largest y of the four points`);
  check(right[0] >= Math.max(...xs), 3, `x = ${right[0]} is not the largest x of the four points`);
  const width = right[0] + 1 - left[0];
  const height = bottom[1] + 1 - top[1];
  if (width < MIN_BOX_SIDE_PX || height < MIN_BOX_SIDE_PX)
    throw new ObjectInputError(
      "degenerate_box",
      field,
      `span a ${width}x${height} px box; each side must be at least ${MIN_BOX_SIDE_PX} px`,
    );
  return points;
}

/** The method's [x, y] extreme points as the wire message (the inverse of `extremePointsFromWire`). */
export function extremePointsToWire(points: ExtremePoints): WirePoints {
  const [top, left, bottom, right] = points.map(([x, y]) => ({ x, y }));
  return { top, left, bottom, right };
}
