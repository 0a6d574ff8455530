import { isNotFound } from "../../errors.js";
import type { Logger } from "pino";
import type { Cron, Storage } from "../../storage/types.js";
import { Alarm } from "../alarm.js";
import { LocalCluster, type Cluster } from "../cluster.js";
import { nextFiring } from "./schedule.js";

/** Starts the run of one firing of a cron (a thread run, or a run on a new thread). */
export type CronLauncher = (cron: Cron) => Promise<void>;

/**
 * Fires crons on an alarm set to the earliest `next_run_date`.
 *
 * Each firing first stores the cron's following `next_run_date`, then launches the run: a crash
 * between the two loses that one firing rather than repeating it. Missed ticks: a cron whose
 * `next_run_date` passed while no server ran fires once at startup (all its missed ticks count as
 * that one firing), then follows its schedule from the present.
 *
 * Several processes: a firing happens under the cluster's "crons" lock, and reads what is due
 * only once it holds it, so each tick fires once whichever processes' alarms ring; `nudge`
 * reaches every process, so a cron keeps firing when the process that created it is gone.
 */
export class CronScheduler {
  readonly #alarm: Alarm;
  #launch: CronLauncher | null = null;
  #unlisten: () => void = () => {};

  constructor(
    private readonly storage: Storage,
    private readonly logger: Logger,
    private readonly cluster: Cluster = new LocalCluster(),
    /** Whether 6-field schedules (seconds first) are accepted (`--cron-seconds`). */
    readonly allowsSeconds = false,
  ) {
    this.#alarm = new Alarm(
      () => cluster.exclusive("crons", () => this.#fireDue()),
      (error) => logger.error({ err: error }, "cron scheduling failed"),
    );
  }

  /** Fires what is due (including ticks missed while no server ran), then follows the schedules. */
  async start(launch: CronLauncher): Promise<void> {
    this.#launch = launch;
    this.#unlisten = await this.cluster.on("crons", (at) => this.#alarm.armAt(Number(at)));
    return this.#alarm.ringNow();
  }

  /** A cron was created or changed: its next firing may be the earliest (in every process). */
  nudge(cron: Cron): void {
    if (cron.enabled && cron.next_run_date) this.cluster.broadcast("crons", String(Date.parse(cron.next_run_date)));
  }

  stop(): Promise<void> {
    this.#unlisten();
    return this.#alarm.stop();
  }

  async #fireDue(): Promise<number> {
    const now = new Date();
    let earliest = Infinity;
    for (const cron of await this.storage.crons.enabled()) {
      if (!cron.next_run_date) continue;
      let due = Date.parse(cron.next_run_date);
      if (due <= now.getTime()) {
        const following = followingFiring(cron, now);
        try {
          await this.storage.crons.update(cron.cron_id, { next_run_date: following?.toISOString() ?? null });
        } catch (error) {
          if (isNotFound(error)) continue; // deleted meanwhile
          throw error;
        }
        await this.#launch!(cron).catch((error: unknown) =>
          this.logger.error({ err: error, cron_id: cron.cron_id }, "cron run could not be started"),
        );
        due = following ? following.getTime() : Infinity;
      }
      earliest = Math.min(earliest, due);
    }
    return earliest;
  }
}

/** The firing after `now`, or null once the cron's end time is passed. */
export function followingFiring(cron: Pick<Cron, "schedule" | "timezone" | "end_time">, now: Date): Date | null {
  const next = nextFiring(cron.schedule, cron.timezone, now);
  if (!next) return null;
  if (cron.end_time && next.getTime() > Date.parse(cron.end_time)) return null;
  return next;
}
