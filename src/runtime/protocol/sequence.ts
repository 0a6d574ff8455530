/**
 * Where a thread's protocol events get their `seq`: stored with each event, never counted in one
 * process's memory. An attempt of a protocol run numbers its events from `seq_base`, taken when
 * it starts (epoch ms × SEQ_PER_MS, stored in its `metadata` event); each event stores its own
 * `seq`, and the run's end takes the next one. A thread's runs execute one after another, so a
 * later run's base is past an earlier run's events as long as a run writes fewer than
 * SEQ_PER_MS events per millisecond it lasts. Numbers stay below 2^53 until the year 2255.
 */
export const SEQ_PER_MS = 1000;

export function protocolSeqBase(now: number = Date.now()): number {
  return now * SEQ_PER_MS;
}
