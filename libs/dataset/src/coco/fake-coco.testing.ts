import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { Rng } from "@exits/graph";

/** Size of a generated COCO-like file; train2017 is ≈ 118 k images, 860 k annotations. */
export interface FakeCocoSize {
  images: number;
  annotations: number;
  seed?: number;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/**
 * Writes a COCO-instances-like file shaped like the official ones: compact JSON, keys in the
 * official order (info, licenses, images, annotations, categories last), star-shaped polygons
 * with 2-decimal coordinates (8–40 vertices, one or two parts), every 100th annotation a crowd
 * region with plain-counts RLE, and strings with escapes and non-ASCII text. Streams its output,
 * so train2017-sized files (≈ 450 MB) need no memory. Returns the byte size.
 */
export async function writeFakeCocoFile(path: string, size: FakeCocoSize): Promise<number> {
  const rand = new Rng(size.seed ?? 1).next;
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let bytes = 0;
  let buffer = "";
  const write = async (s: string) => {
    buffer += s;
    if (buffer.length < 1 << 20) return;
    bytes += Buffer.byteLength(buffer);
    if (!out.write(buffer)) await once(out, "drain");
    buffer = "";
  };
  await write(
    `{"info":{"description":"fake COCO \\"train\\" — généré","year":2017},"licenses":[{"id":1,"name":"CC BY 4.0","url":"http:\\/\\/x"}],"images":[`,
  );
  for (let i = 0; i < size.images; i++) {
    const image = {
      license: 1,
      file_name: `${String(i + 1).padStart(12, "0")}.jpg`,
      height: 480,
      width: 640,
      id: i + 1,
    };
    await write(`${i ? "," : ""}${JSON.stringify(image)}`);
  }
  await write(`],"annotations":[`);
  for (let i = 0; i < size.annotations; i++) {
    const imageId = 1 + Math.floor(rand() * size.images);
    const cx = 40 + rand() * 560;
    const cy = 40 + rand() * 400;
    const radius = 5 + rand() * 35;
    const crowd = i % 100 === 99;
    let segmentation: unknown;
    if (crowd) {
      const counts: number[] = [Math.floor(rand() * 1000)];
      let total = counts[0]!;
      while (total < 480 * 640 - 1000) {
        const run = 1 + Math.floor(rand() * 500);
        counts.push(run);
        total += run;
      }
      counts.push(480 * 640 - total);
      segmentation = { counts, size: [480, 640] };
    } else {
      const parts = rand() < 0.1 ? 2 : 1;
      segmentation = Array.from({ length: parts }, (_, p) => {
        const k = 8 + Math.floor(rand() * 33);
        const poly: number[] = [];
        for (let j = 0; j < k; j++) {
          const angle = (2 * Math.PI * j) / k;
          const r = radius * (0.5 + 0.5 * rand());
          poly.push(round2(cx + p * radius * 2 + r * Math.cos(angle)), round2(cy + r * Math.sin(angle)));
        }
        return poly;
      });
    }
    const annotation = {
      segmentation,
      area: round2(Math.PI * radius * radius * 0.6),
      iscrowd: crowd ? 1 : 0,
      image_id: imageId,
      bbox: [round2(cx - radius), round2(cy - radius), round2(2 * radius), round2(2 * radius)],
      category_id: 1 + Math.floor(rand() * 80),
      id: i + 1,
    };
    await write(`${i ? "," : ""}${JSON.stringify(annotation)}`);
  }
  await write(`],"categories":[`);
  for (let c = 1; c <= 80; c++)
    await write(`${c > 1 ? "," : ""}{"supercategory":"thing","id":${c},"name":"class ${c} ☃"}`);
  await write("]}");
  bytes += Buffer.byteLength(buffer);
  out.end(buffer);
  await once(out, "finish");
  return bytes;
}
