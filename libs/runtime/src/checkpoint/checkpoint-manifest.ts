import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export const checkpointFormat = "exits-checkpoint";
export const checkpointFormatVersion = 1;

/** What `manifest.json` records; its presence marks a checkpoint complete (it is written last). */
export interface CheckpointManifest {
  readonly format: typeof checkpointFormat;
  readonly version: number;
  readonly step: number;
  readonly createdAt: string;
  /** Every other file of the checkpoint, with size and SHA-256, so corruption is detected on load. */
  readonly files: Readonly<Record<string, { readonly bytes: number; readonly sha256: string }>>;
  /** Versions of what produced it (node, onnxruntime, ...), for the record. */
  readonly producer: Readonly<Record<string, string>>;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export function parseManifest(text: string): CheckpointManifest {
  const m = JSON.parse(text) as CheckpointManifest;
  if (m?.format !== checkpointFormat) throw new Error(`not an ${checkpointFormat} manifest`);
  if (m.version !== checkpointFormatVersion) throw new Error(`unsupported checkpoint version ${m.version}`);
  if (!Number.isSafeInteger(m.step) || m.step < 0) throw new Error(`invalid step ${m.step}`);
  return m;
}
