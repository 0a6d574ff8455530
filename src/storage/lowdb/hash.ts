/** FNV-1a (32 bit) of a string's UTF-16 code units: stable across runs and platforms. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Which of `count` shards a key belongs to. */
export function shardOf(key: string, count: number): number {
  return fnv1a(key) % count;
}
