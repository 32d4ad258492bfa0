import {
  type BinaryMask,
  boxFromExtremePoints,
  drawMasks,
  drawPoints,
  type ExtremePoints,
  type Point,
  type RgbImage,
} from "@exits/dataset";
import type { ObjectPoints } from "../retrieval/point-labels.js";
import { drawRectangle, pictureRegion, regionImage, regionMask, toPicture } from "./picture-crop.js";

type Rgb = [number, number, number];

/** The colours every picture of the report uses; the page's legends name them. */
export const PICTURE_COLOURS = {
  prediction: [255, 140, 0] as Rgb,
  truth: [255, 255, 255] as Rgb,
  truthEdge: [0, 0, 0] as Rgb,
  extreme: [255, 230, 0] as Rgb,
  foreground: [30, 210, 60] as Rgb,
  background: [230, 30, 30] as Rgb,
  box: [255, 255, 255] as Rgb,
};

/** Longer side of every picture (small objects are enlarged to it, big ones reduced). */
export const PICTURE_SIDE = 192;

/**
 * An object's pseudo mask (orange fill and contour) and ground truth (white outline with a dark
 * inner edge, readable on any texture) on a crop around its box, with its extreme points.
 */
export function maskPicture(
  image: RgbImage,
  points: ExtremePoints,
  mask: BinaryMask | undefined,
  truth: BinaryMask | undefined,
): RgbImage {
  const region = pictureRegion(image, boxFromExtremePoints(points), PICTURE_SIDE);
  let picture = regionImage(image, region);
  if (mask)
    picture = drawMasks(picture, [{ mask: regionMask(mask, region), colour: PICTURE_COLOURS.prediction }], {
      alpha: 0.45,
      contour: 3,
    });
  // Thinner than the prediction's contour, so a perfect mask still shows an orange band inside it.
  if (truth) {
    const t = regionMask(truth, region);
    picture = drawMasks(picture, [{ mask: t, colour: PICTURE_COLOURS.truthEdge }], { alpha: 0, contour: 2 });
    picture = drawMasks(picture, [{ mask: t, colour: PICTURE_COLOURS.truth }], { alpha: 0, contour: 1 });
  }
  return drawPoints(
    picture,
    points.map((p) => toPicture(region, p)),
    { radius: 4, colour: PICTURE_COLOURS.extreme },
  );
}

/** Retrieved points of one object (patch centres) with its box and extreme points, on a crop around the box. */
export function pointsPicture(image: RgbImage, points: ExtremePoints, retrieved: ObjectPoints): RgbImage {
  const box = boxFromExtremePoints(points);
  const region = pictureRegion(image, box, PICTURE_SIDE);
  const at = (p: Point) => toPicture(region, p);
  // The box's edges lie half a pixel outside its extreme pixels' centres.
  let picture = drawRectangle(
    regionImage(image, region),
    at([box.x0 - 0.5, box.y0 - 0.5]),
    at([box.x1 - 0.5, box.y1 - 0.5]),
    PICTURE_COLOURS.box,
    2,
  );
  picture = drawPoints(picture, retrieved.background.map(at), { radius: 3, colour: PICTURE_COLOURS.background });
  picture = drawPoints(picture, retrieved.foreground.map(at), { radius: 3, colour: PICTURE_COLOURS.foreground });
  return drawPoints(picture, points.map(at), { radius: 4, colour: PICTURE_COLOURS.extreme });
}
