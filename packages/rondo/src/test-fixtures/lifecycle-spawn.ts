// Starting the lifecycle tests' child processes (lifecycle-child.ts) ahead of need: loading Node
// and rondo takes most of a second on a loaded machine, so the next child loads while the
// current one runs, and is then started by one line on its stdin.
import { fileURLToPath } from 'node:url';
import { Child } from './helpers.js';

/** Absolute path of the compiled lifecycle child fixture. */
export const LIFECYCLE_CHILD = fileURLToPath(new URL('./lifecycle-child.js', import.meta.url));

/** Children of lifecycle-child.js with the same arguments, each loaded before it is needed. */
export class ChildPool {
  private spare: Child | undefined;

  constructor(private readonly args: readonly string[]) {}

  /** Starts a loaded child with `line` (its seed or operations) and loads the next one behind it. */
  async start(line: string): Promise<Child> {
    const child = this.spare ?? new Child(this.args, LIFECYCLE_CHILD);
    this.spare = new Child(this.args, LIFECYCLE_CHILD);
    await child.waitFor('loaded', 30_000);
    child.proc.stdin.write(`${line}\n`);
    return child;
  }

  /** Kills the spare. */
  async close(): Promise<void> {
    await this.spare?.kill();
    this.spare = undefined;
  }
}
