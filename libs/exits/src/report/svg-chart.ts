/** One line of a chart. */
export interface Series {
  name: string;
  points: [x: number, y: number][];
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

/** "Nice" tick values (1, 2, 5 × 10^k steps) covering [lo, hi]. */
export function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw * (1 - 1e-9)) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(6)));
  return out;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
const label = (t: number) => (Math.abs(t) >= 1e4 || (t !== 0 && Math.abs(t) < 1e-3) ? t.toExponential(0) : String(t));

/**
 * A line chart as inline SVG: a title, a legend row under it (outside the plot, so it never hides
 * a curve), a y axis from min(0, data) with grid lines, an x axis with ticks and its label.
 */
export function lineChart(title: string, series: readonly Series[], xLabel: string, width = 560, height = 280): string {
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  if (all.length === 0) return `<p class="note">${esc(title)}: no steps recorded.</p>`;
  const pad = { l: 52, r: 16, t: 46, b: 38 };
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs, x0 + 1);
  const y0 = Math.min(0, ...ys);
  const y1 = Math.max(...ys) > y0 ? Math.max(...ys) * 1.05 : y0 + 1;
  const X = (x: number) => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const Y = (y: number) => height - pad.b - ((y - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" class="chart" role="img" aria-label="${esc(title)}">`,
    `<text x="${pad.l}" y="16" class="title">${esc(title)}</text>`,
  ];
  let lx = pad.l;
  series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length];
    parts.push(
      `<rect x="${lx}" y="27" width="14" height="3" fill="${c}"/><text x="${lx + 18}" y="32">${esc(s.name)}</text>`,
    );
    lx += 30 + 6.5 * s.name.length;
  });
  for (const t of ticks(y0, y1)) {
    parts.push(
      `<line x1="${pad.l}" x2="${width - pad.r}" y1="${Y(t).toFixed(1)}" y2="${Y(t).toFixed(1)}" class="grid"/>`,
    );
    parts.push(`<text x="${pad.l - 6}" y="${(Y(t) + 4).toFixed(1)}" text-anchor="end">${label(t)}</text>`);
  }
  for (const t of ticks(x0, x1, 6)) {
    const x = X(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${height - pad.b}" y2="${height - pad.b + 4}" class="axis"/>`);
    parts.push(`<text x="${x}" y="${height - pad.b + 16}" text-anchor="middle">${label(t)}</text>`);
  }
  parts.push(`<text x="${(pad.l + width - pad.r) / 2}" y="${height - 4}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<line x1="${pad.l}" x2="${pad.l}" y1="${pad.t}" y2="${height - pad.b}" class="axis"/>`);
  parts.push(`<line x1="${pad.l}" x2="${width - pad.r}" y1="${height - pad.b}" y2="${height - pad.b}" class="axis"/>`);
  series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length];
    const pts = s.points.filter(([, y]) => Number.isFinite(y)).map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="1.6" points="${pts.join(" ")}"/>`);
  });
  parts.push("</svg>");
  return parts.join("");
}
