import type { Progress } from "@exits/exits";

const WIDTH = 28;

function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "--:--";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h ? `${h}h${String(m).padStart(2, "0")}m` : `${m}:${String(r).padStart(2, "0")}`;
}

/** One line: stage, bar, count, ETA, rate and the stage's figures (losses, lr). */
export function formatProgress(p: Progress): string {
  const frac = p.total ? p.done / p.total : 1;
  const full = Math.round(frac * WIDTH);
  const bar = "█".repeat(full) + "░".repeat(WIDTH - full);
  const rate =
    p.itemsPerSecond === undefined ? "" : `  ${p.itemsPerSecond.toFixed(1)} ${p.unit === "steps" ? "crops" : p.unit}/s`;
  const detail = Object.entries(p.detail ?? {})
    .map(([k, v]) => `${k} ${typeof v === "number" ? (Number.isInteger(v) ? v : v.toPrecision(3)) : v}`)
    .join("  ");
  return `${p.stage.padEnd(10)} ${bar} ${p.done}/${p.total} ${p.unit}  ETA ${duration(p.etaSeconds)}${rate}${detail ? `  ${detail}` : ""}`;
}

/**
 * Progress on stderr: redrawn in place on a terminal (at most 10 times a second), one line every
 * `intervalMs` otherwise (logs, CI), and always the final line of each stage.
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr, intervalMs = 5000): (p: Progress) => void {
  let last = 0;
  let lastStage = "";
  return (p) => {
    const now = Date.now();
    const finished = p.done >= p.total;
    const tty = stream.isTTY === true;
    if (p.stage !== lastStage) last = 0;
    lastStage = p.stage;
    if (!finished && now - last < (tty ? 100 : intervalMs)) return;
    last = now;
    const line = formatProgress(p);
    if (tty) stream.write(`\r\x1b[2K${line.slice(0, (stream.columns ?? 160) - 1)}${finished ? "\n" : ""}`);
    else stream.write(`${line}\n`);
  };
}
