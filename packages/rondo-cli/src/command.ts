/** The shape of a subcommand, shared by main.ts (which loads them) and commands/*.ts. */

/** A subcommand: its one-line summary, its --help text, and its runner (returns the exit code). */
export interface Command {
  /** One line for the top-level help. */
  summary: string;
  /** Full --help text, with an example. */
  help: string;
  /** Runs the command with the arguments after its name. */
  run(args: string[]): Promise<number>;
}
