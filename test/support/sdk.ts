/**
 * SDK caller options for tests: requests go out at once. The SDK queues a Client's requests beyond
 * 4 at a time by default (`maxConcurrency`), which would turn a test's racing requests into turns.
 */
export const UNQUEUED = { maxConcurrency: Number.POSITIVE_INFINITY };
