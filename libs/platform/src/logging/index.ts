// The one JSON logger lives in @exits/base; services reach it through the platform too.
export { JsonLogger } from "@exits/base";
