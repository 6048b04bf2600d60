// Argument rules shared by the store, drain and push: each rule written once.
import { RondoError } from './errors.js';

/** Throws ERR_RONDO_INVALID_ARGUMENT unless `options` is undefined or an object; `example` shows one. */
export function checkOptions(what: string, options: unknown, example: string): void {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new RondoError('ERR_RONDO_INVALID_ARGUMENT', `${what}: options must be an object like ${example}`);
  }
}

/**
 * A tier index: a whole number ≥ 0 that `exists` accepts; ERR_RONDO_INVALID_TIER otherwise,
 * with `have` saying which tiers there are (e.g. "schema vm has tiers 0..2").
 */
export function checkTier(what: string, tier: unknown, exists: (t: number) => boolean, have: string): number {
  if (typeof tier !== 'number' || !Number.isInteger(tier) || tier < 0 || !exists(tier)) {
    throw new RondoError(
      'ERR_RONDO_INVALID_TIER',
      `${what}: tier ${JSON.stringify(tier)} does not exist (${have})`,
    );
  }
  return tier;
}

/** Default of {@link checkMaxSamples}. */
export const DEFAULT_MAX_SAMPLES = 10_000;

/** A batch bound: a whole number ≥ 1 (default 10 000); ERR_RONDO_INVALID_ARGUMENT otherwise. */
export function checkMaxSamples(what: string, value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_SAMPLES;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new RondoError(
      'ERR_RONDO_INVALID_ARGUMENT',
      `${what}: maxSamples must be a whole number ≥ 1, got ${String(value)}`,
    );
  }
  return value;
}

/** A query bound in ms (finite number, or undefined for "open"); ERR_RONDO_INVALID_RANGE otherwise. */
export function checkTime(what: string, name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RondoError(
      'ERR_RONDO_INVALID_RANGE',
      `${what}: ${name} must be a finite number of ms, got ${String(value)}`,
    );
  }
  return value;
}
