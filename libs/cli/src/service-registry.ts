import type { GrpcServiceSpec } from "@exits/platform";

/** The six services, in pipeline order. */
export const SERVICE_NAMES = ["similarity", "retrieval", "trainer", "crf", "mask", "exporter"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export function isServiceName(name: string): name is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(name);
}

/** Loads one service's spec on demand, so `exits serve mask` does not load the trainer's code. */
export async function loadServiceSpec(name: ServiceName): Promise<GrpcServiceSpec> {
  switch (name) {
    case "similarity":
      return (await import("@exits/service-similarity")).SIMILARITY_SERVICE_SPEC;
    case "retrieval":
      return (await import("@exits/service-retrieval")).RETRIEVAL_SERVICE_SPEC;
    case "trainer":
      return (await import("@exits/service-trainer")).TRAINER_SERVICE_SPEC;
    case "crf":
      return (await import("@exits/service-crf")).CRF_SERVICE_SPEC;
    case "mask":
      return (await import("@exits/service-mask")).MASK_SERVICE_SPEC;
    case "exporter":
      return (await import("@exits/service-exporter")).EXPORTER_SERVICE_SPEC;
  }
}
