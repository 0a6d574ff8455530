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

/** `@daily` and its kin, which croner and LangGraph Platform's cron parser both read. */
const NICKNAME = /^@(yearly|annually|monthly|weekly|daily|hourly)$/i;

/**
 * Rejects a schedule or time zone that cannot be evaluated, naming the field. A schedule has the
 * standard 5 fields, as LangGraph Platform documents them; 6 (seconds first) only with
 * `allowSeconds` (`--cron-seconds`): the Platform does not document them, and its parser would
 * read a sixth field as seconds at the end.
 */
export function checkSchedule(schedule: string, timezone: string | null, allowSeconds = false): void {
  const fields = schedule.trim().split(/\s+/).length;
  if (!NICKNAME.test(schedule.trim()) && fields !== 5 && !(allowSeconds && fields === 6)) {
    throw invalid(
      `body.schedule: '${schedule}' has ${fields} field(s); give the 5 fields of a cron expression (minute hour day-of-month month day-of-week)` +
        (fields === 6 ? ", as LangGraph Platform takes them (6 fields with seconds need the server option --cron-seconds)" : ""),
    );
  }
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
