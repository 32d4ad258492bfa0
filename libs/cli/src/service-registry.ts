import { SERVICE_PROTOS, type ServiceShortName } from "@exits/contracts";
import type { GrpcServiceSpec } from "@exits/platform";

export type ServiceName = ServiceShortName;

/** The six services, in pipeline order (the order of the contracts' service table). */
export const SERVICE_NAMES = Object.keys(SERVICE_PROTOS) as readonly ServiceName[];

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
