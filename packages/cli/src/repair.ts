/**
 * `rewrap --mode repair --from K`: what to do to one message so that every region of K opens
 * it (issue 18.2). The regions a message lacks come from its header alone (dr-keyring.ts, the
 * same judgement as dr-report), so a message that lacks nothing is "already done" without a
 * KMS call: a second run changes nothing.
 *
 * - Unsigned suites, header-only: the data key (unwrapped through any region of K) is wrapped
 *   under the missing regions' keys only, and those EDKs are added; the body is untouched.
 * - Signed suites sign their header, so they are re-encrypted (streamed, any size) under a new
 *   data key wrapped in every region of K. EDKs that are not K's cannot be carried over to a
 *   new data key, so such a message is refused rather than stripped of them.
 */
import { EnvelopeError, type Keyring, type ParsedHeader, type RewrapMode } from '@envelope/core';
import type { DrKeyring } from './dr-keyring.js';

/** One message's repair: the rewrap to run, and the regions that must each open the result. */
export interface RepairStep {
  readonly mode: RewrapMode;
  readonly to: Keyring[];
  /** The regions the message lacked. */
  readonly missing: readonly string[];
  /** Each must open the rewrapped message on its own before it replaces the original. */
  readonly proveRegions: readonly string[];
}

/** The repair a message needs, or undefined when every region of K opens it already. */
export function repairStep(k: DrKeyring, header: ParsedHeader): RepairStep | undefined {
  const { missing, foreign } = k.coverage(header.encryptedDataKeys);
  if (missing.length === 0) return undefined;
  if (!header.suite.signature) return { mode: 'add', to: [k.through(missing)], missing, proveRegions: missing };
  if (foreign > 0) {
    throw new EnvelopeError(
      'ENVELOPE_REWRAP_REFUSED',
      `a signed message is repaired by re-encrypting it, and ${foreign} of its encrypted data keys are not the keyring's: they would be lost (rewrap it with --mode replace --to naming every keyring to keep)`,
    );
  }
  return { mode: 'replace', to: [k.through(k.regions)], missing, proveRegions: k.regions };
}

/** The rewrapped header must leave nothing of K missing (checked before any KMS call proves it). */
export function assertRepaired(k: DrKeyring, header: ParsedHeader): void {
  const { missing } = k.coverage(header.encryptedDataKeys);
  if (missing.length > 0)
    throw new EnvelopeError('ENVELOPE_REWRAP_REFUSED', `the repaired header still lacks ${missing.join(',')}; the original is kept`);
}
