/**
 * Probe for a full TypeScript loader (tsx, or vitest's transform). It uses what graph files
 * commonly rely on and plain type stripping does not provide: an `enum` and a ".js" import that
 * exists only as ".ts". If importing this fails, the registry registers tsx's ESM hooks.
 */
import { marker } from "./marker.js";

enum Probe {
  Ok = 1,
}

export const probe: number = Probe.Ok + marker;
