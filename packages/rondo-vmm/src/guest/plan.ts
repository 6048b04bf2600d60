/**
 * The guest's workload plan: four phases (CPU burst, idle, I/O, mixed) whose lengths are
 * fixed fractions of the VM's lifetime. The host computes it and passes it on the kernel
 * command line (`rondo.plan=cpu:150,idle:100,io:150,mixed:100`, in centiseconds), so the
 * guest's shell only has to run it.
 */
import { VmmError } from '../errors.js';

/** The workload phases, in the order they run. */
export const PHASES = ['cpu', 'idle', 'io', 'mixed'] as const;

/** One workload phase. */
export type PhaseName = (typeof PHASES)[number];

/**
 * What `vm_guest_phase` records: 0 while init prepares, 1–4 the phases in order, 5 once the
 * workload is done (the guest is powering off).
 */
export const PHASE_CODES: Readonly<Record<PhaseName | 'init' | 'done', number>> = {
  init: 0,
  cpu: 1,
  idle: 2,
  io: 3,
  mixed: 4,
  done: 5,
};

/** Share of the lifetime each phase gets. */
const SHARES: Readonly<Record<PhaseName, number>> = { cpu: 0.3, idle: 0.2, io: 0.3, mixed: 0.2 };

/** Shortest lifetime: every phase must get at least a few tenths of a second. */
export const MIN_LIFETIME_MS = 2000;
/** Longest lifetime (a week); a longer-lived VM is not what this manager is for. */
export const MAX_LIFETIME_MS = 7 * 86_400_000;

/** One phase of a plan. */
export interface PlannedPhase {
  /** Which phase. */
  name: PhaseName;
  /** Its length in centiseconds (the guest's timer unit). */
  centis: number;
}

/**
 * The plan for a VM that lives `lifetimeMs`: the four phases in order, in centiseconds,
 * summing exactly to the lifetime (rounded to 10 ms). Throws ERR_VMM_USAGE outside
 * {@link MIN_LIFETIME_MS}..{@link MAX_LIFETIME_MS}.
 */
export function planWorkload(lifetimeMs: number): PlannedPhase[] {
  if (!Number.isFinite(lifetimeMs) || lifetimeMs < MIN_LIFETIME_MS || lifetimeMs > MAX_LIFETIME_MS)
    throw new VmmError(
      'ERR_VMM_USAGE',
      `a VM's lifetime must be between ${MIN_LIFETIME_MS / 1000} s and 7 days, got ${lifetimeMs} ms`,
    );
  const total = Math.round(lifetimeMs / 10);
  const plan: PlannedPhase[] = [];
  let used = 0;
  for (const name of PHASES) {
    // The last phase takes the rest, so rounding never changes the total.
    const centis = name === 'mixed' ? total - used : Math.round(total * SHARES[name]);
    plan.push({ name, centis });
    used += centis;
  }
  return plan;
}

/** The plan as the guest reads it from its kernel command line: `cpu:150,idle:100,…`. */
export function encodePlan(plan: readonly PlannedPhase[]): string {
  return plan.map((p) => `${p.name}:${p.centis}`).join(',');
}
