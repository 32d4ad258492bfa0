import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultExecutionProvider, defaultIntraOpThreads } from "@exits/base";
import { loadServiceConfig } from "@exits/platform";
import { resolveRuntimeConfig } from "@exits/runtime";

test("a service that sets nothing and a library caller that sets nothing get the same sessions", () => {
  const library = resolveRuntimeConfig();
  const service = loadServiceConfig("mask", 50055, {});
  assert.deepEqual(
    [service.executionProvider, service.intraOpThreads],
    [library.executionProvider, library.intraOpNumThreads],
  );
  assert.deepEqual(
    [library.executionProvider, library.intraOpNumThreads],
    [defaultExecutionProvider, defaultIntraOpThreads],
  );
});
