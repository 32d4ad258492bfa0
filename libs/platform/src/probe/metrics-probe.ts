/** Fetches a Prometheus text exposition from `http://host:port/metrics`. */
export async function scrapeMetrics(host: string, port: number): Promise<string> {
  const response = await fetch(`http://${host}:${port}/metrics`);
  if (!response.ok) throw new Error(`GET /metrics on ${host}:${port} answered ${response.status}`);
  return response.text();
}

/** The value of one sample line, e.g. `exits_grpc_server_handling_seconds_count{...}`; undefined when absent. */
export function metricSample(exposition: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of exposition.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const open = line.indexOf("{");
    const close = line.lastIndexOf("}");
    const labelText = open >= 0 ? line.slice(open + 1, close) : "";
    const present = Object.fromEntries([...labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) {
      return Number(line.slice((close >= 0 ? close : name.length) + 1).trim());
    }
  }
  return undefined;
}
