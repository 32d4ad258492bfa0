import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ServiceMetrics } from "./service-metrics.js";

describe("ServiceMetrics", () => {
  test("no metric but a counter ends in _total (Prometheus reserves the suffix for counters)", async () => {
    const metrics = new ServiceMetrics("probe");
    const all = await metrics.registry.getMetricsAsJSON();
    assert.ok(all.length > 10, `${all.length} metrics`);
    const misnamed = all.filter((m) => m.name.endsWith("_total") && String(m.type) !== "counter").map((m) => m.name);
    assert.deepEqual(misnamed, []);
    assert.ok(all.some((m) => m.name === "exits_grpc_server_started_total" && String(m.type) === "counter"));
  });

  test("the renamed active-handle gauges still report the process's counts", async () => {
    const metrics = new ServiceMetrics("probe");
    const text = await metrics.registry.metrics();
    for (const kind of ["resources", "handles", "requests"]) {
      assert.doesNotMatch(text, new RegExp(`exits_nodejs_active_${kind}_total`));
      const sample = new RegExp(`^exits_nodejs_active_${kind}_all\\{service="probe"\\} (\\d+)$`, "m").exec(text);
      assert.ok(sample, `exits_nodejs_active_${kind}_all missing`);
      if (kind === "resources") assert.ok(Number(sample[1]) > 0, "a running process has active resources");
    }
  });
});
