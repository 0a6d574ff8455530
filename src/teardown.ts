/**
 * What a server opened, undone newest first: by a startup that fails halfway (only what was
 * opened so far) and by `close()` (SIGTERM, SIGINT, a reload, tests), from one list.
 */
export class Teardown {
  readonly #steps: Array<{ name: string; undo: () => Promise<void> | void }> = [];

  /** Registers how to undo what was just opened. */
  add(name: string, undo: () => Promise<void> | void): void {
    this.#steps.push({ name, undo });
  }

  /**
   * Undoes everything registered, newest first. A step that fails does not stop the others; the
   * first failure is thrown once all ran, naming its step.
   */
  async run(): Promise<void> {
    let failure: Error | undefined;
    for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
      try {
        await step.undo();
      } catch (error) {
        failure ??= new Error(`closing the ${step.name} failed: ${(error as Error).message}`, { cause: error });
      }
    }
    if (failure) throw failure;
  }
}
