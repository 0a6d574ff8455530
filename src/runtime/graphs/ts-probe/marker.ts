// Imported as "./marker.js" by probe.ts: resolving it needs tsx-style .js -> .ts mapping.
export const marker: number = 1;
