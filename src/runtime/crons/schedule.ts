import { Cron as CronPattern } from "croner";
import { invalid } from "../../errors.js";

/**
 * The next moment a schedule fires strictly after `after`: 5-field cron expressions (minute
 * precision) or 6 fields with leading seconds, evaluated in `timezone` (IANA name; UTC when null).
 * Null when the schedule never fires again.
 */
export function nextFiring(schedule: string, timezone: string | null, after: Date): Date | null {
  return new CronPattern(schedule, { timezone: timezone ?? "UTC", paused: true }).nextRun(after);
}

/** Rejects a schedule or time zone that cannot be evaluated, naming the field. */
export function checkSchedule(schedule: string, timezone: string | null): void {
  try {
    new CronPattern(schedule, { paused: true });
  } catch (error) {
    throw invalid(`body.schedule: ${(error as Error).message}`);
  }
  if (timezone !== null) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    } catch {
      throw invalid(`body.timezone: unknown time zone '${timezone}'`);
    }
  }
}
