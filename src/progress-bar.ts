/** A one-line progress bar on a terminal (stderr), for the data commands; nothing elsewhere. */
import type { ArchiveKind } from "./storage/types.js";

const WIDTH = 30;
const REDRAW_MS = 100;

export type ProgressBar = ((kind: ArchiveKind, done: number, total: number) => void) | undefined;

export function progressBar(verb: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (!stream.isTTY) return undefined;
  let lastDraw = 0;
  return (kind, done, total) => {
    const now = Date.now();
    const complete = done >= total;
    if (!complete && now - lastDraw < REDRAW_MS) return;
    lastDraw = now;
    const ratio = total ? Math.min(1, done / total) : 1;
    const filled = Math.round(ratio * WIDTH);
    const bar = "#".repeat(filled) + "-".repeat(WIDTH - filled);
    const line = `${verb} ${kind.padEnd(17)} [${bar}] ${done.toLocaleString("en")}/${total.toLocaleString("en")}`;
    stream.write(`\r${line}\x1b[K${complete ? "\n" : ""}`);
  };
}
